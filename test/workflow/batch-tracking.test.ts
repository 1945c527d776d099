/**
 * After the label (issue 25): a batch that closes with shipped rows starts its tracking workflow, which follows
 * every package through the sandbox's compressed clock until it is final; exceptions show on the workflow's
 * search attribute; a worker stopped, or SIGKILLed, mid-tracking loses nothing; `trackFor: 0s` tracks nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { trackingWorkflowId, type TrackingState } from '../../domain/tracking';
import { trackBatch } from '../../workflows';
import { trackedPackages } from '../../db/ledger/tracking';
import { readCallLog } from '../../ups-sandbox/call-log';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { processExited, startWorkerProcess } from '../helpers/worker-process';
import { batchInput, createOrdersTable, makeOrders, startBatch } from '../helpers/batch';
import { FAST_TRACKING, trackingSandbox, waitForTracking as waitForTrackingOf } from '../helpers/tracking';

let env: TestEnvironment;
before(async () => {
  env = await openTestEnvironment('tracking');
});
after(async () => {
  await env?.close();
});

/** Query the batch's tracking workflow until `pred` holds (it may not have started yet). */
const waitForTracking = (batchId: string, pred: (s: TrackingState) => boolean) =>
  waitForTrackingOf(env.client, batchId, pred);

test('every package followed to its end through the fast clock; exceptions on the search attribute; a worker stopped mid-way loses nothing', async () => {
  // A day of UPS's time per real second: a batch's whole life in seconds.
  const sbx = trackingSandbox(env, 'track');
  let worker = await sbx.startWorker();
  try {
    const table = await createOrdersTable(env.pool, makeOrders(8));
    const handle = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { mode: 'auto', options: { trackFor: '1h', trackEvery: '1s' } }),
    );
    const result = await handle.result();
    assert.equal(result.counts.shipped, 8);
    const refs = (
      await env.pool.query<{ row_no: number; reference: string }>(
        'SELECT row_no, reference FROM batch_rows WHERE batch_id = $1 ORDER BY row_no',
        [handle.workflowId],
      )
    ).rows;
    // Row 2's package gets an address exception; row 3's goes back to the shipper.
    sbx.setKnobs({
      ...FAST_TRACKING,
      trackingExceptions: {
        references: { [refs[1]!.reference]: 'exception', [refs[2]!.reference]: 'returned' },
      },
    });
    // Mid-way (a first look done, not every package final), the worker goes away and another comes.
    await waitForTracking(
      handle.workflowId,
      (s) => s.lastCheckAt !== undefined && s.counts.label_created < 8,
    );
    await worker.stop();
    worker = await sbx.startWorker();

    const state = await waitForTracking(
      handle.workflowId,
      (s) => s.counts.delivered === 6 && s.counts.returned === 1 && s.counts.exception === 1,
    );
    assert.equal(state.exceptions, 1);
    assert.equal(state.phase, 'tracking', 'an exception keeps the batch followed');
    // The ledger holds every package's latest status, time, place and delivery date.
    const packages = await trackedPackages(env.pool, handle.workflowId);
    assert.equal(packages.length, 8);
    const byRow = new Map(packages.map((p) => [p.rowNo, p]));
    assert.equal(byRow.get(2)!.status, 'exception');
    assert.ok(byRow.get(2)!.description, "UPS's words are kept");
    assert.equal(byRow.get(3)!.status, 'returned');
    for (const p of packages.filter((x) => x.status === 'delivered')) {
      assert.match(p.deliveredOn ?? '', /^\d{4}-\d{2}-\d{2}$/, `row ${p.rowNo} has a delivery date`);
      assert.ok(p.location, `row ${p.rowNo} has a place`);
    }
    // The attention list: the tracking workflow's search attribute says exceptions.
    const listed: string[] = [];
    for (let i = 0; i < 50 && listed.length === 0; i++) {
      for await (const w of env.client.workflow.list({
        query: `ShipBatchTracking = 'exceptions' AND WorkflowId = '${trackingWorkflowId(handle.workflowId)}'`,
      }))
        listed.push(w.workflowId);
      if (listed.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(listed, [trackingWorkflowId(handle.workflowId)]);
    // Final packages are not asked again: the delivered ones' last look is their final one.
    const looks = readCallLog(sbx.dataDir).filter((c) => c.tool === 'track_package').length;
    await new Promise((r) => setTimeout(r, 3000));
    const later = readCallLog(sbx.dataDir).filter((c) => c.tool === 'track_package').length;
    assert.ok(
      later - looks <= 6,
      `only the package in exception is asked again (${later - looks} looks in 3 s)`,
    );
    await env.client.workflow.getHandle(trackingWorkflowId(handle.workflowId)).terminate('test done');
  } finally {
    await worker.stop();
    await sbx.ups.close();
  }
});

