import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../../workers/create-worker';

const HISTORIES = path.join(import.meta.dirname, '..', 'histories');

interface HistoryJson {
  events: {
    activityTaskScheduledEventAttributes?: { activityType: { name: string } };
    workflowExecutionStartedEventAttributes?: { workflowId?: string };
  }[];
}

async function loadHistories() {
  const files = (await readdir(HISTORIES)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => {
      const json = JSON.parse(await readFile(path.join(HISTORIES, file), 'utf8')) as HistoryJson;
      // Newer servers record the workflow id in the start event; older recordings are named by it.
      const workflowId =
        json.events[0]?.workflowExecutionStartedEventAttributes?.workflowId ?? file.replace(/\.json$/, '');
      return { workflowId, json, history: historyFromJSON(json) };
    }),
  );
}

test('every recorded history replays against the current workflow code', async () => {
  const histories = await loadHistories();
  assert.ok(histories.length > 0, 'test/histories holds at least one recorded run');
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: await workflowBundle() },
    histories,
  )) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.deepEqual(failures, [], 'a workflow change that breaks replay needs patched() and a new history');
});

test('replay catches a history the code would not produce (the check can fail)', async () => {
  const [first] = await loadHistories();
  assert.ok(first);
  const json = structuredClone(first.json);
  const scheduled = json.events.find((e) => e.activityTaskScheduledEventAttributes);
  assert.ok(scheduled?.activityTaskScheduledEventAttributes, 'the history schedules an activity');
  scheduled.activityTaskScheduledEventAttributes.activityType.name = 'someOtherActivity';
  await assert.rejects(
    Worker.runReplayHistory(
      { workflowBundle: await workflowBundle() },
      historyFromJSON(json),
      first.workflowId,
    ),
    DeterminismViolationError,
  );
});
