/**
 * The batch on the production-like cluster: a few hundred rows shipped by two worker
 * processes while each Temporal service in turn — history, matching, frontend, then Temporal's own worker
 * service — is SIGKILLed and restarted by the cluster's supervisor. Zero duplicate shipments (the sandbox's own record, by reference), zero lost
 * rows, ledger totals = BatchResult. Run by `npm run test:cluster` (needs SHIPBATCH_CLUSTER_DATA_DIR).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type pg from 'pg';
import { openPool } from '../../db/pool';
import type { BatchStatus } from '../../domain/batch';
import { statusQuery } from '../../domain/messages';
import { shipmentsPerReference } from '../../ups-sandbox/call-log';
import { isAlive, readClusterState } from '../../stack/cluster/state';
import { SERVICES, type Service } from '../../stack/cluster/config';
import { isPortOpen } from '../../stack/processes';
import { processExited, startWorkerProcess } from '../helpers/worker-process';
import { batchInput, createOrdersTable, makeOrders, startBatch } from '../helpers/batch';

const ROWS = 300;
const clusterDir = process.env.SHIPBATCH_CLUSTER_DATA_DIR;

let connection: Connection;
let client: Client;
let pool: pg.Pool;
const taskQueue = `cluster-kill-${randomUUID().slice(0, 8)}`;
const sandboxDir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-cluster-kill-ups-'));

function startWorker(name: string): ChildProcess {
  // Slow enough that the batch is still running when the services are killed.
  return startWorkerProcess(name, {
    taskQueue,
    sandboxDir,
    knobs: { latency: { kind: 'uniform', minMs: 150, maxMs: 350 } },
    // Calls take under a second: a create whose attempt was cut off is known to have ended after 5 s.
    env: { SHIPBATCH_UPS_CALL_TIMEOUT: '5s', SHIPBATCH_UPS_RECONCILE_GRACE: '3s' },
  });
}

const exited = processExited;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The status query with a deadline: while a service is down a call may otherwise wait a long time. */
async function status(handle: WorkflowHandle): Promise<BatchStatus | undefined> {
  try {
    return await connection.withDeadline(Date.now() + 5000, () => handle.query(statusQuery));
  } catch {
    return undefined;
  }
}

async function waitShipped(handle: WorkflowHandle, atLeast: number, timeoutMs: number): Promise<BatchStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: BatchStatus | undefined;
  while (Date.now() < deadline) {
    last = (await status(handle)) ?? last;
    if (last && last.counts.shipped >= atLeast) return last;
    await sleep(200);
  }
  throw new Error(
    `timed out waiting for ${atLeast} shipped rows; last status ${JSON.stringify(last?.counts)}`,
  );
}

/**
 * SIGKILL one Temporal service and wait until the supervisor has restarted it (a new pid listening
 * on its port). Returns the seconds it was down.
 */
async function killService(service: Service): Promise<number> {
  const before = await readClusterState(clusterDir!);
  const entry = before?.processes[service];
  assert.ok(entry?.pid && isAlive(entry.pid), `${service} runs before the kill`);
  const killedAt = Date.now();
  process.kill(entry.pid, 'SIGKILL');
  const port = service === 'worker' ? before!.ports.workerMembership : before!.ports[service];
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(100)) {
    const now = await readClusterState(clusterDir!);
    const pid = now?.processes[service]?.pid;
    if (pid && pid !== entry.pid && isAlive(pid) && (await isPortOpen(port))) {
      assert.equal(now.processes[service]!.restarts, entry.restarts + 1, `${service} restarted once`);
      return (Date.now() - killedAt) / 1000;
    }
  }
  throw new Error(`${service} was not restarted within 120 s`);
}

before(async () => {
  assert.ok(
    clusterDir,
    'run through `npm run test:cluster`, which starts the cluster and sets SHIPBATCH_CLUSTER_DATA_DIR',
  );
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
  pool = await openPool({ url: process.env.DATABASE_URL!, max: 3 });
});
after(async () => {
  await connection?.close();
  await pool?.end();
  rmSync(sandboxDir, { recursive: true, force: true });
});

test(`${ROWS} rows, two workers, every Temporal service SIGKILLed in turn and restarted: zero duplicates, zero lost`, async () => {
  const table = await createOrdersTable(pool, makeOrders(ROWS));
  const workers = [startWorker('w1'), startWorker('w2')];
  const started = Date.now();
  try {
    const handle = await startBatch(
      client,
      taskQueue,
      batchInput(table, { mode: 'auto', options: { concurrency: 8 } }),
    );

    // history, matching, frontend, worker: each killed at the next fifth of the batch.
    const kills: { service: Service; atShipped: number; downS: number }[] = [];
    for (const [i, service] of SERVICES.entries()) {
      const at = await waitShipped(handle, (ROWS * (i + 1)) / (SERVICES.length + 1), 300_000);
      assert.ok(at.counts.shipped < ROWS, `${service} is killed mid-batch`);
      kills.push({ service, atShipped: at.counts.shipped, downS: await killService(service) });
    }

    const result = await connection.withDeadline(Date.now() + 600_000, () => handle.result());
    const seconds = (Date.now() - started) / 1000;
    assert.equal(result.phase, 'completed');
    assert.equal(result.counts.shipped, ROWS, 'zero lost rows');

    const { rows } = await pool.query<{ reference: string; status: string; cost_cents: string }>(
      'SELECT reference, status, cost_cents FROM batch_rows WHERE batch_id = $1',
      [handle.workflowId],
    );
    assert.equal(rows.length, ROWS, 'every row is in the ledger');
    const shipments = shipmentsPerReference(sandboxDir);
    const duplicates = [...shipments.values()].filter((n) => n > 1).length;
    for (const r of rows) assert.equal(shipments.get(r.reference), 1, `${r.reference} shipped exactly once`);
    assert.equal(shipments.size, ROWS, 'the sandbox holds no shipment the ledger does not know');
    const ledgerCents = rows.reduce((s, r) => s + Number(r.cost_cents), 0);
    assert.equal(result.totalCostCents, ledgerCents, 'ledger totals = BatchResult');

    const history = await handle.fetchHistory();
    const identities = new Set(
      (history.events ?? []).flatMap((e) =>
        e.activityTaskStartedEventAttributes?.identity ? [e.activityTaskStartedEventAttributes.identity] : [],
      ),
    );
    assert.ok(identities.size >= 2, `rows spread over both workers (${[...identities].join(', ')})`);
    process.stderr.write(
      `kill test: ${ROWS} rows in ${seconds.toFixed(1)} s; ` +
        kills
          .map((k) => `${k.service} killed at ${k.atShipped} shipped, back after ${k.downS.toFixed(1)} s; `)
          .join('') +
        `${shipments.size} shipments, ${duplicates} duplicates, ` +
        `${ROWS - result.counts.shipped} lost; ${identities.size} worker identities\n`,
    );
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map(exited));
  }
});
