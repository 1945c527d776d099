/**
 * The UPS session pool at the batch's scale: 200 rows through the batch workflow against serial sandboxes (one call at a time
 * per process, like the real UPS MCP server) with a simulated UPS round trip, through a pool of 4
 * sessions and through a pool of 1, with the client's default timeouts. With the pool, no create is
 * ambiguous (one create_shipment per reference, no reconcile, no needs_review) and the calls really run
 * side by side (up to 4 at once, over 4 processes); with one session they never overlap. Compared by
 * facts from the sandbox's call log (overlap of calls), not by wall-clock thresholds; rows/s of both
 * are printed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createUpsClient } from '../../activities/ups/from-config';
import { readCallLog, type CallLogEntry } from '../../ups-sandbox/call-log';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { batchInput, createOrdersTable, makeOrders, startBatch } from '../helpers/batch';

const ROWS = 200;
/** Pool of 1: fewer rows, the same per-call facts (keeps the file near a minute). */
const SINGLE_ROWS = 40;
/**
 * A UPS round trip long enough to dominate the sandbox's own CPU (labels), which on a loaded 2-core
 * machine would otherwise set the pace of both pools alike.
 */
const LATENCY_MS = 250;

let env: TestEnvironment;
before(async () => {
  env = await openTestEnvironment('batch-pool');
});
after(async () => {
  await env?.close();
});

/** Most calls in progress at one instant (half-open intervals [at, at + ms)). */
function maxOverlap(calls: readonly CallLogEntry[]): number {
  const edges = calls.flatMap((c) => {
    const start = Date.parse(c.at);
    return [
      { t: start, d: 1 },
      { t: start + c.ms, d: -1 },
    ];
  });
  // An end before a start at the same instant: back-to-back calls are not concurrent.
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const e of edges) {
    now += e.d;
    max = Math.max(max, now);
  }
  return max;
}

async function runThroughPool(sessions: number, rowCount: number) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `shipbatch-batch-pool-${sessions}-`));
  const knobsFile = path.join(dataDir, 'knobs.json');
  writeFileSync(knobsFile, JSON.stringify({ latency: { kind: 'fixed', ms: LATENCY_MS } }));
  const ups = createUpsClient({
    ...env.config.ups,
    sessions,
    // The pacer guards a real account's rate limit; here the pool alone should set the pace.
    callsPerSecond: 0,
    sandboxDataDir: dataDir,
    sandboxKnobsEnv: { UPS_SANDBOX_KNOBS_FILE: knobsFile },
  });
  try {
    const table = await createOrdersTable(env.pool, makeOrders(rowCount), `orders_pool${sessions}`);
    const started = performance.now();
    const result = await env.withWorker(
      async () => {
        const handle = await startBatch(
          env.client,
          env.taskQueue,
          batchInput(table, { mode: 'auto', options: { previewRows: 0 } }),
        );
        return handle.result();
      },
      { ups },
    );
    const seconds = (performance.now() - started) / 1000;
    const { rows } = await env.pool.query<{ reference: string; status: string }>(
      `SELECT reference, status FROM batch_rows WHERE batch_id = $1 ORDER BY row_no`,
      [result.batchId],
    );
    const calls = readCallLog(dataDir);
    const creates = calls.filter((c) => c.tool === 'create_shipment');
    return { result, rows, calls, creates, seconds, rowCount };
  } finally {
    await ups.close();
  }
}

test('200 rows through a pool of 4 serial sandboxes: one create per reference, calls side by side', async () => {
  const pooled = await runThroughPool(4, ROWS);
  const single = await runThroughPool(1, SINGLE_ROWS);

  for (const [label, run] of [
    ['pool of 4', pooled],
    ['pool of 1', single],
  ] as const) {
    assert.equal(run.result.phase, 'completed', `${label}: ${JSON.stringify(run.result.counts)}`);
    assert.equal(run.result.counts.shipped, run.rowCount, label);
    assert.equal(run.result.counts.needsReview, 0, label);
    assert.equal(run.result.counts.failed, 0, label);
    assert.ok(
      run.rows.every((r) => r.status === 'shipped'),
      label,
    );
    // Not ambiguous: exactly one create per row's reference, every one answered, none reconciled.
    const perRef = new Map<string, number>();
    for (const c of run.creates) perRef.set(c.reference ?? '', (perRef.get(c.reference ?? '') ?? 0) + 1);
    assert.deepEqual(
      [...perRef.keys()].sort(),
      run.rows.map((r) => r.reference).sort(),
      `${label}: creates for the batch's references only`,
    );
    assert.ok(
      [...perRef.values()].every((n) => n === 1),
      `${label}: a reference got more than one create`,
    );
    assert.ok(
      run.creates.every((c) => c.outcome === 'ok'),
      `${label}: ${JSON.stringify(run.creates.find((c) => c.outcome !== 'ok'))}`,
    );
    assert.equal(run.calls.filter((c) => c.tool !== 'create_shipment').length, 0, `${label}: no reconcile`);
  }

  // The pool: 4 processes, each serial, running side by side.
  const pids = (run: typeof pooled) => new Set(run.creates.map((c) => c.pid));
  assert.equal(pids(pooled).size, 4);
  for (const pid of pids(pooled)) {
    assert.equal(maxOverlap(pooled.creates.filter((c) => c.pid === pid)), 1, `process ${pid} is serial`);
  }
  const pooledOverlap = maxOverlap(pooled.creates);
  assert.ok(pooledOverlap >= 2 && pooledOverlap <= 4, `pool of 4: up to ${pooledOverlap} calls at once`);
  // One session: one process, never two calls at once.
  assert.equal(pids(single).size, 1);
  assert.equal(maxOverlap(single.creates), 1);
  // Time spent in UPS calls over the span of the calls: how many ran side by side on average.
  const spanMs = (run: typeof pooled) =>
    Math.max(...run.creates.map((c) => Date.parse(c.at) + c.ms)) -
    Math.min(...run.creates.map((c) => Date.parse(c.at)));
  const parallelism = (run: typeof pooled) => run.creates.reduce((sum, c) => sum + c.ms, 0) / spanMs(run);
  assert.ok(parallelism(single) <= 1.01, `pool of 1: ${parallelism(single)}`);
  assert.ok(
    parallelism(pooled) >= 2,
    `pool of 4: only ${parallelism(pooled).toFixed(2)} calls at once on average`,
  );
  // Each call's own time is the UPS round trip, not a wait in the server's queue.
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const run of [pooled, single]) {
    assert.ok(median(run.creates.map((c) => c.ms)) >= LATENCY_MS);
  }

  // Rows/s while shipping (first create → last answer), and over the whole batch (worker start, load, close).
  const rate = (run: typeof pooled) =>
    `${((run.rowCount * 1000) / spanMs(run)).toFixed(1)} rows/s shipping (${(run.rowCount / run.seconds).toFixed(1)} overall)`;
  console.log(
    `UPS latency ${LATENCY_MS} ms: pool of 4, ${ROWS} rows: ${rate(pooled)}, up to ${pooledOverlap} ` +
      `calls at once, ${parallelism(pooled).toFixed(2)} on average, median call ` +
      `${median(pooled.creates.map((c) => c.ms))} ms; pool of 1, ${SINGLE_ROWS} rows: ${rate(single)}, ` +
      `${parallelism(single).toFixed(2)} on average, median call ${median(single.creates.map((c) => c.ms))} ms`,
  );
});
