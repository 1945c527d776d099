/**
 * Template isolation at the worker's scale: hostile batches — a template that
 * loops 10^8 times, one with a catastrophic regex on a row value, one that doubles a string to a
 * gigabyte, one that reaches for `constructor` to get at the host — run next to a normal batch on ONE
 * worker. The normal batch is untouched: every row rendered exactly as a renderer of its own renders
 * it, one shipment per row, and its history shows no timed-out activity and no retry (every activity
 * completes on attempt 1, so no heartbeat was missed while the hostile templates ran). Each hostile
 * batch ends with its rows invalid and a row error that says what stopped them, or fails its load with
 * a clear error; the worker keeps running. Real dev server, PostgreSQL and sandbox.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WorkflowFailedError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import proto, { type temporal } from '@temporalio/proto';
import { openBatchRenderer } from '../../inputs/template';
import { shipmentsPerReference } from '../../ups-sandbox/call-log';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { batchInput, createOrdersTable, makeOrders, SHIPPER, startBatch, TEMPLATE } from '../helpers/batch';
import type { shipmentBatch } from '../../workflows';

const EventType = proto.temporal.api.enums.v1.EventType;
const NORMAL_ROWS = 24;
const HOSTILE_ROWS = 8;

let env: TestEnvironment;
/** Sandbox clients the tests opened (their sandbox processes would keep the test process alive). */
const sandboxes: { close(): Promise<void> }[] = [];
const sandbox = (label: string) => {
  const s = env.sandboxClient(label);
  sandboxes.push(s.ups);
  return s;
};
before(async () => {
  env = await openTestEnvironment('batch-isolation');
});
after(async () => {
  await Promise.all(sandboxes.map((s) => s.close()));
  await env?.close();
});

/** The example template with something hostile in front of its JSON (or in place of it). */
const HOSTILE: Record<string, { template: string; expect: RegExp; tweak?: (name: string) => string }> = {
  hang: {
    template: '{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}' + TEMPLATE,
    expect: /operation|stopped|did not finish|limit/i,
  },
  regex: {
    // (a+)+$ on "aaaa…!" backtracks exponentially: only the isolate's deadline stops it.
    template: '{% set x = name | replace(r/(a+)+$/, "-") %}' + TEMPLATE,
    expect: /did not finish|stopped|limit|regex|regular expression/i,
    tweak: () => `${'a'.repeat(40)}!`,
  },
  huge: {
    // Doubling builds a rope (cheap); `upper` flattens it: 256 M characters, twice the isolate's memory.
    template:
      '{% set s = "xxxxxxxxxxxxxxxx" %}{% for i in range(24) %}{% set s = s ~ s %}{% endfor %}' +
      '{% set t = s | upper %}' +
      TEMPLATE,
    expect: /memory|output|characters|limit|stopped|did not finish|string length/i,
  },
  escape: {
    template:
      '{% set f = "".constructor.constructor("return process")() %}{{ f.exit(7) }}' +
      '{{ range.constructor("return globalThis.process.exit(7)")() }}' +
      TEMPLATE,
    expect: /constructor|not allowed|refused|unknown|undefined|function/i,
  },
};

/** A failed workflow's message and its causes, on one line. */
function failureText(err: Error): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause) parts.push(e.message);
  return parts.join(': ');
}

/** Every shipRow / activity of every run of a batch: attempts and timeouts. */
async function historyFacts(handle: WorkflowHandle) {
  const facts = { timedOut: 0, failed: 0, started: 0, retried: [] as string[], shipRowsCompleted: 0 };
  // startBatch returns what client.workflow.start returns: the first run's id is on it.
  let runId: string | undefined = (handle as WorkflowHandleWithFirstExecutionRunId).firstExecutionRunId;
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await env.client.workflow
      .getHandle(handle.workflowId, runId)
      .fetchHistory();
    const scheduled = new Map<string, string>();
    for (const e of history.events ?? []) {
      const type = e.eventType;
      if (type === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        scheduled.set(String(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name ?? '');
      } else if (type === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
        facts.started++;
        const a = e.activityTaskStartedEventAttributes;
        if ((a?.attempt ?? 1) !== 1)
          facts.retried.push(`${scheduled.get(String(a?.scheduledEventId))} attempt ${a?.attempt}`);
      } else if (type === EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT) facts.timedOut++;
      else if (type === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED) facts.failed++;
      else if (type === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
        const name = scheduled.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId));
        if (name === 'shipRow') facts.shipRowsCompleted++;
      }
    }
    const last: temporal.api.history.v1.IHistoryEvent | undefined =
      history.events?.[history.events.length - 1];
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return facts;
}

