/**
 * The worker log during a UPS outage: a real worker process, every create_shipment answered
 * `unavailable` (HTTP 503; the preview's rate calls work, so rows are shipped and fail), a 10-row auto batch.
 * Each failing activity attempt the SDK logs is one WARN line (activity, batch, row, attempt, failure type, UPS
 * category/code, message), never a stack; a batch whose breaker stops calling UPS (waiting_for_ups) may log
 * none. Reports how many lines the worker wrote during the outage.
 * SHIPBATCH_LOG_OUTAGE_SECONDS: how long the outage is watched (20); SHIPBATCH_LOG_OUTAGE_KNOBS: other
 * sandbox knobs (JSON), e.g. '{"faultRates":{"unavailable":1}}' for every UPS call.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type pg from 'pg';
import { openPool } from '../../db/pool';
import { processExited, startWorkerProcess } from '../helpers/worker-process';
import { statusQuery } from '../../domain/messages';
import { batchInput, createOrdersTable, makeOrders, startBatch } from '../helpers/batch';

let connection: Connection;
let client: Client;
let pool: pg.Pool;
const taskQueue = `log-outage-${randomUUID().slice(0, 8)}`;
const sandboxDir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-log-outage-ups-'));
const seconds = Number(process.env.SHIPBATCH_LOG_OUTAGE_SECONDS ?? 20);
const knobs = process.env.SHIPBATCH_LOG_OUTAGE_KNOBS
  ? (JSON.parse(process.env.SHIPBATCH_LOG_OUTAGE_KNOBS) as object)
  : { faultRates: { unavailable: 1 }, faultTools: ['create_shipment'] };

before(async () => {
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  client = new Client({ connection });
  pool = await openPool({ url: process.env.DATABASE_URL!, max: 3 });
});
after(async () => {
  await connection?.close();
  await pool?.end();
});

/** `<ISO time> [WARN] Activity failed activity=… batch=… [row=…] attempt=… type=Ups…Error …`, on one line. */
const SHORT_FAILURE =
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[WARN\] [A-Z][\w ]+ activity=\w+ batch=\S+ (row=\d+ )?attempt=\d+ type=Ups\w+Error /;

test('UPS down: one single-line WARN per failing activity attempt in the worker log, no stacks', async (t) => {
  const lines: string[] = [];
  let partial = '';
  let polling!: () => void;
  const started = new Promise<void>((resolve) => (polling = resolve));
  // The SDK's start-up entries (worker state RUNNING, no Nexus services) come just after our own line.
  let running!: () => void;
  const sdkStarted = new Promise<void>((resolve) => (running = resolve));
  const worker = startWorkerProcess('outage', { taskQueue, sandboxDir, knobs });
  worker.stderr!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      if (line.startsWith('worker: polling task queue')) polling();
      if (line.includes('No Nexus services registered')) running();
      lines.push(line);
    }
  });
  const exited = processExited(worker).then(() => {
    throw new Error(`the worker exited early (${worker.exitCode}): ${lines.join('\n')}`);
  });
  try {
    await Promise.race([started, exited]);
    await Promise.race([sdkStarted, new Promise((r) => setTimeout(r, 5000)), exited]);
    const atStart = lines.length;
    const table = await createOrdersTable(pool, makeOrders(10));
    const handle = await startBatch(client, taskQueue, batchInput(table, { mode: 'auto' }));
    await Promise.race([new Promise((r) => setTimeout(r, seconds * 1000)), exited]);
    const during = lines.slice(atStart);
    // The SDK's "Activity failed" for failures that throw; "UPS call failed" from the activities for
    // failures about UPS that return (the row waits, its retries unspent).
    const failures = during.filter((l) => l.includes(' Activity failed ') || l.includes(' UPS call failed '));
    const bytes = during.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    t.diagnostic(
      `worker stderr during ${seconds} s of outage: ${during.length} lines (${bytes} bytes), ` +
        `${failures.length} "Activity failed" entries`,
    );
    const status = await handle.query(statusQuery).catch(() => undefined);
    t.diagnostic(`batch status: ${JSON.stringify(status)}`);
    if (process.env.SHIPBATCH_TEST_VERBOSE) t.diagnostic(during.slice(0, 40).join('\n'));
    await handle.terminate('test over').catch(() => undefined);

    // Not vacuous: the failing calls were logged, or the batch stopped calling UPS (its breaker).
    assert.ok(
      failures.length > 0 || status?.phase === 'waiting_for_ups',
      `failing calls were logged, or the batch waits for UPS (${status?.phase})`,
    );
    const others = during.filter((l) => !SHORT_FAILURE.test(l));
    assert.deepEqual(others.slice(0, 10), [], 'every line during the outage is a one-line WARN of a failure');
    for (const l of failures) {
      assert.match(l, / category=\w+ code=\S+ message="[^"\\]*(\\.[^"\\]*)*"$/, 'category, code, message');
      assert.ok(l.length < 600, `a short line: ${l}`);
    }
  } finally {
    exited.catch(() => undefined);
    worker.kill('SIGTERM');
    await processExited(worker);
  }
});
