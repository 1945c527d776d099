/**
 * `npm run record-batch-histories`: run one small batch per scenario (confirm, auto, reject, expired,
 * restart, resolve, cancel with void, cancel mid-restart, attention hand-over, UPS outage, pre-flight, tracking, pickup, continue-as-new) on a throw-away
 * stack and write each history to
 * `test/histories/<workflowId>.json`, where the replay test replays them against the current workflow
 * code (docs/design.md §10). Re-record after an intended, patched() behaviour change; keep the old files.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { loadConfig } from '../temporal.config';
import type { shipmentBatch } from '../workflows';
import * as msg from '../domain/messages';
import { trackingWorkflowId } from '../domain/tracking';
import { startStack, stackEnv } from '../stack/stack';
import { openTestEnvironment } from '../test/helpers/environment';
import {
  batchInput,
  createOrdersTable,
  inPhase,
  makeOrders,
  startBatch,
  waitForStatus,
  weekdayAhead,
} from '../test/helpers/batch';

const OUT = path.join(import.meta.dirname, '..', 'test', 'histories');
const stack = await startStack(loadConfig(), { ephemeral: true });
Object.assign(process.env, stackEnv(stack));
const env = await openTestEnvironment('histories');
const stamp = Date.now().toString(36);

type Scenario = (id: string, knobs: (k: object) => void) => Promise<WorkflowHandle<typeof shipmentBatch>>;

const scenarios: Record<string, Scenario> = {
  async confirm(id) {
    const table = await createOrdersTable(env.pool, makeOrders(3));
    const h = await startBatch(env.client, env.taskQueue, batchInput(table), id);
    const s = await waitForStatus(h, inPhase('awaiting_approval'));
    await h.signal(msg.setModeSignal, { mode: 'warp' });
    await h.signal(msg.approveSignal, { previewHash: s.previewHash, by: 'recorder' });
    return h;
  },
  async auto(id) {
    const table = await createOrdersTable(
      env.pool,
      makeOrders(4, (i, o) => i === 1 && (o.zip = 'x')),
    );
    return startBatch(env.client, env.taskQueue, batchInput(table, { mode: 'auto' }), id);
  },
  async reject(id) {
    const table = await createOrdersTable(env.pool, makeOrders(2));
    const h = await startBatch(env.client, env.taskQueue, batchInput(table), id);
    await waitForStatus(h, inPhase('awaiting_approval'));
    await h.signal(msg.rejectSignal, { reason: 'recorded' });
    return h;
  },
  async expired(id) {
    const table = await createOrdersTable(env.pool, makeOrders(2));
    return startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { options: { approvalTimeout: '1s' } }),
      id,
    );
  },
  async restart(id, knobs) {
    knobs({ rejectPostalCodes: ['60601'] });
    const table = await createOrdersTable(env.pool, makeOrders(5));
    const h = await startBatch(env.client, env.taskQueue, batchInput(table, { mode: 'auto' }), id);
    await waitForStatus(h, inPhase('awaiting_action'));
    knobs({});
    await h.signal(msg.restartSignal, { scope: 'failed' });
    return h;
  },
  async resolve(id, knobs) {
    knobs({
      rules: [
        { tool: 'create_shipment', fault: 'timeout_after_create', times: 1 },
        { tool: 'recover_label', fault: 'invalid_request', times: 1000 },
      ],
    });
    const table = await createOrdersTable(env.pool, makeOrders(2));
    const h = await startBatch(env.client, env.taskQueue, batchInput(table, { mode: 'auto' }), id);
    await waitForStatus(h, inPhase('awaiting_action'));
    // Whichever row's create came first is the doubtful one.
    const { rows } = await env.pool.query<{ row_no: number }>(
      `SELECT row_no FROM batch_rows WHERE batch_id = $1 AND status = 'needs_review'`,
      [id],
    );
    await h.signal(msg.resolveSignal, { row: rows[0]!.row_no, outcome: 'retry' });
    knobs({});
    return h;
  },
  async 'cancel-void'(id, knobs) {
    knobs({ latency: { kind: 'fixed', ms: 200 } });
    const table = await createOrdersTable(env.pool, makeOrders(10));
    const h = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { mode: 'auto', options: { concurrency: 2 } }),
      id,
    );
    await waitForStatus(h, (s) => s.counts.shipped >= 2);
    await h.signal(msg.cancelSignal, { reason: 'recorded', voidShipped: true });
    return h;
  },
  async 'cancel-mid-restart'(id, knobs) {
    // Rows needing review are restarted (back in flight, to reconcile), then the batch is cancelled: the
    // cancel goes to the ledger and the undispatched rows settle by reconcile (cancel-in-ledger-v1).
    knobs({
      rules: [
        { tool: 'create_shipment', fault: 'timeout_after_create', times: 1, perReference: true },
        { tool: 'recover_label', fault: 'invalid_request', times: 100_000 },
      ],
    });
    const table = await createOrdersTable(env.pool, makeOrders(3));
    const h = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { mode: 'auto', options: { concurrency: 1 } }),
      id,
    );
    await waitForStatus(h, inPhase('awaiting_action'));
    knobs({ rules: [{ tool: 'recover_label', fault: 'slow', ms: 1000, times: 100_000 }] });
    await h.signal(msg.restartSignal, { scope: 'needs_review' });
    await new Promise((r) => setTimeout(r, 500));
    await h.signal(msg.cancelSignal, { reason: 'recorded' });
    return h;
  },
  async 'attention-handover'(id, knobs) {
    // One Update per run in the attention phase: the resolve hands over to a new run (attention-handover-v1).
    knobs({ rejectPostalCodes: ['60601'] });
    const table = await createOrdersTable(env.pool, makeOrders(5));
    const h = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { mode: 'auto', options: { updatesPerRun: 1 } }),
      id,
    );
    await waitForStatus(h, inPhase('awaiting_action'));
    await h.executeUpdate(msg.resolveUpdate, {
      args: [{ row: 4, outcome: 'shipped', trackingNumber: '1ZA1B2C30312345678' }],
    });
    return h;
  },
  async 'ups-outage'(id, knobs) {
    // UPS answers 503 to everything mid-batch: the breaker trips (waiting_for_ups), a probe fails, then UPS is
    // back and a probe resumes the batch.
    knobs({ latency: { kind: 'fixed', ms: 100 } });
    const table = await createOrdersTable(env.pool, makeOrders(6));
    const h = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { mode: 'auto', options: { concurrency: 2 } }),
      id,
    );
    await waitForStatus(h, (s) => s.counts.shipped >= 2);
    knobs({ faultRates: { unavailable: 1 } });
    await waitForStatus(h, inPhase('waiting_for_ups'));
    await waitForStatus(h, (s) => (s.upsOutage?.probes ?? 0) >= 1, 60_000);
    knobs({});
    return h;
  },
  async preflight(id, knobs) {
    // Address check (require) and rate shopping within 2 days; UPS unavailable for the first page, so the
    // pre-flight waits for UPS and goes on; one unknown ZIP becomes invalid; then approved and shipped.
    knobs({
      rejectPostalCodes: ['99999'],
      rules: [{ tool: 'validate_address', fault: 'unavailable', times: 4 }],
    });
    const table = await createOrdersTable(
      env.pool,
      makeOrders(4, (i, o) => i === 2 && (o.zip = '99999')),
    );
    const h = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, {
        options: { addressCheck: 'require', service: { cheapest: { maxTransitDays: 2 } }, concurrency: 2 },
      }),
      id,
    );
    const s = await waitForStatus(h, inPhase('awaiting_approval'), 120_000);
    await h.signal(msg.approveSignal, { previewHash: s.previewHash, by: 'recorder' });
    return h;
  },
  async tracking(id, knobs) {
    // Shipped, then followed to delivery on the sandbox's fast clock (a day per second).
    knobs({ trackingClockSpeed: 86_400 });
    const table = await createOrdersTable(env.pool, makeOrders(3));
    const h = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { mode: 'auto', options: { trackFor: '1h', trackEvery: '1s' } }),
      id,
    );
    await h.result();
    await env.client.workflow.getHandle(trackingWorkflowId(id)).result();
    return h;
  },
  async pickup(id, knobs) {
    // A pickup whose first schedule_pickup answer is lost (found again with get_pickup_status); one row fails,
    // so the batch waits for an operator with its pickup scheduled; cancelled with void, the pickup too.
    knobs({
      rejectPostalCodes: ['80203'],
      rules: [{ fault: 'timeout_after_create', tool: 'schedule_pickup', times: 1 }],
    });
    const table = await createOrdersTable(
      env.pool,
      makeOrders(3, (i, o) => i === 2 && (o.zip = '80203')),
    );
    const pickup = { date: weekdayAhead(3), readyTime: '09:00', closeTime: '17:00' };
    const h = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { mode: 'auto', options: { pickup, trackFor: '0s', concurrency: 2 } }),
      id,
    );
    await waitForStatus(h, (s) => s.phase === 'awaiting_action' && s.pickup?.state === 'scheduled', 60_000);
    await h.signal(msg.cancelSignal, { reason: 'recorded', voidShipped: true });
    return h;
  },
  async 'continue-as-new'(id) {
    const table = await createOrdersTable(env.pool, makeOrders(7));
    return startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { mode: 'auto', options: { rowsPerRun: 3, concurrency: 2 } }),
      id,
    );
  },
};

try {
  const only = process.argv.slice(2);
  for (const [name, run] of Object.entries(scenarios)) {
    if (only.length > 0 && !only.includes(name)) continue;
    const sbx = env.sandboxClient(name);
    const knobs = (k: object) => writeFileSync(sbx.knobsFile, JSON.stringify(k));
    const id = `batch-h-${name}-${stamp}`;
    await env.withWorker(
      async () => {
        const h = await run(id, knobs);
        const result = await h.result();
        // Every run of a continued batch is recorded: each replays on its own; so is its tracking workflow's.
        const tracker = trackingWorkflowId(id);
        for await (const w of env.client.workflow.list({
          query: `WorkflowId = '${id}' OR (WorkflowId = '${tracker}' AND ExecutionStatus != 'Running')`,
        })) {
          const history = await env.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
          const file = path.join(OUT, `${w.workflowId}-run-${w.runId.slice(0, 8)}.json`);
          writeFileSync(file, `${historyToJSON(history)}\n`);
        }
        process.stdout.write(`${name}: ${result.phase} ${JSON.stringify(result.counts)}\n`);
      },
      { ups: sbx.ups },
    );
    await sbx.ups.close();
  }
} finally {
  await env.close();
  await stack.stop();
}
