/**
 * The batch commands of the `shipbatch` CLI (DESIGN §9): each takes its parsed flags, talks to the client
 * library and prints a table (or `--json`). Exit codes are decided in main.ts from the error types.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { FINAL_PHASES, type BatchInputArg, type BatchPreview, type BatchStatus } from '../../domain/batch';
import type { RowError } from '../../domain/row-error';
import { ShipbatchClient, type AttentionItem, type BatchSummary } from '../batches';
import { formatRowError } from '../ledger';
import { BatchInputError, ConnectionError } from '../errors';
import { checkSource, checkTemplateCompiles, readShipperFile, readTemplateFile } from './inputs';
import { clean, csvLine, formatMoney, table } from './output';
import { watchBatch } from './watch';

/** Where a command writes (tests pass their own). */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** stdout is a terminal: progress bars and prompts. */
  tty: boolean;
}

export const stdio: Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  tty: Boolean(process.stdout.isTTY),
};

const say = (io: Io, line = '') => io.out(`${line}\n`);
const json = (io: Io, value: unknown) => io.out(`${JSON.stringify(value, null, 2)}\n`);

/** Run `fn` with a connected client, closed afterwards. */
export async function withClient<T>(fn: (c: ShipbatchClient) => Promise<T>): Promise<T> {
  const client = await ShipbatchClient.connect();
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

// ---------------------------------------------------------------- start

export interface StartFlags {
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

/** Build and check a batch input from `start` flags: files read, template compiled, table and filter checked. */
export async function prepareBatch(c: ShipbatchClient, f: StartFlags): Promise<BatchInputArg> {
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
    options: {
      ...(f.previewRows !== undefined ? { previewRows: f.previewRows } : {}),
      ...(f.rateAll ? { rateAll: true } : {}),
      ...(f.concurrency !== undefined ? { concurrency: f.concurrency } : {}),
    },
  };
}

export async function startCommand(f: StartFlags, io: Io): Promise<number> {
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
      if (f.json) json(io, started);
      return 0;
    }
    const final = await watchBatch(c, started.batchId, { show: !f.json, tty: io.tty, write: io.out });
    if (f.json) json(io, { ...started, status: final });
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

function printStatus(io: Io, s: BatchStatus): void {
  say(io, `${s.batchId}${s.name && s.name !== s.batchId ? ` (${clean(s.name)})` : ''}`);
  say(io, `  phase     ${s.phase}`);
  say(io, `  mode      ${s.mode}${s.modeLocked ? ' (locked)' : ''}`);
  say(io, `  estimate  ${formatMoney(s.estimatedCostCents, s.currency)}`);
  say(io, `  shipped   ${formatMoney(s.actualCostCents, s.currency)} so far`);
  if (s.approval) say(io, `  approved  by ${clean(s.approval.by)} at ${s.approval.at}`);
  if (s.previewHash) say(io, `  preview   ${s.previewHash}`);
  if (s.error) say(io, `  note      ${clean(s.error)}`);
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
    if (f.json) json(io, s);
    else printStatus(io, s);
    return 0;
  });
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

export function printPreview(
  io: Io,
  id: string,
  p: BatchPreview,
  invalid: { rowNo: number; errors: RowError[] }[],
): void {
  say(io, `Preview of ${id}: ${p.totalRows} rows, ${p.validRows} valid, ${p.invalidRows} invalid`);
  say(io);
  say(
    io,
    table(
      ['Row', 'Recipient', 'City/State', 'Service', 'Estimate', 'Warnings'],
      p.previewRows.map((r) => [
        r.rowNo,
        r.recipient,
        r.cityState,
        r.service,
        formatMoney(r.estimatedCostCents, p.currency),
        r.warnings.join('; '),
      ]),
      [0, 4],
    ),
  );
  if (p.additionalRows > 0)
    say(io, `… and ${p.additionalRows} more valid rows (estimated at the average of the rated rows)`);
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
  say(io, `Preview hash:   ${p.previewHash}`);
}

export async function previewCommand(id: string, f: { json?: boolean }, io: Io): Promise<number> {
  return withClient(async (c) => {
    const p = await c.getPreview(id);
    if (!p) {
      const s = await c.getBatch(id);
      const why = FINAL_PHASES.has(s.phase)
        ? `the batch closed (${s.phase}) before a preview`
        : `the batch is ${s.phase}; try again in a moment`;
      if (f.json) json(io, { batchId: s.batchId, phase: s.phase, preview: null });
      else say(io, `no preview yet: ${why}`);
      return 1;
    }
    const invalid = await invalidRows(c, id, 50);
    if (f.json) json(io, { ...p, invalid });
    else {
      printPreview(io, id, p, invalid);
      const s = await c.getBatch(id);
      if (s.phase === 'awaiting_approval') {
        say(io, `Approve with:   shipbatch approve ${s.batchId} --preview-hash ${p.previewHash}`);
      }
    }
    return 0;
  });
}

// ---------------------------------------------------------------- operations

