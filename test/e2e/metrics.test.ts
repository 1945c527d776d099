/**
 * The worker's Prometheus endpoint (SHIPBATCH_METRICS_ADDRESS), on a real worker process (`workers/main.ts`: the
 * runtime's telemetry is installed once per process) running a real batch against the sandbox: some rows
 * refused by UPS (failed), one whose create answer is lost and whose lookup fails (needs_review). The endpoint
 * is scraped while the batch ships and after: shipbatch's counters against the ledger and the sandbox's call
 * log, the SDK's own `temporal_*` metrics, and every Temporal metric the Grafana dashboard queries.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type pg from 'pg';
import { openPool } from '../../db/pool';
import { finishSignal } from '../../domain/messages';
import { freePort } from '../../stack/processes';
import { readCallLog } from '../../ups-sandbox/call-log';
import { allScrapedNames } from '../../activities/metrics';
import { processExited, startWorkerProcess } from '../helpers/worker-process';
import { dashboardQueries, labelsUsed, queriedMetrics, readDashboard } from '../helpers/grafana';
import {
  batchInput,
  createOrdersTable,
  inPhase,
  makeOrders,
  startBatch,
  waitForStatus,
} from '../helpers/batch';

const ROOT = path.join(import.meta.dirname, '..', '..');

let connection: Connection;
let client: Client;
let pool: pg.Pool;

before(async () => {
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  client = new Client({ connection });
  pool = await openPool({ url: process.env.DATABASE_URL!, max: 3 });
});
after(async () => {
  await connection?.close();
  await pool?.end();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function parseScrape(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    assert.ok(m, `a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

async function scrape(address: string): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(`http://${address}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  return { text, samples: parseScrape(text) };
}

/** Sum of the samples named `name` whose labels include `where`. */
function sum(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

async function ledgerCounts(batchId: string): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM batch_rows WHERE batch_id = $1 GROUP BY status',
    [batchId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

const ROWS = 60;
/** Rows whose ZIP the sandbox refuses (120802): they fail at UPS. None among the first 10. */
const REFUSED = (i: number) => i >= 10 && i % 10 === 3;

test('the worker serves shipbatch and Temporal metrics; during and after a batch they agree with the ledger', async (t) => {
  const address = `127.0.0.1:${await freePort()}`;
  const sandboxDir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-metrics-ups-'));
  const taskQueue = `metrics-${path.basename(sandboxDir).slice(-6)}`;
  const worker = startWorkerProcess('metrics', {
    taskQueue,
    sandboxDir,
    knobs: {
      latency: { kind: 'fixed', ms: 150 },
      rejectPostalCodes: ['99999'],
      rules: [
        // The first create lands at UPS but its answer is lost (the row is doubtful); every label lookup
        // is refused, so that row cannot be told apart: needs_review.
        { tool: 'create_shipment', fault: 'timeout_after_create', times: 1 },
        { tool: 'recover_label', fault: 'invalid_request', times: 1000 },
      ],
    },
    env: { SHIPBATCH_METRICS_ADDRESS: address, SHIPBATCH_UPS_SESSIONS: '2' },
  });
  try {
    // The endpoint is up before the worker polls.
    for (let i = 0; ; i++) {
      const up = await fetch(`http://${address}/metrics`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      assert.ok(i < 300 && worker.exitCode === null, 'the metrics endpoint answers within a minute');
      await new Promise((r) => setTimeout(r, 200));
    }

    const table = await createOrdersTable(
      pool,
      makeOrders(ROWS, (i, o) => {
        if (REFUSED(i)) o.zip = '99999';
      }),
    );
    const handle = await startBatch(
      client,
      taskQueue,
      batchInput(table, { mode: 'auto', options: { concurrency: 4, previewRows: 5 } }),
    );
    const batchId = handle.workflowId;
    const rowsOf = (samples: Sample[], status: string) =>
      sum(samples, 'shipbatch_rows_total', { batch: batchId, status });

    // During the batch: the shipped count grows while rows are still to ship (two scrapes that show it).
    const during: { shipped: number; open: number }[] = [];
    const busySeen: number[] = [];
    for (let i = 0; new Set(during.map((d) => d.shipped)).size < 2; i++) {
      assert.ok(i < 1200, `progress seen in the scrapes while the batch shipped: ${JSON.stringify(during)}`);
      const { samples } = await scrape(address);
      busySeen.push(sum(samples, 'shipbatch_ups_sessions_busy'));
      const shipped = rowsOf(samples, 'shipped');
      // Read after the scrape: rows still open now were open when it was taken.
      const ledger = await ledgerCounts(batchId);
      const open = (ledger.pending ?? 0) + (ledger.in_flight ?? 0);
      assert.ok(shipped <= (ledger.shipped ?? 0), 'never more than the ledger holds');
      if (shipped > 0 && open > 0) during.push({ shipped, open });
      await new Promise((r) => setTimeout(r, 100));
    }
    const [first, last] = [during[0]!, during.at(-1)!];
    t.diagnostic(
      `mid-batch scrapes: ${first.shipped} rows counted shipped (${first.open} open), ` +
        `then ${last.shipped} (${last.open} open)`,
    );

    await waitForStatus(handle, inPhase('awaiting_action'), 180_000);
    const ledger = await ledgerCounts(batchId);
    const refused = Array.from({ length: ROWS }, (_, i) => i).filter(REFUSED).length;
    assert.equal(ledger.failed, refused, 'the refused ZIPs failed');
    assert.equal(ledger.needs_review, 1, 'the lost create could not be looked up');
    assert.equal(ledger.shipped, ROWS - refused - 1);

    const { text, samples } = await scrape(address);
    for (const status of ['shipped', 'failed', 'needs_review'])
      assert.equal(rowsOf(samples, status), ledger[status], `shipbatch_rows_total{status="${status}"}`);

    // UPS calls: each tool's count is the sandbox's call log; every call timed once.
    const log = readCallLog(sandboxDir);
    for (const tool of ['create_shipment', 'rate_shipment', 'recover_label']) {
      assert.equal(
        sum(samples, 'shipbatch_ups_calls_total', { tool }),
        log.filter((c) => c.tool === tool).length,
        `${tool} calls counted as the sandbox logged them`,
      );
    }
    const creates = (outcome: string) =>
      sum(samples, 'shipbatch_ups_calls_total', { tool: 'create_shipment', outcome });
    assert.ok(creates('ok') >= (ledger.shipped ?? 0), 'at least one successful create per shipped row');
    assert.equal(creates('address'), refused, 'each refused ZIP: one create, refused as an address');
    assert.ok(
      sum(samples, 'shipbatch_ups_calls_total', { tool: 'recover_label', outcome: 'validation' }) >= 1,
      'the refused lookups are counted under their category',
    );
    const callSeries = samples.filter((s) => s.name === 'shipbatch_ups_calls_total');
    for (const c of callSeries) {
      assert.equal(
        sum(samples, 'shipbatch_ups_call_duration_ms_count', c.labels),
        c.value,
        `duration count = calls for ${JSON.stringify(c.labels)}`,
      );
    }
    const calls = callSeries.reduce((n, s) => n + s.value, 0);
    assert.equal(
      sum(samples, 'shipbatch_ups_session_wait_ms_count'),
      calls,
      'every call waited (maybe 0 ms)',
    );
    // The bucket bounds are shipbatch's (activities/metrics.ts), not the runtime's default 50…10,000.
    assert.ok(
      samples.some((s) => s.name === 'shipbatch_ups_call_duration_ms_bucket' && s.labels.le === '250'),
    );
    assert.ok(samples.some((s) => s.name === 'shipbatch_template_render_ms_bucket' && s.labels.le === '0.5'));

    assert.equal(sum(samples, 'shipbatch_ups_sessions'), 2, 'the pool size as configured');
    assert.equal(sum(samples, 'shipbatch_ups_sessions_busy'), 0, 'no call in flight once the batch waits');
    assert.ok(
      Math.max(...busySeen) >= 1 && Math.max(...busySeen) <= 2,
      `sessions busy seen: ${busySeen.join(' ')}`,
    );
    assert.equal(sum(samples, 'shipbatch_template_render_ms_count'), ROWS, 'each row rendered once');

    // Labels never carry row data: only these label names, and no order's values.
    const names = allScrapedNames();
    for (const s of samples.filter((x) => x.name.startsWith('shipbatch_'))) {
      assert.ok(names.has(s.name), `${s.name} is defined in activities/metrics.ts`);
      for (const key of Object.keys(s.labels))
        assert.ok(['batch', 'status', 'tool', 'outcome', 'le'].includes(key), `label ${key} on ${s.name}`);
    }
    const leaked = samples.flatMap((s) =>
      Object.values(s.labels).filter((v) => /ORD-1|99999|Elm St|Portland|Davis/.test(v)),
    );
    assert.deepEqual(leaked, [], 'no row data in any label');

    // The SDK's own metrics are served beside them, with every one the dashboard queries.
    assert.ok(samples.some((s) => s.name.startsWith('temporal_')));
    const served = new Set(samples.map((s) => s.name));
    const queried = queriedMetrics(dashboardQueries(readDashboard()), 'temporal_');
    assert.ok(queried.size >= 2, 'the dashboard queries Temporal metrics');
    for (const name of queried) assert.ok(served.has(name), `${name} (queried by the dashboard) is served`);
    // …and every label a dashboard query groups by or matches on is one the metric has.
    for (const expr of dashboardQueries(readDashboard())) {
      for (const name of [...queriedMetrics([expr], 'temporal_'), ...queriedMetrics([expr], 'shipbatch_')]) {
        const has = new Set(samples.filter((s) => s.name === name).flatMap((s) => Object.keys(s.labels)));
        for (const label of labelsUsed(expr))
          assert.ok(has.has(label), `${name} has label ${label}: ${expr}`);
      }
    }

    const kept = path.join(sandboxDir, 'metrics.txt');
    writeFileSync(kept, text);
    t.diagnostic(`the scrape after the batch: ${kept}`);
    for (const line of text.split('\n')) {
      if (/^shipbatch_(rows_total|ups_calls_total|ups_sessions(_busy)? )/.test(line)) t.diagnostic(line);
    }

    await handle.signal(finishSignal, {});
    assert.equal((await handle.result()).phase, 'completed_with_errors');
  } finally {
    worker.kill('SIGTERM');
    await processExited(worker);
  }
  assert.equal(worker.exitCode, 0, 'the worker stopped cleanly');
});

test('an address that cannot be bound stops the worker with exit 1, naming the variable', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const { port } = blocker.address() as net.AddressInfo;
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'workers', 'main.ts')], {
      env: { ...process.env, SHIPBATCH_METRICS_ADDRESS: `127.0.0.1:${port}` },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`SHIPBATCH_METRICS_ADDRESS=127\\.0\\.0\\.1:${port}: .*in use`, 'i'));
  } finally {
    blocker.close();
  }
});
