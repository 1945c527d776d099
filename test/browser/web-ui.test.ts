/**
 * The Temporal Web UI as an operator's front door, proven in a real browser: Debian's Chromium driven by
 * playwright-core against the dev server's UI on loopback, with a real worker, real PostgreSQL and the
 * sandbox over MCP. Batches are started with the typed client (as a backend service would), then found,
 * read, approved, restarted and cancelled through the UI's own pages and dialogs. Each test saves a
 * screenshot under .test-output/web-ui/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { ShipbatchClient } from '../../client/batches';
import type { BatchInputArg, BatchStatus } from '../../domain/batch';
import { readCallLog } from '../../ups-sandbox/call-log';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { batchInput, createOrdersTable, makeOrders, waitForStatus } from '../helpers/batch';
import { launchChromium, payloadIn, webUiBase, WebUi } from './web-ui-driver';

let env: TestEnvironment;
let client: ShipbatchClient;
let browser: Browser;
let ui: WebUi;

before(async () => {
  const base = webUiBase();
  env = await openTestEnvironment('webui');
  client = await ShipbatchClient.connect({ config: env.config });
  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  ui = new WebUi(page, base, env.config.temporal.namespace);
});

after(async () => {
  await browser?.close();
  await client?.close();
  await env?.close();
});

const BAD_ZIP = '99950';

/** The batch's status once `pred` holds (the shared poll of test/helpers/batch.ts, by batch id). */
function statusUntil(id: string, pred: (s: BatchStatus) => boolean): Promise<BatchStatus> {
  return waitForStatus(env.client.workflow.getHandle(id), pred);
}

async function confirmBatch(
  name: string,
  rows: number,
  options: BatchInputArg['options'] = {},
): Promise<string> {
  const table = await createOrdersTable(env.pool, makeOrders(rows));
  const started = await client.startBatch(batchInput(table, { name, mode: 'confirm', options }));
  await statusUntil(started.batchId, (s) => s.phase === 'awaiting_approval');
  return started.batchId;
}

