/**
 * The CLI's JSON and CSV through a real pipe: each command that can print JSON or CSV runs as a
 * child process whose stdout is read as a stream — never collected by execFile — over batches of 5,000 rows,
 * and the whole output is parsed and compared with the ledger. Output used to stop at the pipe's 64 KB
 * because the bin called process.exit as soon as the command returned.
 *
 * Two batches: a real one (a 5,000-order table, started in confirm mode with 1,000 preview rows, waiting for
 * approval, with 50 refused messages) for `status`, `preview`, `list` and `rows`; and a closed batch written
 * straight into the ledger (test/helpers/ledger-batch.ts: every row status, two-package shipments, errors
 * full of quotes, commas and newlines) for `rows`, which only reads the ledger. Then readers that go away
 * early, and the peak RSS of `rows --ndjson` over 100,000 rows.
 *
 * The CLI runs with SHIPBATCH_DEBUG set: a handle left open after a command would print a line on stderr,
 * which every test requires to be empty.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type pg from 'pg';
import type { AttentionItem } from '../../client/attention';
import { ShipbatchClient } from '../../client/batches';
import type { BatchSummary } from '../../client/visibility';
import { readRows, type BatchRow } from '../../client/ledger';
import type { BatchPreview, BatchStatus } from '../../domain/batch';
import type { RowError } from '../../domain/row-error';
import { approveSignal } from '../../domain/messages';
import { loadConfig } from '../../temporal.config';
import { batchInput, createOrdersTable, makeOrders } from '../helpers/batch';
import { deleteLedgerBatch, insertLedgerBatch } from '../helpers/ledger-batch';

const ROOT = path.join(import.meta.dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'shipbatch.js');
const ROWS = 5_000;
const BIG_ROWS = 100_000;
const RSS_LIMIT_MB = 150;
/** A CLI that never exits (a handle left open, a reader never done) fails its test instead of hanging it. */
const TEST_TIMEOUT_MS = 180_000;

let dir: string;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess;
let workerLog = '';
let client: ShipbatchClient;
let pool: pg.Pool;
let table: string;
/** The real batch, waiting for approval. */
let live: string;
/** The closed batch written into the ledger. */
let closed: string;
const cleanups: (() => Promise<unknown>)[] = [];

interface Piped {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: Buffer;
  err: string;
}

function spawnCli(args: string[]): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function collectStderr(child: ChildProcess): () => string {
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => (err += c));
  return () => err;
}

/**
 * Run the CLI with stdout a pipe read as a stream, chunk by chunk, to its end. A reader that is `late` starts
 * reading only once the CLI has exited or after 3 s, whichever comes first: the pipe's 64 KB fill at once and
 * the rest must wait in the CLI (an early exit would lose it whenever a reader lags).
 */
async function piped(args: string[], opts: { late?: boolean } = {}): Promise<Piped> {
  const child = spawnCli(args);
  const err = collectStderr(child);
  const done = exited(child);
  if (opts.late) {
    // A 'readable' listener that reads nothing: the data waits in the pipe (Node would resume a merely
    // paused stdout when the child exits, and drop what it holds).
    const wait = () => undefined;
    child.stdout!.on('readable', wait);
    await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
    child.stdout!.off('readable', wait);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of child.stdout!) chunks.push(chunk as Buffer);
  const { code, signal } = await done;
  return { code, signal, out: Buffer.concat(chunks), err: err() };
}

/** `piped`, asserting exit 0 and nothing on stderr; the text of stdout. */
async function pipedOk(args: string[], opts: { late?: boolean } = {}): Promise<string> {
  const r = await piped(args, opts);
  assert.equal(r.err, '', `shipbatch ${args.join(' ')}: nothing on stderr`);
  assert.deepEqual([r.code, r.signal], [0, null], `shipbatch ${args.join(' ')} exits 0`);
  return r.out.toString('utf8');
}

/** Every row of a batch as the ledger holds it, in one query (not the CLI's paging). */
async function ledgerRows(id: string, status?: BatchRow['status']): Promise<BatchRow[]> {
  return readRows(pool, id, { status, limit: 10_000_000 });
}

/** Row numbers and statuses straight from SQL: what each listing must hold, row for row. */
async function ledgerStatuses(id: string): Promise<[number, string][]> {
  const { rows } = await pool.query<{ row_no: number; status: string }>(
    `SELECT row_no, status FROM batch_rows WHERE batch_id = $1 ORDER BY row_no`,
    [id],
  );
  return rows.map((r) => [r.row_no, r.status]);
}

