/**
 * The batch commands of the `shipbatch` CLI (docs/design.md §9): each takes its parsed flags, talks to the client
 * library and prints a table (or `--json`). Exit codes are decided in main.ts from the error types.
 */
import { once } from 'node:events';
import type { WriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FINAL_PHASES, type BatchInputArg, type BatchPreview, type BatchStatus } from '../../domain/batch';
import type { RowError } from '../../domain/row-error';
import type pg from 'pg';
import type { AttentionItem } from '../attention';
import type { ShipbatchClient } from '../batches';
import { batchRowStream, formatRowError, type BatchRow } from '../ledger';
import type { BatchSummary } from '../visibility';
import { BatchInputError, ConnectionError } from '../errors';
import { checkOutputPath, OutputFiles } from '../output-file';
import { checkSource, checkTemplateCompiles, readShipperFile, readTemplateFile } from './inputs';
import {
  clean,
  csvLine,
  formatMoney,
  jsonArrayEnd,
  jsonArrayItem,
  outageLines,
  outageNext,
  table,
  TableLayout,
} from './output';
import { watchBatch } from './watch';

/** Where a command writes (tests pass their own). */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** stdout is a terminal: progress bars and prompts. */
  tty: boolean;
  /**
   * Write and wait while the reader is behind (backpressure), so a long listing never piles up in memory;
   * rejects with {@link OutputClosedError} once the reader has gone (`| head`). Without it, `out`.
   */
  write?: (text: string) => Promise<void>;
}

/**
 * stdout can take no more: its reader went away (EPIPE: `shipbatch rows ID --json | head`), or writing
 * failed otherwise (`failure`, e.g. ENOSPC). The CLI ends quietly on the first, with exit 1 on the second.
 */
export class OutputClosedError extends Error {
  constructor(readonly failure?: Error) {
    super(failure ? `cannot write the output: ${failure.message}` : 'the output was closed by its reader');
    this.name = 'OutputClosedError';
  }
}

/** What became of stdout (set by {@link guardStdio}'s listeners). */
const stdout: { closed: boolean; failure?: Error } = { closed: false };

const READER_GONE = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED']);

/**
 * Install the CLI process's stdout/stderr error listeners (only the `shipbatch` bin calls it, never a test
 * importing the CLI): without them a reader that goes away (EPIPE) is an uncaught 'error' event, a crash
 * with a stack trace. Afterwards {@link stdoutFailure} tells a write error apart from a reader gone.
 */
export function guardStdio(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (!stdout.closed && !READER_GONE.has(err.code ?? '')) stdout.failure = err;
    stdout.closed = true;
  });
  // Nowhere left to report a stderr error: drop it rather than crash.
  process.stderr.on('error', () => undefined);
}

/** A stdout write error other than the reader going away (reported with exit 1), if any. */
export function stdoutFailure(): Error | undefined {
  return stdout.failure;
}

/** Wait until `stream` can take more (drained), or is closed or failed. */
function writable(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

export const stdio: Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  tty: Boolean(process.stdout.isTTY),
  write: async (t) => {
    const out = process.stdout;
    if (stdout.closed || out.destroyed) throw new OutputClosedError(stdout.failure);
    if (!out.write(t)) await writable(out);
    if (stdout.closed || out.destroyed) throw new OutputClosedError(stdout.failure);
  },
};

/**
 * Text in chunks of about `size` characters to `io.write` (a row at a time would be a system call per row),
 * waiting for the reader between chunks: at most one chunk and the stream's own buffer are held.
 */
export class ChunkedWriter {
  private buf = '';
  private readonly write: (text: string) => Promise<void>;

  constructor(
    io: Io,
    private readonly size = 64 * 1024,
  ) {
    this.write = io.write ?? ((t) => Promise.resolve(io.out(t)));
  }

  async put(text: string): Promise<void> {
    this.buf += text;
    if (this.buf.length >= this.size) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buf === '') return;
    const chunk = this.buf;
    this.buf = '';
    await this.write(chunk);
  }
}

const say = (io: Io, line = '') => io.out(`${line}\n`);
const json = (io: Io, value: unknown) => io.out(`${JSON.stringify(value, null, 2)}\n`);

