/**
 * The batch commands of the `shipbatch` CLI (docs/design.md §9): `start`, `status`, `preview` and `watch`, each
 * taking its parsed flags, talking to the client library and printing text (or `--json`). The operations,
 * lists, rows and labels, and import have modules of their own; exit codes come from the error types
 * (exit-codes.ts).
 */
import { FINAL_PHASES, type BatchInputArg, type BatchPreview, type BatchStatus } from '../../domain/batch';
import type { RowError } from '../../domain/row-error';
import type { ShipbatchClient } from '../batches';
import { formatRowError } from '../ledger';
import { afterLabelOptions, pickupQuoteText, pickupStatusText, type AfterLabelFlags } from './after-label';
import { checkSource, checkTemplateCompiles, readShipperFile, readTemplateFile } from './inputs';
import { printJson, say, type Io } from './io';
import { clean, formatMoney, outageLines, outageNext, preflightProgressText, table } from './output';
import {
  addressCell,
  addressCheckLines,
  preflightOptions,
  rateShoppingLines,
  templateCell,
  type AddressRow,
  type PreflightFlags,
} from './preflight';
import { withClient } from './sessions';
import { watchBatch } from './watch';

// ---------------------------------------------------------------- start

export interface StartFlags extends PreflightFlags, AfterLabelFlags {
  table: string;
  keyColumn?: string;
  filter?: string;
  template: string;
  shipper: string;
  mode?: 'confirm' | 'auto';
  name?: string;
  id?: string;
  previewRows?: number;
  rateAll?: boolean;
  concurrency?: number;
  wait?: boolean;
  json?: boolean;
}

/**
 * The batch options of the `start` flags, the flags checked together first: a bad combination is a
 * BatchInputError naming the flags (exit 2) before anything is read, checked or started.
 */
export function startOptions(f: StartFlags): NonNullable<BatchInputArg['options']> {
  const preflight = preflightOptions(f);
  const afterLabel = afterLabelOptions(f);
  return {
    ...(f.previewRows !== undefined ? { previewRows: f.previewRows } : {}),
    ...(f.rateAll ? { rateAll: true } : {}),
    ...(f.concurrency !== undefined ? { concurrency: f.concurrency } : {}),
    ...preflight,
    ...afterLabel,
  };
}

/** Build and check a batch input from `start` flags: files read, template compiled, table and filter checked. */
export async function prepareBatch(c: ShipbatchClient, f: StartFlags): Promise<BatchInputArg> {
  const options = startOptions(f);
  const template = await readTemplateFile(f.template);
  const shipper = await readShipperFile(f.shipper);
  await checkTemplateCompiles(f.template, template, shipper);
  const keyColumn = f.keyColumn ?? 'id';
  await checkSource(await c.pool(), { table: f.table, keyColumn, filter: f.filter });
  return {
    name: f.name,
    source: { table: f.table, keyColumn, filter: f.filter },
    template,
    shipper,
    mode: f.mode ?? 'confirm',
    options,
  };
}

export async function startCommand(f: StartFlags, io: Io): Promise<number> {
  startOptions(f); // before connecting: a bad combination of flags is the caller's (exit 2)
  return withClient(async (c) => {
    const input = await prepareBatch(c, f);
    const started = await c.startBatch(input, { id: f.id });
    if (!f.json) {
      say(io, `started ${started.batchId} (run ${started.runId})`);
      say(io, `  Web UI  ${c.webUiUrl(started.batchId)}`);
      if (!f.wait)
        say(io, `  next    shipbatch watch ${started.batchId}   (or: shipbatch preview ${started.batchId})`);
    }
    if (!f.wait) {
      if (f.json) printJson(io, started);
      return 0;
    }
    const final = await watchBatch(c, started.batchId, { show: !f.json, tty: io.tty, write: io.out });
    if (f.json) printJson(io, { ...started, status: final });
    else printFinal(io, final);
    return final.phase === 'completed' ? 0 : 1;
  });
}

// ---------------------------------------------------------------- status / preview