function csvRecord(r: BatchRow): string[] {
  return [
    String(r.rowNo),
    r.status,
    r.trackingNumbers.join(' '),
    r.costCents === null ? '' : (r.costCents / 100).toFixed(2),
    r.currency ?? '',
    // The CSV neutralises spreadsheet formula triggers with a leading quote.
    r.error === null ? '' : /^[=+\-@\t\r]/.test(r.error) ? `'${r.error}` : r.error,
  ];
}

before(async () => {
  if (!process.env.TEMPORAL_ADDRESS || !process.env.DATABASE_URL) {
    throw new Error('run through `npm test`, which starts Temporal and PostgreSQL');
  }
  dir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-cli-pipe-'));
  env = {
    ...process.env,
    SHIPBATCH_TASK_QUEUE: `cli-pipe-${randomUUID().slice(0, 8)}`,
    SHIPBATCH_DATA_DIR: path.join(dir, 'data'),
    SHIPBATCH_UPS_SANDBOX_DATA_DIR: path.join(dir, 'ups'),
    SHIPBATCH_DEBUG: '1',
  };
  client = await ShipbatchClient.connect({ config: loadConfig(env) });
  pool = await client.pool();
  worker = spawn(process.execPath, [BIN, 'worker'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  worker.stdout!.on('data', (c: Buffer) => (workerLog += c.toString()));
  worker.stderr!.on('data', (c: Buffer) => (workerLog += c.toString()));
  for (const deadline = Date.now() + 60_000; !(await client.workerPolling());) {
    if (Date.now() > deadline || worker.exitCode !== null)
      throw new Error(`the worker did not start:\n${workerLog}`);
    await new Promise((r) => setTimeout(r, 250));
  }

  // The real batch: 5,000 orders, every 97th with a bad ZIP (invalid), 1,000 rated in the preview.
  table = await createOrdersTable(
    pool,
    makeOrders(ROWS, (i, o) => {
      if (i % 97 === 3) o.zip = 'ABCDE';
    }),
    'pipe_orders',
  );
  cleanups.push(() => pool.query(`DROP TABLE IF EXISTS ${table}`));
  const started = await client.startBatch(
    batchInput(table, { name: `pipe ${randomUUID().slice(0, 6)}`, options: { previewRows: 1000 } }),
  );
  live = started.batchId;
  cleanups.push(() => client.temporal.workflow.getHandle(live).terminate('test cleanup'));
  const deadline = Date.now() + 300_000;
  for (;;) {
    const s = await client.getBatch(live).catch(() => undefined);
    if (s?.phase === 'awaiting_approval') break;
    if (Date.now() > deadline || (s && s.phase !== 'loading' && s.phase !== 'previewing'))
      throw new Error(`batch ${live} did not reach awaiting_approval: ${JSON.stringify(s)}\n${workerLog}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  // 60 stale approvals as signals: each is refused and listed (the last 50) in status.rejectedMessages.
  const handle = client.temporal.workflow.getHandle(live);
  for (let i = 0; i < 60; i++) {
    await handle.signal(approveSignal, { previewHash: 'f'.repeat(64), by: `stale approver ${i}` });
  }
  for (const until = Date.now() + 30_000; ;) {
    const s = await client.getBatch(live);
    if (s.rejectedMessages.length === 50 && s.rejectedMessages.at(-1)!.reason.length > 0) break;
    if (Date.now() > until) throw new Error(`refused messages: ${JSON.stringify(s.rejectedMessages)}`);
    await new Promise((r) => setTimeout(r, 250));
  }

  closed = `batch-pipe-ledger-${randomUUID().slice(0, 8)}`;
  await insertLedgerBatch(pool, closed, ROWS);
  cleanups.push(() => deleteLedgerBatch(pool, closed));
});

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  worker?.kill('SIGTERM');
  if (worker && worker.exitCode === null) await exited(worker);
  await client?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test(
  'rows --json, --ndjson and --csv of 5,000-row batches come whole through a pipe, row for row the ledger',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    for (const id of [live, closed]) {
      const expected = await ledgerRows(id);
      assert.equal(expected.length, ROWS);
      assert.deepEqual(
        expected.map((r) => [r.rowNo, r.status]),
        await ledgerStatuses(id),
      );

      const json = await pipedOk(['rows', id, '--json'], { late: true });
      assert.ok(json.length > 1 << 20, `${id}: --json is ${json.length} bytes, far beyond a pipe's 64 KB`);
      // Streamed a row at a time, yet byte for byte the array printed whole (field names and layout unchanged).
      assert.equal(json, `${JSON.stringify(expected, null, 2)}\n`, `${id}: rows --json`);
      assert.deepEqual(JSON.parse(json), expected);

      const ndjson = await pipedOk(['rows', id, '--ndjson']);
      const lines = ndjson.split('\n');
      assert.equal(lines.pop(), '', 'every object ends with a newline');
      assert.equal(lines.length, ROWS);
      assert.deepEqual(
        lines.map((l) => JSON.parse(l) as BatchRow),
        expected,
        `${id}: rows --ndjson`,
      );

      const csv = await pipedOk(['rows', id, '--csv']);
      const records: string[][] = parseCsv(csv);
      assert.deepEqual(records[0], ['row', 'status', 'tracking_number', 'cost', 'currency', 'error']);
      assert.deepEqual(records.slice(1), expected.map(csvRecord), `${id}: rows --csv`);
      assert.ok(csv.endsWith('\r\n'));

      const human = await pipedOk(['rows', id]);
      const humanLines = human.split('\n');
      assert.equal(humanLines.pop(), '');
      assert.equal(humanLines.length, ROWS + 2, `${id}: the table has a header, a rule and every row`);
      assert.match(humanLines[0]!, /^\s*Row\s+Status\s+Tracking\s+Cost\s+Error$/);
      assert.match(humanLines.at(-1)!, new RegExp(`^\\s*${ROWS}\\s+${expected.at(-1)!.status}\\b`));
    }

    // A status filter pages through the (batch, status, row) index the same way.
    const shipped = await ledgerRows(closed, 'shipped');
    const json = await pipedOk(['rows', closed, '--status', 'shipped', '--json']);
    assert.equal(json, `${JSON.stringify(shipped, null, 2)}\n`);
    const none = await pipedOk(['rows', closed, '--status', 'pending', '--json']);
    assert.equal(none, '[]\n', 'no rows: an empty array, as before');
    assert.equal(await pipedOk(['rows', closed, '--status', 'pending', '--ndjson']), '');
    assert.equal(
      await pipedOk(['rows', closed, '--status', 'pending', '--csv']),
      'row,status,tracking_number,cost,currency,error\r\n',
    );
  },
);

test(
  'status, preview and list --json come whole through a pipe, matching the workflow and the ledger',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const counts = new Map<string, number>();
    for (const [, status] of await ledgerStatuses(live)) counts.set(status, (counts.get(status) ?? 0) + 1);

    const status = JSON.parse(await pipedOk(['status', live, '--json'], { late: true })) as BatchStatus;
    assert.deepEqual(status, await client.getBatch(live));
    assert.equal(status.phase, 'awaiting_approval');
    assert.deepEqual(
      [status.counts.total, status.counts.invalid, status.counts.pending],
      [ROWS, counts.get('invalid'), counts.get('pending')],
    );
    assert.equal(status.rejectedMessages.length, 50);
    assert.ok(status.rejectedMessages.every((m) => m.name === 'approve'));
    const humanStatus = await pipedOk(['status', live], { late: true });
    assert.equal(humanStatus.match(/^ {2}\S+ {2}approve: /gm)?.length, 10, 'the last 10 refused messages');

    const previewJson = await pipedOk(['preview', live, '--json'], { late: true });
    assert.ok(previewJson.length > 64 * 1024, `preview --json is ${previewJson.length} bytes`);
    const preview = JSON.parse(previewJson) as BatchPreview & {
      invalid: { rowNo: number; errors: RowError[] }[];
    };
    const { rows: stored } = await pool.query<{ preview: BatchPreview }>(
      `SELECT preview FROM batches WHERE batch_id = $1`,
      [live],
    );
    const { invalid, ...rest } = preview;
    assert.deepEqual(rest, stored[0]!.preview, 'the preview the ledger holds, recipients merged back in');
    assert.equal(preview.previewRows.length, 1000);
    assert.equal(preview.totalRows, ROWS);
    const { rows: invalidRows } = await pool.query<{ row_no: number; errors: RowError[] }>(
      `SELECT row_no, errors FROM batch_rows WHERE batch_id = $1 AND status = 'invalid' ORDER BY row_no LIMIT 50`,
      [live],
    );
    assert.deepEqual(
      invalid,
      invalidRows.map((r) => ({ rowNo: r.row_no, errors: r.errors })),
    );
    const humanPreview = await pipedOk(['preview', live], { late: true });
    assert.equal(humanPreview.match(/^ *\d+ {2}/gm)?.length, 1000, 'every preview row in the table');
    assert.match(
      humanPreview,
      new RegExp(`Approve with: +shipbatch approve ${live} --preview-hash ${preview.previewHash}\n$`),
    );

    const list = JSON.parse(await pipedOk(['list', '--json'], { late: true })) as BatchSummary[];
    const visible = await client.listBatches();
    assert.deepEqual(
      list.map((b) => b.batchId),
      visible.map((b) => b.batchId),
    );
    assert.ok(list.some((b) => b.batchId === live && b.phase === 'awaiting_approval'));
    const attention = JSON.parse(
      await pipedOk(['list', '--attention', '--json'], { late: true }),
    ) as AttentionItem[];
    const mine = attention.find((a) => a.batchId === live);
    assert.equal(mine?.reason, 'awaiting_approval');
    assert.deepEqual([mine.done, mine.remaining], [counts.get('invalid'), counts.get('pending')]);
  },
);

test(
  'a reader that goes away early ends the command quietly: exit 0, nothing on stderr',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const cases = [
      ['rows', closed, '--json'],
      ['rows', closed, '--ndjson'],
      ['rows', closed, '--csv'],
      ['rows', closed],
      ['preview', live, '--json'],
    ];
    for (const args of cases) {
      // Our end of the pipe closes after the first 100 bytes: the CLI's next write fails with EPIPE.
      const child = spawnCli(args);
      const err = collectStderr(child);
      const done = exited(child);
      let got = 0;
      await new Promise<void>((resolve) => {
        child.stdout!.on('data', (c: Buffer) => {
          got += c.length;
          if (got >= 100) {
            child.stdout!.destroy();
            resolve();
          }
        });
        child.stdout!.on('end', resolve);
      });
      const { code, signal } = await done;
      assert.ok(got >= 100, `${args.join(' ')}: wrote something first`);
      assert.equal(err(), '', `${args.join(' ')}: nothing on stderr`);
      assert.deepEqual([code, signal], [0, null], `${args.join(' ')}: exit 0`);
    }

    // And as a shell runs it.
    const shell = spawn(
      'bash',
      ['-c', `"$NODE" "$BIN" rows ${closed} --json | head -c 100 > "$OUT"; echo "\${PIPESTATUS[0]}"`],
      {
        cwd: dir,
        env: { ...env, NODE: process.execPath, BIN, OUT: path.join(dir, 'head.out') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const shellErr = collectStderr(shell);
    let status = '';
    for await (const c of shell.stdout) status += String(c);
    await exited(shell);
    assert.equal(shellErr(), '', '`| head -c 100`: nothing on stderr');
    assert.equal(status.trim(), '0', '`| head -c 100`: shipbatch exits 0');
    assert.equal((await readFile(path.join(dir, 'head.out'), 'utf8')).length, 100);
  },
);

test(
  `rows --ndjson over ${BIG_ROWS.toLocaleString('en')} rows through a slow reader: peak RSS under ${RSS_LIMIT_MB} MB`,
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const id = `batch-pipe-big-${randomUUID().slice(0, 8)}`;
    await insertLedgerBatch(pool, id, BIG_ROWS);
    try {
      const child = spawnCli(['rows', id, '--ndjson']);
      const err = collectStderr(child);
      const done = exited(child);
      let peakKb = 0;
      const sample = async () => {
        const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
        peakKb = Math.max(peakKb, Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0));
      };
      const sampler = setInterval(() => void sample(), 20);
      // The reader waits first (the CLI must wait too, not buffer), then reads line by line.
      const wait = () => undefined;
      child.stdout!.on('readable', wait);
      await new Promise((r) => setTimeout(r, 1000));
      child.stdout!.off('readable', wait);
      let n = 0;
      let rest = '';
      child.stdout!.setEncoding('utf8');
      for await (const chunk of child.stdout!) {
        const lines = (rest + (chunk as string)).split('\n');
        rest = lines.pop()!;
        for (const line of lines) assert.equal((JSON.parse(line) as BatchRow).rowNo, ++n);
      }
      assert.equal(rest, '', 'the last line ends with a newline');
      await sample();
      clearInterval(sampler);
      const { code } = await done;
      assert.equal(err(), '');
      assert.equal(code, 0);
      assert.equal(n, BIG_ROWS);
      const peakMb = peakKb / 1024;
      t.diagnostic(`peak RSS of shipbatch rows --ndjson over ${BIG_ROWS} rows: ${peakMb.toFixed(1)} MB`);
      assert.ok(peakKb > 0, 'VmHWM was read');
      assert.ok(peakMb < RSS_LIMIT_MB, `peak RSS ${peakMb.toFixed(1)} MB`);
    } finally {
      await deleteLedgerBatch(pool, id);
    }
  },
);
