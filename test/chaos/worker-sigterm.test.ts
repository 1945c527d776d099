/**
 * A deploy: the worker process gets SIGTERM while creates are at UPS. Its shutdown grace lets them finish,
 * so no row becomes doubtful (no label recovery at all); a new worker finishes the batch.
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
import { readCallLog, shipmentsPerReference } from '../../ups-sandbox/call-log';
import { processExited, startWorkerProcess } from '../helpers/worker-process';
import { batchInput, createOrdersTable, makeOrders, startBatch } from '../helpers/batch';

let connection: Connection;
let client: Client;
let pool: pg.Pool;
const taskQueue = `sigterm-${randomUUID().slice(0, 8)}`;
const sandboxDir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-sigterm-ups-'));

before(async () => {
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  client = new Client({ connection });
  pool = await openPool({ url: process.env.DATABASE_URL!, max: 3 });
});
after(async () => {
  await connection?.close();
  await pool?.end();
});

test('SIGTERM mid-create: the creates in flight finish, nothing becomes doubtful, the batch completes once', async () => {
  const start = (name: string) =>
    startWorkerProcess(name, {
      taskQueue,
      sandboxDir,
      // Every create takes 4 s at UPS.
      knobs: { rules: [{ tool: 'create_shipment', fault: 'slow', ms: 4000, times: 100_000 }] },
      env: { SHIPBATCH_UPS_CALL_TIMEOUT: '10s', SHIPBATCH_UPS_SESSIONS: '3' },
    });
  const table = await createOrdersTable(pool, makeOrders(6));
  let worker = start('first');
  try {
    const handle = await startBatch(
      client,
      taskQueue,
      batchInput(table, { mode: 'auto', options: { concurrency: 3 } }),
    );
    // Wait until creates are at UPS, then deploy.
    for (let i = 0; ; i++) {
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM batch_rows WHERE batch_id = $1 AND creates_sent > 0 AND status = 'in_flight'`,
        [handle.workflowId],
      );
      if (rows[0]!.n > 0) break;
      if (i > 600) throw new Error('no create was sent within 2 minutes');
      await new Promise((r) => setTimeout(r, 200));
    }
    worker.kill('SIGTERM');
    await processExited(worker);
    assert.equal(worker.exitCode, 0, 'a clean shutdown');
    const { rows: afterStop } = await pool.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM batch_rows WHERE batch_id = $1 GROUP BY status`,
      [handle.workflowId],
    );
    const byStatus = Object.fromEntries(afterStop.map((r) => [r.status, r.n]));
    assert.equal(byStatus.in_flight ?? 0, 0, 'every create in flight finished before the worker left');
    assert.ok((byStatus.shipped ?? 0) > 0, 'and was recorded');

    worker = start('second');
    const result = await handle.result();
    assert.equal(result.phase, 'completed');
    assert.equal(result.counts.shipped, 6);
    const lookups = readCallLog(sandboxDir).filter((c) => c.tool === 'recover_label');
    assert.equal(lookups.length, 0, 'no row became doubtful, so none was looked up');
    const { rows } = await pool.query<{ reference: string }>(
      'SELECT reference FROM batch_rows WHERE batch_id = $1',
      [handle.workflowId],
    );
    const shipments = shipmentsPerReference(sandboxDir);
    for (const r of rows) assert.equal(shipments.get(r.reference), 1, `${r.reference} shipped exactly once`);
  } finally {
    worker.kill('SIGTERM');
    await processExited(worker);
  }
});