/** Print an operation's outcome (the status right after it). */
function done(io: Io, f: { json?: boolean }, s: BatchStatus, line: string): number {
  if (f.json) json(io, s);
  else say(io, `${s.batchId}: ${line} (phase ${s.phase})`);
  return 0;
}

export async function approveCommand(
  id: string,
  f: { previewHash?: string; by?: string; json?: boolean },
  io: Io,
): Promise<number> {
  return withClient(async (c) => {
    const by = f.by ?? os.userInfo().username;
    const s = await c.approveBatch(id, { previewHash: f.previewHash, by });
    return done(io, f, s, `approved by ${clean(by)}; shipping starts`);
  });
}

export async function rejectCommand(
  id: string,
  f: { reason?: string; json?: boolean },
  io: Io,
): Promise<number> {
  return withClient(async (c) => done(io, f, await c.rejectBatch(id, { reason: f.reason }), 'rejected'));
}

export async function modeCommand(id: string, mode: string, f: { json?: boolean }, io: Io): Promise<number> {
  return withClient(async (c) => {
    const s = await c.setBatchMode(id, mode);
    return done(io, f, s, `mode is now ${s.mode}`);
  });
}

export async function cancelCommand(
  id: string,
  f: { void?: boolean; reason?: string; json?: boolean },
  io: Io,
): Promise<number> {
  return withClient(async (c) => {
    const s = await c.cancelBatch(id, { reason: f.reason, voidShipped: f.void === true });
    return done(io, f, s, `cancel requested${f.void ? ' (shipped rows will be voided)' : ''}`);
  });
}

export async function restartCommand(
  id: string,
  f: { scope?: 'failed' | 'needs_review' | 'all_unshipped'; rows?: number[]; json?: boolean },
  io: Io,
): Promise<number> {
  return withClient(async (c) => {
    const s = await c.restartBatch(id, { scope: f.scope ?? 'failed', rows: f.rows });
    return done(
      io,
      f,
      s,
      `restart of ${f.rows ? `rows ${f.rows.join(',')}` : `${f.scope ?? 'failed'} rows`} queued`,
    );
  });
}

export async function resolveCommand(
  id: string,
  f: { row: number; tracking?: string; retry?: boolean; json?: boolean },
  io: Io,
): Promise<number> {
  if ((f.tracking === undefined) === (f.retry !== true)) {
    throw new BatchInputError(
      'resolve needs exactly one of --tracking 1Z… (it shipped) or --retry (ship it again)',
    );
  }
  return withClient(async (c) => {
    const s = f.retry
      ? await c.resolveRow(id, { row: f.row, outcome: 'retry' })
      : await c.resolveRow(id, {
          row: f.row,
          outcome: 'shipped',
          trackingNumber: f.tracking!.trim().toUpperCase(),
        });
    return done(io, f, s, `row ${f.row} resolved (${f.retry ? 'retry' : `shipped as ${f.tracking}`})`);
  });
}

export async function finishCommand(id: string, f: { json?: boolean }, io: Io): Promise<number> {
  return withClient(async (c) => done(io, f, await c.finishBatch(id), 'finish requested'));
}

// ---------------------------------------------------------------- list / rows / labels / watch

function printList(io: Io, items: BatchSummary[]): void {
  if (items.length === 0) {
    say(io, 'no batches');
    return;
  }
  say(
    io,
    table(
      ['Batch', 'Phase', 'Mode', 'Rows', 'Temporal', 'Started'],
      items.map((b) => [b.batchId, b.phase ?? '', b.mode ?? '', b.rows ?? '', b.status, b.startTime]),
      [3],
    ),
  );
}

function printAttention(io: Io, items: AttentionItem[]): void {
  if (items.length === 0) {
    say(io, 'nothing needs attention');
    return;
  }
  const why = {
    awaiting_approval: 'waiting for approval',
    awaiting_action: 'rows failed or need review',
    retrying: 'an activity keeps failing (retrying)',
    no_worker: 'no worker polls the task queue',
  } as const;
  for (const b of items) {
    say(io, `${b.batchId}  ${b.phase ?? ''}: ${why[b.reason]}`);
    say(
      io,
      `  rows      ${b.done} done, ${b.remaining} remaining (shipped ${b.counts.shipped}, failed ${b.counts.failed}, review ${b.counts.needsReview})`,
    );
    if (b.lastError) say(io, `  last error ${clean(b.lastError)}`);
    say(io, `  choices   ${b.choices.join('\n            ')}`);
    say(io);
  }
}

export async function listCommand(
  f: { phase?: string; attention?: boolean; json?: boolean },
  io: Io,
): Promise<number> {
  return withClient(async (c) => {
    if (f.attention) {
      let items = await c.attentionBatches();
      if (f.phase) items = items.filter((i) => i.phase === f.phase);
      if (f.json) json(io, items);
      else printAttention(io, items);
      return 0;
    }
    const items = await c.listBatches({ phase: f.phase });
    if (f.json) json(io, items);
    else printList(io, items);
    return 0;
  });
}

