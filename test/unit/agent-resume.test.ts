/**
 * batch_resume against a fake client: the row figures of its answers (domain/row-counts.ts: a row needing
 * review is remaining, not done).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyCounts, type RowCounts } from '../../domain/batch';
import type { ShipbatchClient } from '../../client/batches';
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