test('hostile templates next to a normal batch on one worker: the normal batch is untouched', async () => {
  const sbx = sandbox('isolation');
  const orders = makeOrders(NORMAL_ROWS);
  const normalTable = await createOrdersTable(env.pool, orders, 'orders_normal');
  const hostileTables: Record<string, string> = {};
  for (const [label, h] of Object.entries(HOSTILE)) {
    hostileTables[label] = await createOrdersTable(
      env.pool,
      makeOrders(HOSTILE_ROWS, (_, o) => {
        if (h.tweak) o.name = h.tweak(o.name);
      }),
      `orders_${label}`,
    );
  }

  const outcome = await env.withWorker(
    async (worker) => {
      // The hostile batches first, so their loads run while the normal batch loads and ships.
      const hostile: Record<string, WorkflowHandle<typeof shipmentBatch>> = {};
      for (const [label, h] of Object.entries(HOSTILE)) {
        hostile[label] = await startBatch(
          env.client,
          env.taskQueue,
          { ...batchInput(hostileTables[label]!, { mode: 'auto' }), template: h.template },
          `batch-hostile-${label}-${Date.now()}`,
        );
      }
      const normal = await startBatch(
        env.client,
        env.taskQueue,
        batchInput(normalTable, { mode: 'auto', options: { concurrency: 8 } }),
      );
      const hostileResults: Record<string, unknown> = {};
      for (const [label, handle] of Object.entries(hostile)) {
        hostileResults[label] = await handle.result().catch((err: unknown) => err);
      }
      const normalResult = await normal.result();
      assert.equal(worker.getState(), 'RUNNING', 'the worker survived');
      return { normal, normalResult, hostile, hostileResults };
    },
    { ups: sbx.ups },
  );

  // The normal batch: every row shipped once, rendered exactly as alone.
  const { normal, normalResult } = outcome;
  assert.equal(normalResult.phase, 'completed', JSON.stringify(normalResult.counts));
  assert.equal(normalResult.counts.shipped, NORMAL_ROWS);
  const { rows } = await env.pool.query<{
    row_no: number;
    status: string;
    reference: string;
    request: unknown;
  }>('SELECT row_no, status, reference, request FROM batch_rows WHERE batch_id = $1 ORDER BY row_no', [
    normal.workflowId,
  ]);
  const { rows: keyed } = await env.pool.query<{ reference_key: string }>(
    'SELECT reference_key FROM batches WHERE batch_id = $1',
    [normal.workflowId],
  );
  const alone = await openBatchRenderer({
    templateSource: TEMPLATE,
    shipper: SHIPPER,
    batch: { id: normal.workflowId, labelFormat: 'GIF', referenceKey: keyed[0]!.reference_key },
  });
  if (!alone.ok) throw new Error(alone.error);
  const { rows: data } = await env.pool.query<{ data: Record<string, unknown> }>(
    'SELECT data FROM batch_rows WHERE batch_id = $1 ORDER BY row_no',
    [normal.workflowId],
  );
  const expected = await alone.renderer.renderRows(data.map((d, i) => ({ rowNo: i + 1, data: d.data })));
  alone.renderer.dispose();
  const perRef = shipmentsPerReference(sbx.dataDir);
  rows.forEach((r, i) => {
    assert.equal(r.status, 'shipped', `row ${r.row_no}`);
    const e = expected[i]!;
    assert.ok(e.ok, `row ${r.row_no} renders alone`);
    assert.deepEqual(r.request, e.request, `row ${r.row_no} rendered as alone`);
    assert.equal(perRef.get(r.reference), 1, `row ${r.row_no} shipped once`);
  });
  // No missed heartbeat, no retry: every activity of the normal batch completed on its first attempt.
  const facts = await historyFacts(normal);
  assert.equal(facts.timedOut, 0, 'no activity timed out');
  assert.equal(facts.failed, 0, 'no activity failed');
  assert.deepEqual(facts.retried, []);
  assert.equal(facts.shipRowsCompleted, NORMAL_ROWS);

  // The hostile batches: rows invalid with a clear error, or a load failure that names the template.
  for (const [label, h] of Object.entries(HOSTILE)) {
    const result = outcome.hostileResults[label];
    const batchId = outcome.hostile[label]!.workflowId;
    const { rows: hrows } = await env.pool.query<{ status: string; errors: unknown }>(
      'SELECT status, errors FROM batch_rows WHERE batch_id = $1 ORDER BY row_no',
      [batchId],
    );
    if (result instanceof WorkflowFailedError) {
      const why = failureText(result);
      assert.match(why, /template/i, `${label}: ${why}`);
      assert.ok(
        hrows.every((r) => r.status === 'invalid'),
        `${label}: nothing shippable`,
      );
    } else {
      const r = result as { phase: string; counts: { invalid: number; shipped: number } };
      assert.equal(r.phase, 'completed_with_errors', `${label}: ${JSON.stringify(result)}`);
      assert.equal(r.counts.invalid, HOSTILE_ROWS, label);
      assert.equal(r.counts.shipped, 0, label);
      assert.equal(hrows.length, HOSTILE_ROWS);
      for (const hr of hrows) {
        assert.equal(hr.status, 'invalid');
        assert.match(JSON.stringify(hr.errors), h.expect, `${label}: ${JSON.stringify(hr.errors)}`);
      }
    }
    console.log(
      `${label}: ${result instanceof Error ? `load failed: ${failureText(result)}` : 'rows invalid'}; ` +
        `first row error: ${JSON.stringify(hrows[0]?.errors ?? null).slice(0, 200)}`,
    );
  }
});