export async function rowsCommand(
  id: string,
  f: { status?: string; csv?: boolean; json?: boolean },
  io: Io,
): Promise<number> {
  return withClient(async (c) => {
    if (f.csv) {
      io.out(csvLine(['row', 'status', 'tracking_number', 'cost', 'currency', 'error']));
      for await (const r of c.allBatchRows(id, { status: f.status })) {
        io.out(
          csvLine([
            r.rowNo,
            r.status,
            r.trackingNumbers.join(' '),
            r.costCents === null ? '' : (r.costCents / 100).toFixed(2),
            r.currency ?? '',
            r.error ?? '',
          ]),
        );
      }
      return 0;
    }
    if (f.json) {
      const rows = [];
      for await (const r of c.allBatchRows(id, { status: f.status })) rows.push(r);
      json(io, rows);
      return 0;
    }
    const rows = [];
    for await (const r of c.allBatchRows(id, { status: f.status })) {
      rows.push([
        r.rowNo,
        r.status,
        r.trackingNumbers.join(' '),
        r.costCents === null ? '' : formatMoney(r.costCents, r.currency ?? 'USD'),
        r.error ?? '',
      ]);
    }
    say(io, rows.length ? table(['Row', 'Status', 'Tracking', 'Cost', 'Error'], rows, [0, 3]) : 'no rows');
    return 0;
  });
}

/** Write the rows CSV to a file (the demo's results.csv). */
export async function writeRowsCsv(c: ShipbatchClient, id: string, file: string): Promise<number> {
  const stream = createWriteStream(file);
  let n = 0;
  const put = async (line: string) => {
    if (!stream.write(line)) await once(stream, 'drain');
  };
  await put(csvLine(['row', 'status', 'tracking_number', 'cost', 'currency', 'error']));
  for await (const r of c.allBatchRows(id)) {
    await put(
      csvLine([
        r.rowNo,
        r.status,
        r.trackingNumbers.join(' '),
        r.costCents === null ? '' : (r.costCents / 100).toFixed(2),
        r.currency ?? '',
        r.error ?? '',
      ]),
    );
    n++;
  }
  stream.end();
  await once(stream, 'finish');
  return n;
}

export async function labelsCommand(
  id: string,
  f: { out: string; format?: 'pdf' | 'zpl'; split?: number; json?: boolean },
  io: Io,
): Promise<number> {
  const { writeLabels } = await import('../labels');
  return withClient(async (c) => {
    const res = await writeLabels(c.batchLabels(id), {
      out: path.resolve(f.out),
      format: f.format,
      split: f.split,
    });
    if (f.json) json(io, { batchId: id, ...res });
    else if (res.labels === 0) say(io, `${id}: no labels yet (no shipped rows); nothing written`);
    else say(io, `${id}: ${res.labels} labels written to ${res.files.join(', ')}`);
    return res.labels === 0 ? 1 : 0;
  });
}

export async function watchCommand(id: string, f: { json?: boolean }, io: Io): Promise<number> {
  return withClient(async (c) => {
    const final = await watchBatch(c, id, { show: !f.json, tty: io.tty, write: io.out });
    if (f.json) json(io, final);
    else printFinal(io, final);
    return final.phase === 'completed' ? 0 : 1;
  });
}

// ---------------------------------------------------------------- import

export async function importCommand(
  file: string,
  f: {
    table: string;
    replace?: boolean;
    keyColumn?: string;
    type?: Record<string, string>;
    sheet?: string;
    json?: boolean;
  },
  io: Io,
): Promise<number> {
  const { loadClientConfig } = await import('../config');
  const { openPool } = await import('../../activities/db');
  const { importFile, ImportError } = await import('../../activities/source');
  const config = loadClientConfig();
  const pool = await openPool({
    url: config.database.url,
    max: 2,
    applicationName: 'shipbatch-import',
  }).catch((err: unknown) => {
    throw new ConnectionError((err as Error).message, {
      cause: err,
      fix: config.database.embedded
        ? 'start the embedded stack with `shipbatch dev`, or set DATABASE_URL'
        : 'check that this PostgreSQL runs and DATABASE_URL is right',
    });
  });
  try {
    const res = await importFile(pool, {
      file,
      table: f.table,
      replace: f.replace,
      keyColumn: f.keyColumn,
      sheet: f.sheet,
      types: f.type as Record<string, 'text' | 'integer' | 'numeric' | 'boolean' | 'date'> | undefined,
    }).catch((err: unknown) => {
      if (err instanceof ImportError) throw new BatchInputError(err.message, { cause: err });
      throw err;
    });
    if (f.json) json(io, res);
    else {
      say(
        io,
        `imported ${res.rows} rows from ${file} into ${res.table}` +
          (res.addedKey
            ? ` (key column ${res.keyColumn} added, numbered 1…${res.rows})`
            : ` (key column ${res.keyColumn})`),
      );
      say(
        io,
        table(
          ['Column', 'Header', 'Type'],
          res.columns.map((col) => [col.name, col.header, col.type]),
        ),
      );
    }
    return 0;
  } finally {
    await pool.end();
  }
}