test('the approval inbox lists a batch waiting for approval and hides a closed one', async () => {
  const sbx = env.sandboxClient('inbox');
  await env.withWorker(
    async () => {
      const waiting = await confirmBatch('web ui inbox', 3);
      const closed = await confirmBatch('web ui closed', 2);
      await client.rejectBatch(closed, { reason: 'not today' });
      await statusUntil(closed, (s) => s.phase === 'rejected');
      const inbox = 'ShipBatchPhase="awaiting_approval" AND ExecutionStatus="Running"';
      const ids = await ui.listUntil(inbox, (shown) => shown.includes(waiting) && !shown.includes(closed));
      assert.ok(ids.includes(waiting), `the waiting batch is listed: ${ids.join(', ')}`);
      assert.ok(!ids.includes(closed), 'the rejected batch is not');
      await ui.screenshot('approval-inbox');
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test('a batch page shows summary, details and current details; the Queries tab answers status', async () => {
  const sbx = env.sandboxClient('page');
  await env.withWorker(
    async () => {
      const id = await confirmBatch('web ui page', 4);
      const status = await client.getBatch(id);
      await ui.openBatch(id);
      const meta = await ui.userMetadata();
      assert.match(meta.summary, /^Batch web ui page: orders_\w+, confirm/);
      assert.match(meta.details, /Source orders_\w+ \(key id\)/);
      assert.match(meta.details, /Mode confirm; preview 20 rows/);
      assert.match(meta.currentDetails, /awaiting_approval · mode confirm/);
      assert.match(meta.currentDetails, /pending 4 · in flight 0 · invalid 0 of 4/);
      assert.equal(
        payloadIn(meta.currentDetails, 'approve'),
        JSON.stringify({ previewHash: status.previewHash }),
      );
      await ui.screenshot('batch-awaiting-approval');
      const answer = (await ui.runQuery('status')) as BatchStatus;
      assert.equal(answer.batchId, id);
      assert.equal(answer.phase, 'awaiting_approval');
      assert.equal(answer.previewHash, status.previewHash);
      await ui.screenshot('batch-query-status');
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test('approve from the Send a Signal dialog with the payload copied from current details ships; a stale hash is refused', async () => {
  const sbx = env.sandboxClient('approve');
  // Slow enough to see the batch in progress.
  writeFileSync(sbx.knobsFile, JSON.stringify({ latency: { kind: 'fixed', ms: 1000 } }));
  await env.withWorker(
    async () => {
      const id = await confirmBatch('web ui approve', 12, { concurrency: 2 });
      await ui.openBatch(id);
      const payload = payloadIn((await ui.userMetadata()).currentDetails, 'approve');

      const stale = JSON.stringify({ previewHash: '0'.repeat(64), by: 'mallory' });
      await ui.sendSignal('approve', stale);
      const refused = await statusUntil(id, (s) => s.rejectedMessages.length > 0);
      assert.equal(refused.phase, 'awaiting_approval', 'a stale approval changes nothing');
      assert.match(refused.rejectedMessages[0]!.reason, /stale approval/);
      assert.equal(readCallLog(sbx.dataDir).filter((c) => c.tool === 'create_shipment').length, 0);

      await ui.sendSignal('approve', payload);
      const executing = await statusUntil(id, (s) => s.phase === 'executing' && s.counts.shipped > 0);
      assert.equal(executing.approval?.by, 'unknown');
      await ui.openBatch(id);
      await ui.currentDetailsUntil(/executing/);
      await ui.screenshot('batch-in-progress');
      const result = await client.batchResult(id);
      assert.equal(result.phase, 'completed');
      assert.equal(result.counts.shipped, 12);
      assert.equal(readCallLog(sbx.dataDir).filter((c) => c.tool === 'create_shipment').length, 12);
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test("the UI's Request Cancellation ends a batch cancelled, with nothing shipped after it", async () => {
  const sbx = env.sandboxClient('cancel');
  writeFileSync(sbx.knobsFile, JSON.stringify({ latency: { kind: 'fixed', ms: 500 } }));
  await env.withWorker(
    async () => {
      const table = await createOrdersTable(env.pool, makeOrders(40));
      const concurrency = 2;
      const { batchId: id } = await client.startBatch(
        batchInput(table, { name: 'web ui cancel', mode: 'auto', options: { concurrency } }),
      );
      await statusUntil(id, (s) => s.counts.shipped >= 3);
      await ui.openBatch(id);
      await ui.requestCancellation();
      // Temporal's cancellation: the run closes Canceled once its rows settled.
      const closed = await statusUntil(id, (s) => s.phase === 'cancelled');
      const deadline = Date.now() + 30_000;
      while ((await client.describeBatch(id)).status.name !== 'CANCELLED') {
        if (Date.now() > deadline) throw new Error('the workflow did not close Canceled');
        await new Promise((r) => setTimeout(r, 250));
      }
      await ui.openBatch(id);
      await ui.currentDetailsUntil(/cancelled/);
      await ui.screenshot('batch-cancelled');
      const { counts: ledger } = await client.ledgerCounts(id);
      assert.equal(ledger.cancelled, closed.counts.cancelled);
      assert.ok(ledger.cancelled > 0, 'rows not shipped were cancelled');
      assert.equal(ledger.shipped + ledger.cancelled, 40, JSON.stringify(ledger));
      // Rows in flight when the cancel arrived settle; nothing new is sent after it: no create reached UPS
      // after the cancel was written to the ledger (a second's slack for one already on its way), and UPS
      // holds exactly the shipped rows.
      const { rows } = await env.pool.query<{ at: Date }>(
        `SELECT cancel_requested_at AS at FROM batches WHERE batch_id = $1`,
        [id],
      );
      const cancelAt = rows[0]!.at.getTime();
      const creates = readCallLog(sbx.dataDir).filter((c) => c.tool === 'create_shipment');
      assert.deepEqual(
        creates.filter((c) => Date.parse(c.at) > cancelAt + 1000).map((c) => c.reference),
        [],
        'creates sent after the cancel',
      );
      assert.equal(creates.length, ledger.shipped);
      assert.ok(ledger.shipped <= 40 - concurrency, 'the batch was stopped, not finished');
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});

test('the attention list shows a batch with failed rows; restart sent from the UI ships them', async () => {
  const sbx = env.sandboxClient('restart');
  writeFileSync(sbx.knobsFile, JSON.stringify({ rejectPostalCodes: [BAD_ZIP] }));
  await env.withWorker(
    async () => {
      const table = await createOrdersTable(
        env.pool,
        makeOrders(6, (i, o) => {
          if (i === 1 || i === 4) o.zip = BAD_ZIP;
        }),
      );
      const { batchId: id } = await client.startBatch(
        batchInput(table, { name: 'web ui restart', mode: 'auto' }),
      );
      await statusUntil(id, (s) => s.phase === 'awaiting_action');
      const ids = await ui.listUntil('ShipBatchPhase="awaiting_action"', (shown) => shown.includes(id));
      assert.ok(ids.includes(id), `the batch is in the attention list: ${ids.join(', ')}`);
      await ui.screenshot('attention-list');

      await ui.openBatch(id);
      const details = (await ui.userMetadata()).currentDetails;
      assert.match(details, /Failed 2: rows 2, 5\./);
      const restart = payloadIn(details, 'restart');
      assert.equal(restart, '{"scope":"failed"}');
      await ui.screenshot('batch-awaiting-action');

      writeFileSync(sbx.knobsFile, '{}'); // the addresses were fixed at UPS's end
      await ui.sendSignal('restart', restart);
      const result = await client.batchResult(id);
      assert.equal(result.phase, 'completed', JSON.stringify(result.counts));
      assert.equal(result.counts.shipped, 6);
      assert.equal(result.counts.failed, 0);
    },
    { ups: sbx.ups },
  );
  await sbx.ups.close();
});
