/**
 * The worker log during a UPS outage: a real worker process, every create_shipment answered
 * `unavailable` (HTTP 503; the preview's rate calls work, so rows are shipped and fail), a 10-row auto batch.
 * Each failing activity attempt the SDK or an activity logs is one JSON line at WARN (batchId, rowNo for a
 * row's attempt, activity, attempt, failure type, UPS tool/category/code, one-line message), never a stack;
 * a batch whose breaker stops calling UPS (waiting_for_ups) may log none. Reports how many lines the worker
 * wrote during the outage.
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

/** A worker log line as JSON (workers/log.ts), or undefined when it is not one JSON object. */
function entryOf(line: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** An expected failure's entry: WARN, a UPS failure type, its category and code, a message, no stack. */
function isShortFailure(e: Record<string, unknown> | undefined): boolean {
  return (
    e !== undefined &&
    e.level === 'WARN' &&
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(String(e.time)) &&
    typeof e.message === 'string' &&
    typeof e.batchId === 'string' &&
    typeof e.activity === 'string' &&
    Number.isInteger(e.attempt) &&
    /^Ups\w+Error$/.test(String(e.errorType)) &&
    typeof e.category === 'string' &&
    typeof e.code === 'string' &&
    typeof e.errorMessage === 'string' &&
    !('stack' in e)
  );
}

test('UPS down: one JSON line at WARN per failing activity attempt in the worker log, no stacks', async (t) => {
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
      // workers/main.ts's own line (plain text, or a JSON entry's message).
      if (line.includes('polling task queue')) polling();
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
    const entries = during.map(entryOf);
    // The SDK's "Activity failed" for failures that throw; "UPS call failed" from the activities for
    // failures about UPS that return (the row waits, its retries unspent).
    const failures = entries.filter(
      (e): e is Record<string, unknown> =>
        e?.message === 'Activity failed' || e?.message === 'UPS call failed',
    );
    const bytes = during.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    t.diagnostic(
      `worker stderr during ${seconds} s of outage: ${during.length} lines (${bytes} bytes), ` +
        `${failures.length} failure entries ("Activity failed", "UPS call failed")`,
    );
    for (const l of during.filter((_, i) => failures.includes(entries[i]!)).slice(0, 2))
      t.diagnostic(`line: ${l}`);
    const status = await handle.query(statusQuery).catch(() => undefined);
    t.diagnostic(`batch status: ${JSON.stringify(status)}`);
    if (process.env.SHIPBATCH_TEST_VERBOSE) t.diagnostic(during.slice(0, 40).join('\n'));
    await handle.terminate('test over').catch(() => undefined);

    // Not vacuous: the failing calls were logged, or the batch stopped calling UPS (its breaker).
    assert.ok(
      failures.length > 0 || status?.phase === 'waiting_for_ups',
      `failing calls were logged, or the batch waits for UPS (${status?.phase})`,
    );
    const others = during.filter((_, i) => !isShortFailure(entries[i]));
    assert.deepEqual(
      others.slice(0, 10),
      [],
      'every line during the outage is a one-line JSON WARN of a failure',
    );
    for (const e of failures) {
      const l = JSON.stringify(e);
      assert.equal(e.batchId, handle.workflowId, `the batch: ${l}`);
      if (e.activity === 'shipRow') {
        assert.ok(
          Number.isInteger(e.rowNo) && (e.rowNo as number) >= 1 && (e.rowNo as number) <= 10,
          `the row: ${l}`,
        );
      }
      assert.ok(!('taskToken' in e), 'no task token');
    }
    for (const l of during) assert.ok(l.length < 1000, `a short line: ${l}`);
  } finally {
    exited.catch(() => undefined);
    worker.kill('SIGTERM');
    await processExited(worker);
  }
});