function printCounts(io: Io, s: BatchStatus): void {
  const c = s.counts;
  say(
    io,
    table(
      ['total', 'invalid', 'pending', 'in flight', 'shipped', 'failed', 'review', 'cancelled', 'voided'],
      [
        [
          c.total,
          c.invalid,
          c.pending,
          c.inFlight,
          c.shipped,
          c.failed,
          c.needsReview,
          c.cancelled,
          c.voided,
        ],
      ],
      [0, 1, 2, 3, 4, 5, 6, 7, 8],
    ),
  );
}

export function printStatus(io: Io, s: BatchStatus): void {
  say(io, `${s.batchId}${s.name && s.name !== s.batchId ? ` (${clean(s.name)})` : ''}`);
  say(io, `  phase     ${s.phase}`);
  if (s.upsOutage) for (const line of outageLines(s.upsOutage, s.batchId)) say(io, line);
  say(io, `  mode      ${s.mode}${s.modeLocked ? ' (locked)' : ''}`);
  say(io, `  estimate  ${formatMoney(s.estimatedCostCents, s.currency)}`);
  say(io, `  shipped   ${formatMoney(s.actualCostCents, s.currency)} so far`);
  if (s.approval) say(io, `  approved  by ${clean(s.approval.by)} at ${s.approval.at}`);
  if (s.previewHash) say(io, `  preview   ${s.previewHash}`);
  const preflight = preflightProgressText(s.preflight);
  if (preflight) say(io, `  preflight ${preflight}`);
  if (s.pickup) say(io, `  pickup    ${pickupStatusText(s.pickup, s.currency)}`);
  if (s.error) say(io, `  note      ${clean(s.error)}`);
  const extra = s.extraShipments;
  if (extra) {
    say(
      io,
      `  extra     ${extra.found} extra shipment(s) made by UPS for rows that already had one: ${extra.voided} voided` +
        (extra.notVoided > 0 ? `, ${extra.notVoided} NOT voided (see shipbatch rows ${s.batchId})` : ''),
    );
  }
  say(io, `  updated   ${s.updatedAt}`);
  say(io);
  printCounts(io, s);
  if (s.rejectedMessages.length > 0) {
    say(io);
    say(io, 'Refused messages:');
    for (const m of s.rejectedMessages.slice(-10)) say(io, `  ${m.at}  ${m.name}: ${clean(m.reason)}`);
  }
}

function printFinal(io: Io, s: BatchStatus): void {
  say(io);
  say(
    io,
    `${s.batchId}: ${s.phase} — ${s.counts.shipped} shipped, ${s.counts.failed} failed, ${s.counts.invalid} invalid, ` +
      `${s.counts.cancelled} cancelled; cost ${formatMoney(s.actualCostCents, s.currency)}`,
  );
}

export async function statusCommand(id: string, f: { json?: boolean }, io: Io): Promise<number> {
  return withClient(async (c) => {
    const s = await c.getBatch(id);
    if (f.json) printJson(io, s);
    else printStatus(io, s);
    return 0;
  });
}

/** Why `preview` has nothing to show: closed, still loading, or UPS rated no row (and who acts). */
export function noPreviewReason(s: BatchStatus): string {
  if (FINAL_PHASES.has(s.phase)) return `the batch closed (${s.phase}) before a preview`;
  if (s.phase === 'waiting_for_ups' && s.upsOutage) {
    const next = s.upsOutage.needsOperator ? ` ${outageNext(s.upsOutage, s.batchId)}` : '';
    return (
      `UPS rated no row (${clean(s.upsOutage.reason)}), so there is no estimate yet; ` +
      `the batch previews again when UPS answers.${next}`
    );
  }
  return `the batch is ${s.phase}; try again in a moment`;
}

/** Invalid rows with their errors, for the preview (first `limit`). */
async function invalidRows(
  c: ShipbatchClient,
  id: string,
  limit: number,
): Promise<{ rowNo: number; errors: RowError[] }[]> {
  const rows = await c.batchRows(id, { status: 'invalid', limit });
  return rows.map((r) => ({ rowNo: r.rowNo, errors: r.errors }));
}

/**
 * The preview as text: the detailed rows (with the address check's outcome and, when rate shopping changed a
 * row's service, the template's service and price), the address check and rate shopping sections, the invalid
 * rows and the total. `addressRows`: the rows the address check lists, read from the ledger.
 */
