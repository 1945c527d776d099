/**
 * Chaos (docs/design.md §10): two worker processes share one batch; one of them is SIGKILLed three times
 * mid-batch and restarted. The batch completes with zero duplicate shipments (the sandbox's own record, by
 * reference), zero lost rows, and ledger totals = BatchResult = sandbox record.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { openPool } from '../../db/pool';
import { shipmentsPerReference, callsPerReference } from '../../ups-sandbox/call-log';
import { processExited, startWorkerProcess } from '../helpers/worker-process';
import { batchInput, createOrdersTable, makeOrders, startBatch, waitForStatus } from '../helpers/batch';
import type pg from 'pg';

const ROWS = 60;

let connection: Connection;
let client: Client;
let pool: pg.Pool;
const taskQueue = `chaos-${randomUUID().slice(0, 8)}`;
const sandboxDir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-chaos-ups-'));

function startWorker(name: string): ChildProcess {
  return startWorkerProcess(name, {
    taskQueue,
    sandboxDir,
    knobs: { latency: { kind: 'uniform', minMs: 40, maxMs: 120 } },
    // Calls take well under a second: a killed worker's create is known to have ended after 5 s.
    env: { SHIPBATCH_UPS_CALL_TIMEOUT: '5s', SHIPBATCH_UPS_RECONCILE_GRACE: '3s' },
  });
}

const exited = processExited;

before(async () => {
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  client = new Client({ connection });
  pool = await openPool({ url: process.env.DATABASE_URL!, max: 3 });
});
after(async () => {
  await connection?.close();
  await pool?.end();
});

test('two workers share a batch; one SIGKILLed three times mid-batch changes nothing in the outcome', async () => {
  const table = await createOrdersTable(pool, makeOrders(ROWS));
  const steady = startWorker('steady');
  let victim = startWorker('victim');
  try {
    const handle = await startBatch(
      client,
      taskQueue,
      batchInput(table, { mode: 'auto', options: { concurrency: 8 } }),
    );
    for (let kill = 1; kill <= 3; kill++) {
      await waitForStatus(handle, (s) => s.counts.shipped >= (ROWS * kill) / 5, 180_000);
      victim.kill('SIGKILL');
      await exited(victim);
      victim = startWorker(`victim-${kill}`);
    }
    const result = await handle.result();
    assert.equal(result.phase, 'completed');
    assert.equal(result.counts.shipped, ROWS, 'zero lost rows');

    const { rows } = await pool.query<{ reference: string; status: string; cost_cents: string }>(
      'SELECT reference, status, cost_cents FROM batch_rows WHERE batch_id = $1',
      [handle.workflowId],
    );
    const shipments = shipmentsPerReference(sandboxDir);
    for (const r of rows) assert.equal(shipments.get(r.reference), 1, `${r.reference} shipped exactly once`);
    assert.equal(shipments.size, ROWS, 'the sandbox holds no shipment the ledger does not know');
    const ledgerCents = rows.reduce((s, r) => s + Number(r.cost_cents), 0);
    assert.equal(result.totalCostCents, ledgerCents, 'ledger totals = BatchResult');

    // Both workers took part: activity task identities in the history.
    const history = await handle.fetchHistory();
    const identities = new Set(
      (history.events ?? []).flatMap((e) =>
        e.activityTaskStartedEventAttributes?.identity ? [e.activityTaskStartedEventAttributes.identity] : [],
      ),
    );
    assert.ok(identities.size >= 2, `rows spread over the workers (${[...identities].join(', ')})`);
    const creates = [...callsPerReference(sandboxDir).values()].reduce((a, b) => a + b, 0);
    assert.ok(creates >= ROWS);
  } finally {
    for (const w of [steady, victim]) w.kill('SIGTERM');
    await Promise.all([exited(steady), exited(victim)]);
  }
});
