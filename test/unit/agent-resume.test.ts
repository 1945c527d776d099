/**
 * batch_resume against a fake client: which choices the listing offers for each reason a batch needs
 * attention (and the restart scope), and the row figures of its answers (domain/row-counts.ts: a row needing
 * review is remaining, not done).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyCounts, type RowCounts, type UpsOutage } from '../../domain/batch';
import type { AttentionReason } from '../../domain/attention';
import type { AttentionItem, ShipbatchClient } from '../../client/batches';
import { callTool } from '../../agent/tools/index';

const ID = 'batch-resume';

/** Shipped 3, failed 1, invalid 1, voided 1, cancelled 1 (7 done); needs review 2, pending 1, in flight 1. */
const MIXED: RowCounts = {
  ...emptyCounts(),
  total: 11,
  shipped: 3,
  failed: 1,
  invalid: 1,
  voided: 1,
  cancelled: 1,
  needsReview: 2,
  pending: 1,
  inFlight: 1,
};

/** A batch no worker polls for, with these ledger counts. */
function noWorkerClient(counts: RowCounts): ShipbatchClient {
  return {
    describeBatch: () => Promise.resolve({ taskQueue: 'q', status: { name: 'RUNNING' } }),
    workerPolling: () => Promise.resolve(false),
    ledgerCounts: () => Promise.resolve({ counts }),
  } as unknown as ShipbatchClient;
}

async function resume(client: ShipbatchClient, choice: string): Promise<{ isError: boolean; text: string }> {
  const r = await callTool(
    () => Promise.resolve(client),
    'batch_resume',
    { job_id: ID, choice },
    { pollMs: 1 },
  );
  return { isError: r.isError === true, text: r.content.map((c) => c.text).join('\n') };
}

test('resume with no worker: rows needing review are remaining, not done', async () => {
  const r = await resume(noWorkerClient(MIXED), 'resume');
  assert.equal(r.isError, false, r.text);
  const json = JSON.parse(r.text) as Record<string, unknown>;
  assert.equal(json.rows_done, 7);
  assert.equal(json.rows_remaining, 4);
  assert.match(String(json.will_happen), /the 7 settled row\(s\) stay as they are/);
  assert.match(String(json.will_happen), /the 4 remaining row\(s\) go on/);
});

test('restart with nothing to restart: the refusal gives rows done and remaining', async () => {
  const counts = { ...emptyCounts(), total: 5, shipped: 2, invalid: 1, pending: 1, inFlight: 1 };
  const r = await resume(noWorkerClient(counts), 'restart');
  assert.equal(r.isError, true);
  assert.match(
    r.text,
    /nothing to restart in batch batch-resume: no failed or needs-review rows \(3 done, 2 remaining\)/,
  );
});

const FAILED: RowCounts = { ...emptyCounts(), total: 5, shipped: 3, failed: 2 };
const REVIEW: RowCounts = { ...emptyCounts(), total: 5, shipped: 3, needsReview: 2 };
const CLEAN: RowCounts = { ...emptyCounts(), total: 5, shipped: 3, pending: 2 };

const outage = (needsOperator: boolean): UpsOutage => ({
  kind: needsOperator ? 'auth' : 'unreachable',
  reason: needsOperator ? 'UPS refused the credentials' : 'UPS unreachable',
  since: '2025-06-01T10:00:00.000Z',
  probes: 1,
  needsOperator,
});

/** The choices listed for one batch needing attention, with their effects. */
async function listed(
  reason: AttentionReason,
  phase: AttentionItem['phase'],
  counts: RowCounts,
  upsOutage?: UpsOutage,
): Promise<{ choice: string; effect: string }[]> {
  const item = {
    batchId: ID,
    runId: 'run',
    status: 'RUNNING',
    taskQueue: 'q',
    phase,
    startTime: '2025-06-01T09:00:00.000Z',
    reason,
    counts,
    done: 0,
    remaining: 0,
    lastError: null,
    ...(upsOutage ? { upsOutage } : {}),
    choices: [],
  } as AttentionItem;
  const client = {
    attentionBatches: () => Promise.resolve([item]),
    trackingExceptions: () => Promise.resolve([]),
  } as unknown as ShipbatchClient;
  const r = await callTool(() => Promise.resolve(client), 'batch_resume', {});
  const text = r.content.map((c) => c.text).join('\n');
  assert.notEqual(r.isError, true, text);
  return (JSON.parse(text) as { batches: { choices: { choice: string; effect: string }[] }[] }).batches[0]!
    .choices;
}