export function printPreview(
  io: Io,
  id: string,
  p: BatchPreview,
  invalid: { rowNo: number; errors: RowError[] }[],
  addressRows: readonly AddressRow[] = [],
): void {
  say(io, `Preview of ${id}: ${p.totalRows} rows, ${p.validRows} valid, ${p.invalidRows} invalid`);
  say(io);
  const withAddress = p.addressCheck !== undefined || p.previewRows.some((r) => r.address);
  const withTemplate = p.rateShopping !== undefined || p.previewRows.some((r) => r.templateService);
  say(
    io,
    table(
      [
        'Row',
        'Recipient',
        'City/State',
        ...(withAddress ? ['Address'] : []),
        'Service',
        'Estimate',
        ...(withTemplate ? ["Template's service"] : []),
        'Warnings',
      ],
      p.previewRows.map((r) => [
        r.rowNo,
        r.recipient,
        r.cityState,
        ...(withAddress ? [addressCell(r.address)] : []),
        r.service,
        formatMoney(r.estimatedCostCents, p.currency),
        ...(withTemplate ? [templateCell(r, p.currency)] : []),
        r.warnings.join('; '),
      ]),
      [0, withAddress ? 5 : 4],
    ),
  );
  if (p.additionalRows > 0)
    say(io, `… and ${p.additionalRows} more valid rows (estimated at the average of the rated rows)`);
  if (p.unratedRows) {
    say(
      io,
      `${p.unratedRows} row${p.unratedRows === 1 ? '' : 's'} not rated by UPS (see the warnings): estimated at the average of the rated rows`,
    );
  }
  if (p.addressCheck) {
    say(io);
    for (const line of addressCheckLines(p.addressCheck, addressRows, id)) say(io, line);
  }
  if (p.rateShopping) {
    say(io);
    for (const line of rateShoppingLines(p.rateShopping)) say(io, line);
  }
  if (p.invalidRows > 0) {
    say(io);
    say(io, `Invalid rows (${p.invalidRows}, not shipped):`);
    for (const r of invalid) {
      for (const e of r.errors) say(io, `  row ${r.rowNo}: ${clean(formatRowError(e))}`);
    }
    if (p.invalidRows > invalid.length) say(io, `  … see all: shipbatch rows ${id} --status invalid`);
  }
  say(io);
  say(
    io,
    `Total estimate: ${formatMoney(p.totalEstimatedCostCents, p.currency)} for ${p.validRows} rows` +
      (p.rowsWithWarnings ? ` (${p.rowsWithWarnings} with warnings)` : ''),
  );
  if (p.pickup) say(io, `Pickup:         ${pickupQuoteText(p.pickup, p.currency)}`);
  say(io, `Preview hash:   ${p.previewHash}`);
}

export async function previewCommand(id: string, f: { json?: boolean }, io: Io): Promise<number> {
  return withClient(async (c) => {
    const p = await c.getPreview(id);
    if (!p) {
      const s = await c.getBatch(id);
      if (f.json) {
        printJson(io, {
          batchId: s.batchId,
          phase: s.phase,
          preview: null,
          ...(s.upsOutage ? { upsOutage: s.upsOutage } : {}),
        });
      } else say(io, `no preview yet: ${noPreviewReason(s)}`);
      return 1;
    }
    const invalid = await invalidRows(c, id, 50);
    if (f.json) printJson(io, { ...p, invalid });
    else {
      const a = p.addressCheck?.rows;
      const listed = a ? [...a.corrected, ...a.ambiguous, ...a.notFound, ...a.unchecked] : [];
      printPreview(io, id, p, invalid, await c.addressCheckRows(id, listed));
      const s = await c.getBatch(id);
      if (s.phase === 'awaiting_approval') {
        say(io, `Approve with:   shipbatch approve ${s.batchId} --preview-hash ${p.previewHash}`);
      }
    }
    return 0;
  });
}

export async function watchCommand(id: string, f: { json?: boolean }, io: Io): Promise<number> {
  return withClient(async (c) => {
    const final = await watchBatch(c, id, { show: !f.json, tty: io.tty, write: io.out });
    if (f.json) printJson(io, final);
    else printFinal(io, final);
    return final.phase === 'completed' ? 0 : 1;
  });
}
