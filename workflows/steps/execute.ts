/**
 * Phase executing: the sliding window over the ledger's pending rows, paused while UPS is down
 * (docs/design.md §3, step 4).
 */
import { condition, workflowInfo } from '@temporalio/workflow';
import { ledger } from '../batch-activities';
import type { BatchRun } from '../batch-run';
import { dispatch, PAGE } from './dispatch';
import { waitForUps } from './wait-for-ups';

/** The execution, paused while UPS is down and resumed when it answers; 'continue' to hand over. */
export async function execute(run: BatchRun): Promise<'done' | 'continue'> {
  const s = run.state;
  for (;;) {
    const r = await executeRows(run);
    if (r !== 'paused') return r;
    const waited = await waitForUps(run, true);
    if (waited === 'continue') return 'continue';
    if (waited === 'cancelled') return 'done';
    // Rows sent back to pending, or left in flight to reconcile, are behind the cursor: start over.
    s.cursor = 0;
    run.enter('executing');
  }
}

/** The sliding window; 'continue' when this run should hand over to a new one. */
async function executeRows(run: BatchRun): Promise<'done' | 'continue' | 'paused'> {
  const { batchId, opts, state: s } = run;
  let queue: number[] = [];
  let exhausted = false;
  let dispatched = 0;
  let handOverNow = false;
  while (!s.cancel && !s.upsOutage) {
    if (queue.length === 0) {
      if (exhausted) break;
      queue = await ledger.pendingRows({ batchId, afterRowNo: s.cursor, limit: PAGE });
      if (queue.length < PAGE) exhausted = true;
      if (queue.length === 0) break;
    }
    await condition(() => s.inFlightCount < opts.concurrency || !!s.cancel || !!s.upsOutage);
    if (s.cancel || s.upsOutage) break;
    const rowNo = queue.shift()!;
    s.cursor = rowNo;
    dispatch(run, rowNo);
    dispatched++;
    if (workflowInfo().continueAsNewSuggested || dispatched >= opts.rowsPerRun) {
      handOverNow = true;
      break;
    }
  }
  // Drain: every row in flight settles (shipped, failed, needs review) before anything else.
  await condition(() => s.inFlightCount === 0);
  await run.refreshCounts();
  run.enter(s.phase);
  if (s.upsOutage && !s.cancel) return 'paused';
  return handOverNow && !s.cancel ? 'continue' : 'done';
}