/** Run `fn` with a connected client, closed afterwards (the Temporal connection and the ledger's pool). */
export async function withClient<T>(fn: (c: ShipbatchClient) => Promise<T>): Promise<T> {
  // Loaded here, not at the top: the Temporal client and its protobufs are a third of the CLI's memory,
  // which `--help`, `import` and `rows` do without.
  const { ShipbatchClient } = await import('../batches');
  const client = await ShipbatchClient.connect();
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/**
 * Run `fn` with a pool on the ledger's PostgreSQL alone, closed afterwards: for commands that read or write
 * only the database (`rows`, `import`), which then need no Temporal.
 */
export async function withLedger<T>(
  fn: (pool: pg.Pool) => Promise<T>,
  applicationName = 'shipbatch-client',
): Promise<T> {
  const { loadClientConfig } = await import('../config');
  const { openPool } = await import('../../activities/db');
  const config = loadClientConfig();
  const pool = await openPool({ url: config.database.url, max: 2, applicationName }).catch((err: unknown) => {
    throw new ConnectionError((err as Error).message, {
      cause: err,
      fix: config.database.embedded
        ? 'start the embedded stack with `shipbatch dev`, or set DATABASE_URL'
        : 'check that this PostgreSQL runs and DATABASE_URL is right',
    });
  });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
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

export function printStatus(io: Io, s: BatchStatus): void {
  say(io, `${s.batchId}${s.name && s.name !== s.batchId ? ` (${clean(s.name)})` : ''}`);
  say(io, `  phase     ${s.phase}`);
  if (s.upsOutage) for (const line of outageLines(s.upsOutage, s.batchId)) say(io, line);
  say(io, `  mode      ${s.mode}${s.modeLocked ? ' (locked)' : ''}`);
  say(io, `  estimate  ${formatMoney(s.estimatedCostCents, s.currency)}`);
  say(io, `  shipped   ${formatMoney(s.actualCostCents, s.currency)} so far`);
  if (s.approval) say(io, `  approved  by ${clean(s.approval.by)} at ${s.approval.at}`);
  if (s.previewHash) say(io, `  preview   ${s.previewHash}`);
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
    if (f.json) json(io, s);
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
  if (p.unratedRows) {
    say(
      io,
      `${p.unratedRows} row${p.unratedRows === 1 ? '' : 's'} not rated by UPS (see the warnings): estimated at the average of the rated rows`,
    );
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
  say(io, `Preview hash:   ${p.previewHash}`);
}

export async function previewCommand(id: string, f: { json?: boolean }, io: Io): Promise<number> {
  return withClient(async (c) => {
    const p = await c.getPreview(id);
    if (!p) {
      const s = await c.getBatch(id);
      if (f.json) {
        json(io, {
          batchId: s.batchId,
          phase: s.phase,
          preview: null,
          ...(s.upsOutage ? { upsOutage: s.upsOutage } : {}),
        });
      } else say(io, `no preview yet: ${noPreviewReason(s)}`);
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

export async function resumeCommand(id: string, f: { by?: string; json?: boolean }, io: Io): Promise<number> {
  return withClient(async (c) => {
    const by = f.by ?? os.userInfo().username;
    const s = await c.resumeBatch(id, { by });
    return done(io, f, s, `resumed by ${clean(by)}; shipping starts again`);
  });
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

export function printAttention(io: Io, items: AttentionItem[]): void {
  if (items.length === 0) {
    say(io, 'nothing needs attention');
    return;
  }
  const why = {
    awaiting_approval: 'waiting for approval',
    awaiting_action: 'rows failed or need review',
    waiting_for_ups: 'waiting for UPS',
    retrying: 'an activity keeps failing (retrying)',
    no_worker: 'no worker polls the task queue',
  } as const;
  for (const b of items) {
    say(io, `${b.batchId}  ${b.phase ?? ''}: ${why[b.reason]}`);
    say(
      io,
      `  rows      ${b.done} done, ${b.remaining} remaining (shipped ${b.counts.shipped}, failed ${b.counts.failed}, review ${b.counts.needsReview})`,
    );
    if (b.upsOutage) {
      // The outage's reason is the last error; say what happens next instead of repeating it.
      for (const line of outageLines(b.upsOutage, b.batchId)) say(io, line);
    } else if (b.lastError) say(io, `  last error ${clean(b.lastError)}`);
    if (b.reason === 'waiting_for_ups' && !b.upsOutage) {
      // The status did not answer: both ways on.
      say(
        io,
        `  next      resumes by itself when UPS answers; if UPS refused the credentials, fix them, then \`shipbatch resume ${b.batchId}\``,
      );
    }
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

/** The CSV of `rows --csv` (and the demo's results.csv): header, then one line per row. */
const ROWS_CSV_HEADER = ['row', 'status', 'tracking_number', 'cost', 'currency', 'error'];

function rowsCsvLine(r: BatchRow): string {
  return csvLine([
    r.rowNo,
    r.status,
    r.trackingNumbers.join(' '),
    r.costCents === null ? '' : (r.costCents / 100).toFixed(2),
    r.currency ?? '',
    r.error ?? '',
  ]);
}

function rowsTableCells(r: BatchRow): unknown[] {
  const extras = r.extraShipments.map(
    (e) =>
      `extra shipment ${e.trackingNumbers.join(' ') || e.shipmentId} ${e.status === 'voided' ? 'voided' : `NOT voided${e.voidError ? `: ${e.voidError}` : ''}`}`,
  );
  return [
    r.rowNo,
    r.status,
    r.trackingNumbers.join(' '),
    r.costCents === null
      ? ''
      : `${formatMoney(r.costCents, r.currency ?? 'USD')}${r.costEstimated ? ' (est.)' : ''}`,
    [r.error, ...extras].filter(Boolean).join('; '),
  ];
}

/**
 * `rows ID`: the ledger's rows, streamed a page of 1,000 at a time whatever the format, written with
 * backpressure (memory does not grow with the batch): `--json` one array (the same bytes as the array
 * printed whole), `--ndjson` one object per line, `--csv` RFC 4180 lines, else a table (two passes: the
 * column widths, then the lines).
 */
export async function rowsCommand(
  id: string,
  f: { status?: string; csv?: boolean; json?: boolean; ndjson?: boolean },
  io: Io,
): Promise<number> {
  return withLedger(async (pool) => {
    const out = new ChunkedWriter(io);
    const rows = () => batchRowStream(pool, id, { status: f.status });
    if (f.csv) {
      await out.put(csvLine(ROWS_CSV_HEADER));
      for await (const r of rows()) await out.put(rowsCsvLine(r));
    } else if (f.ndjson) {
      for await (const r of rows()) await out.put(`${JSON.stringify(r)}\n`);
    } else if (f.json) {
      let n = 0;
      for await (const r of rows()) await out.put(jsonArrayItem(r, n++));
      await out.put(`${jsonArrayEnd(n)}\n`);
    } else {
      const layout = new TableLayout(['Row', 'Status', 'Tracking', 'Cost', 'Error'], [0, 3]);
      let n = 0;
      for await (const r of rows()) {
        layout.measure(rowsTableCells(r));
        n++;
      }
      if (n === 0) await out.put('no rows\n');
      else {
        await out.put(`${layout.head()}\n`);
        for await (const r of rows()) await out.put(`${layout.line(rowsTableCells(r))}\n`);
      }
    }
    await out.flush();
    return 0;
  });
}

/**
 * Write the rows CSV to a new file (the demo's results.csv): refused if anything is at that path (a link
 * included, never followed); the file appears only once complete.
 */
export async function writeRowsCsv(c: ShipbatchClient, id: string, file: string): Promise<number> {
  const files = new OutputFiles();
  let stream: WriteStream | undefined;
  try {
    const out = (stream = await files.stream(file));
    let n = 0;
    const put = async (line: string) => {
      if (!out.write(line)) await once(out, 'drain');
    };
    await put(csvLine(ROWS_CSV_HEADER));
    for await (const r of c.allBatchRows(id)) {
      await put(rowsCsvLine(r));
      n++;
    }
    out.end();
    await once(out, 'close');
    await files.commit();
    return n;
  } finally {
    stream?.destroy();
    await files.discard();
  }
}

export async function labelsCommand(
  id: string,
  f: { out: string; format?: 'pdf' | 'zpl'; split?: number; force?: boolean; json?: boolean },
  io: Io,
): Promise<number> {
  const { writeLabels, partFile } = await import('../labels');
  const out = path.resolve(f.out);
  // A taken path is refused before connecting (writeLabels checks again, and every part as it places it).
  await checkOutputPath(partFile(out, 1, (f.split ?? 0) > 0), {
    force: f.force,
    fix: 'choose another --out, or add --force to replace it',
  });
  return withClient(async (c) => {
    const res = await writeLabels(c.batchLabels(id), {
      out,
      format: f.format,
      split: f.split,
      force: f.force,
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
  const { importFile, ImportError } = await import('../../activities/source');
  return withLedger(async (pool) => {
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
  }, 'shipbatch-import');
}
