/**
 * `shipbatch track ID` (issue 25): where a batch's packages are. The tracking's phase, exceptions, next look
 * and deadline with the packages per status; with `--status S` the packages of that status (row, tracking
 * number, UPS's description, place, time); `--json` `{tracking, packages?}`; `--csv` the packages (all, or of
 * `--status`) with formula-like cells neutralised as `rows --csv` does. Packages are streamed from the ledger
 * a page at a time whatever the format.
 */
import { TRACKING_STATUSES, trackingWorkflowId, type TrackingStatus } from '../../domain/tracking';
import type { BatchTracking, TrackedPackage } from '../tracking';
import { ChunkedWriter, type Io } from './io';
import { clean, csvLine, jsonArrayEnd, jsonArrayItem, table, TableLayout } from './output';
import { withClient } from './sessions';

export interface TrackFlags {
  status?: TrackingStatus;
  json?: boolean;
  csv?: boolean;
}

/** The CSV's columns, one line per package. */
export const TRACK_CSV_HEADER = [
  'row',
  'tracking_number',
  'status',
  'description',
  'location',
  'status_at',
  'delivered_on',
] as const;

/** One package as a CSV line (RFC 4180, formula triggers neutralised). */
export function packageCsvLine(p: TrackedPackage): string {
  return csvLine([
    p.rowNo,
    p.trackingNumber,
    p.status,
    p.description ?? '',
    p.location ?? '',
    p.statusAt ?? '',
    p.deliveredOn ?? '',
  ]);
}

/** A package's cells in the `--status` table. */
export function packageCells(p: TrackedPackage): unknown[] {
  return [
    p.rowNo,
    p.trackingNumber,
    p.description ?? (p.lastError ? `(no answer: ${p.lastError})` : ''),
    p.location ?? '',
    p.statusAt ?? '',
    p.deliveredOn ?? '',
  ];
}

const PACKAGE_HEADERS = ['Row', 'Tracking', "UPS's description", 'Location', 'Time', 'Delivered'];

/** What the phase means, in words. */
function phaseText(t: BatchTracking): string {
  switch (t.phase) {
    case 'tracking':
      return 'tracking (packages are followed until delivered, returned or voided)';
    case 'done':
      return 'done (every package delivered, returned or voided)';
    case 'expired':
      return t.source === 'ledger' && t.workflowStatus
        ? `stopped (${t.workflowStatus.toLowerCase()}) before every package was final`
        : 'expired (trackFor passed before every package was final)';
  }
}

/** Where the state comes from: the workflow's query or result, else the ledger. */
function sourceText(t: BatchTracking): string {
  const wid = trackingWorkflowId(t.batchId);
  if (t.source === 'query') return `${wid} (running)`;
  if (t.source === 'result') return `${wid} (completed)`;
  return t.workflowStatus
    ? `the ledger (${wid} is ${t.workflowStatus.toLowerCase()})`
    : `the ledger (${wid} is no longer kept by Temporal)`;
}

/** The summary of `track ID`: phase, exceptions, looks, deadline, then packages per status. */
export function trackingLines(t: BatchTracking): string[] {
  const total = TRACKING_STATUSES.reduce((n, s) => n + t.counts[s], 0);
  const lines = [
    `Tracking of ${t.batchId}: ${total} package${total === 1 ? '' : 's'}`,
    `  phase       ${phaseText(t)}`,
    `  exceptions  ${t.exceptions}${t.exceptions > 0 ? `   (list them: shipbatch track ${t.batchId} --status exception)` : ''}`,
    `  started     ${t.startedAt}`,
  ];
  if (t.lastCheckAt) lines.push(`  last look   ${t.lastCheckAt}`);
  if (t.nextCheckAt) lines.push(`  next look   ${t.nextCheckAt}`);
  lines.push(`  ${t.phase === 'tracking' ? 'until     ' : 'ended     '}  ${t.deadline}`);
  lines.push(`  from        ${sourceText(t)}`);
  if (t.statusWriteBackError)
    lines.push(`  write-back  stopped (tracking goes on): ${clean(t.statusWriteBackError)}`);
  lines.push('');
  lines.push(
    table(
      ['Status', 'Packages'],
      TRACKING_STATUSES.map((s) => [s, t.counts[s]]),
      [1],
    ),
  );
  return lines;
}

/**
 * `{"tracking": …, "packages": [...]}` written a package at a time, byte for byte what
 * `JSON.stringify({tracking, packages}, null, 2)` prints (no `packages` when `packages` is undefined).
 */
export async function putTrackingJson(
  tracking: BatchTracking,
  packages: AsyncIterable<TrackedPackage> | undefined,
  put: (text: string) => Promise<void>,
): Promise<number> {
  const head = JSON.stringify({ tracking }, null, 2);
  if (!packages) {
    await put(`${head}\n`);
    return 0;
  }
  // The object without its closing brace, then the array one level in.
  await put(`${head.slice(0, -2)},\n  "packages": `);
  let n = 0;
  for await (const p of packages) await put(jsonArrayItem(p, n++).replace(/\n/g, '\n  '));
  await put(`${jsonArrayEnd(n).replace(/\n/g, '\n  ')}\n}\n`);
  return n;
}

/**
 * `track ID`: exit 0 with the tracking shown; 2 for an unknown batch or one without tracking (the error names
 * it and why), 1 for a failure (Temporal or PostgreSQL unreachable).
 */
export async function trackCommand(id: string, f: TrackFlags, io: Io): Promise<number> {
  return withClient(async (c) => {
    const t = await c.getTracking(id);
    const out = new ChunkedWriter(io);
    const packages = () => c.trackingPackages(t.batchId, { status: f.status });
    if (f.csv) {
      await out.put(csvLine([...TRACK_CSV_HEADER]));
      for await (const p of packages()) await out.put(packageCsvLine(p));
    } else if (f.json) {
      await putTrackingJson(t, f.status ? packages() : undefined, (text) => out.put(text));
    } else {
      await out.put(`${trackingLines(t).join('\n')}\n`);
      if (f.status) {
        const layout = new TableLayout(PACKAGE_HEADERS, [0]);
        let n = 0;
        for await (const p of packages()) {
          layout.measure(packageCells(p));
          n++;
        }
        await out.put(`\n`);
        if (n === 0) await out.put(`No package has status ${f.status}.\n`);
        else {
          await out.put(`Packages with status ${f.status} (${n}):\n${layout.head()}\n`);
          for await (const p of packages()) await out.put(`${layout.line(packageCells(p))}\n`);
          if (f.status === 'exception') {
            await out.put(
              `\nNext: contact the recipient (a wrong or incomplete address) or UPS (damage, a package held) with the tracking number; UPS's words say which.\n`,
            );
          }
        }
      }
    }
    await out.flush();
    return 0;
  });
}