test('the choices of each attention reason: restart only with failed or needs-review rows, cancel always', async () => {
  const cases: [AttentionReason, AttentionItem['phase'], RowCounts, UpsOutage | undefined, string[]][] = [
    ['awaiting_approval', 'awaiting_approval', CLEAN, undefined, ['resume', 'cancel']],
    ['awaiting_approval', 'awaiting_approval', FAILED, undefined, ['resume', 'cancel']],
    ['awaiting_action', 'awaiting_action', CLEAN, undefined, ['resume', 'cancel']],
    ['awaiting_action', 'awaiting_action', FAILED, undefined, ['resume', 'restart', 'cancel']],
    ['awaiting_action', 'awaiting_action', REVIEW, undefined, ['resume', 'restart', 'cancel']],
    ['waiting_for_ups', 'waiting_for_ups', FAILED, outage(true), ['resume', 'cancel']],
    ['waiting_for_ups', 'waiting_for_ups', FAILED, outage(false), ['resume', 'cancel']],
    ['waiting_for_ups', 'waiting_for_ups', CLEAN, undefined, ['resume', 'cancel']],
    ['retrying', 'executing', FAILED, undefined, ['resume', 'cancel']],
    ['no_worker', 'awaiting_action', FAILED, undefined, ['resume', 'restart', 'cancel']],
    ['no_worker', 'awaiting_action', REVIEW, undefined, ['resume', 'restart', 'cancel']],
    ['no_worker', 'awaiting_action', CLEAN, undefined, ['resume', 'cancel']],
    ['no_worker', 'executing', FAILED, undefined, ['resume', 'cancel']],
    ['no_worker', 'awaiting_approval', FAILED, undefined, ['resume', 'cancel']],
    ['no_worker', undefined, CLEAN, undefined, ['resume', 'cancel']],
  ];
  for (const [reason, phase, counts, upsOutage, expected] of cases) {
    const choices = await listed(reason, phase, counts, upsOutage);
    assert.deepEqual(
      choices.map((c) => c.choice),
      expected,
      `${reason} in ${phase ?? 'no phase'} with ${JSON.stringify(counts)}`,
    );
    // With no worker, restart and cancel are signals: recorded now, applied once a worker runs.
    for (const c of choices.filter((c) => c.choice !== 'resume')) {
      assert.equal(
        c.effect.endsWith(' Recorded now, applied once a worker runs.'),
        reason === 'no_worker',
        c.effect,
      );
    }
  }
});

test('restart ships the failed rows again, else retries the rows needing review', async () => {
  const both = { ...emptyCounts(), total: 6, shipped: 2, failed: 1, needsReview: 3 };
  for (const reason of ['awaiting_action', 'no_worker'] as const) {
    const restart = async (counts: RowCounts) =>
      (await listed(reason, 'awaiting_action', counts)).find((c) => c.choice === 'restart')!.effect;
    assert.match(await restart(FAILED), /^Ship again the 2 failed row\(s\) \(scope failed\)/);
    assert.match(await restart(both), /^Ship again the 1 failed row\(s\) \(scope failed\)/);
    assert.match(await restart(REVIEW), /^Retry the 2 row\(s\) needing review \(scope needs_review\)/);
  }
});

test('restart with no worker: sent as a signal whose scope is failed, else needs_review', async () => {
  const both = { ...emptyCounts(), total: 6, shipped: 2, failed: 1, needsReview: 3 };
  for (const [counts, scope] of [
    [FAILED, 'failed'],
    [both, 'failed'],
    [REVIEW, 'needs_review'],
  ] as const) {
    const sent: unknown[] = [];
    const client = {
      ...noWorkerClient(counts),
      connection: { withAbortSignal: (_s: AbortSignal, send: () => Promise<void>) => send() },
      temporal: {
        workflow: {
          getHandle: () => ({
            signal: (_def: unknown, args: unknown) => Promise.resolve(void sent.push(args)),
          }),
        },
      },
    } as unknown as ShipbatchClient;
    const r = await resume(client, 'restart');
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(sent, [{ scope }]);
    assert.equal((JSON.parse(r.text) as { scope: string }).scope, scope);
  }
});