test('every package delivered: the tracking workflow ends done; trackFor 0s starts none', async () => {
  const sbx = trackingSandbox(env, 'done');
  const worker = await sbx.startWorker();
  try {
    const table = await createOrdersTable(env.pool, makeOrders(3));
    const tracked = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { mode: 'auto', options: { trackFor: '1h', trackEvery: '1s' } }),
    );
    await tracked.result();
    const end = (await env.client.workflow
      .getHandle(trackingWorkflowId(tracked.workflowId))
      .result()) as TrackingState;
    assert.equal(end.phase, 'done');
    assert.equal(end.counts.delivered, 3);

    const untracked = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { mode: 'auto', options: { trackFor: '0s' } }),
    );
    await untracked.result();
    await assert.rejects(
      env.client.workflow.getHandle(trackingWorkflowId(untracked.workflowId)).describe(),
      /not found/i,
    );
    // Started by hand over the same packages, a page at a time with a small history budget and a slower
    // clock (about 6 UPS hours a second, so their days in transit take many looks): it continues as new,
    // carries its state, and still ends done.
    sbx.setKnobs({ trackingClockSpeed: 20_000 });
    const byHand = await env.client.workflow.start(trackBatch, {
      taskQueue: env.taskQueue,
      workflowId: trackingWorkflowId(untracked.workflowId),
      args: [
        { batchId: untracked.workflowId, trackFor: '1h', pollEvery: '1s', pageSize: 1, eventsPerRun: 100 },
      ],
    });
    const byHandEnd = await byHand.result();
    assert.equal(byHandEnd.phase, 'done');
    assert.equal(byHandEnd.counts.delivered, 3);
    assert.ok(byHandEnd.runs > 1, `continued as new (${byHandEnd.runs} runs)`);
    let runs = 0;
    for await (const w of env.client.workflow.list({ query: `WorkflowId = '${byHand.workflowId}'` })) {
      const events = (await env.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory()).events ?? [];
      assert.ok(events.length <= 120, `a run stays near its budget (${events.length} events)`);
      runs++;
    }
    assert.equal(runs, byHandEnd.runs);
  } finally {
    await worker.stop();
    await sbx.ups.close();
  }
});

test('a worker SIGKILLed mid-tracking: the next one finishes it, every package delivered in the ledger', async () => {
  const sandboxDir = env.sandboxClient('kill').dataDir;
  // About 6 UPS hours a real second: the packages' days in transit take many looks.
  const knobs = { trackingClockSpeed: 20_000 };
  let first = startWorkerProcess('tracking-1', { taskQueue: env.taskQueue, sandboxDir, knobs });
  let second: ReturnType<typeof startWorkerProcess> | undefined;
  try {
    const table = await createOrdersTable(env.pool, makeOrders(6));
    const handle = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { mode: 'auto', options: { trackFor: '1h', trackEvery: '1s' } }),
    );
    await handle.result();
    await waitForTracking(
      handle.workflowId,
      (s) => s.lastCheckAt !== undefined && s.counts.delivered < 6 && s.counts.label_created < 6,
    );
    first.kill('SIGKILL');
    await processExited(first);
    second = startWorkerProcess('tracking-2', { taskQueue: env.taskQueue, sandboxDir, knobs });
    const end = (await env.client.workflow
      .getHandle(trackingWorkflowId(handle.workflowId))
      .result()) as TrackingState;
    assert.equal(end.phase, 'done');
    assert.equal(end.counts.delivered, 6);
    const packages = await trackedPackages(env.pool, handle.workflowId);
    assert.deepEqual(
      packages.map((p) => [p.status, /^\d{4}-\d{2}-\d{2}$/.test(p.deliveredOn ?? '')]),
      Array.from({ length: 6 }, () => ['delivered', true]),
    );
    first = second;
  } finally {
    first.kill('SIGTERM');
    second?.kill('SIGTERM');
    await processExited(first);
    if (second) await processExited(second);
  }
});
