import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { stackCheck } from '../../workflows';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';

let env: TestEnvironment;
before(async () => {
  env = await openTestEnvironment('stack-check');
});
after(async () => {
  await env?.close();
});

test('a real workflow runs on the dev server and its activity writes to PostgreSQL', async () => {
  const checkId = `check-${randomUUID()}`;
  const result = await env.withWorker(() =>
    env.client.workflow.execute(stackCheck, {
      taskQueue: env.taskQueue,
      workflowId: checkId,
      args: [checkId],
      workflowExecutionTimeout: '1m',
    }),
  );
  assert.equal(result.checkId, checkId);
  assert.match(result.worker, /^shipbatch-worker@/);

  const { rows } = await env.pool.query<{ worker: string; checked_at: Date }>(
    'SELECT worker, checked_at FROM stack_checks WHERE check_id = $1',
    [checkId],
  );
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.worker, result.worker);
  assert.equal(rows[0]!.checked_at.toISOString(), result.checkedAt);

  // The server recorded the run: its history holds the activity that did the write.
  const history = await env.client.workflow.getHandle(checkId).fetchHistory();
  const scheduled = history.events?.filter((e) => e.activityTaskScheduledEventAttributes) ?? [];
  assert.equal(scheduled.length, 1);
  assert.equal(scheduled[0]!.activityTaskScheduledEventAttributes!.activityType!.name, 'recordStackCheck');
});

test('the dev server has the search attributes of docs/design.md §6 registered', async () => {
  const res = await env.client.connection.operatorService.listSearchAttributes({
    namespace: env.config.temporal.namespace,
  });
  const custom = res.customAttributes ?? {};
  for (const name of ['ShipBatchPhase', 'ShipBatchMode', 'ShipBatchRows']) {
    assert.ok(name in custom, `${name} is registered`);
  }
});
