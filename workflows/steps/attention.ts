/**
 * Phase awaiting_action: rows failed or need review; an operator restarts, resolves, finishes or cancels
 * (docs/design.md §3, step 5). Restarted rows go through the execution again.
 */
import { condition } from '@temporalio/workflow';
import { durationToMs } from '../../domain/batch';
import { ledger } from '../batch-activities';
import type { BatchRun } from '../batch-run';
import { execute } from './execute';

/**
 * Wait for operator actions while rows need one. Ends with what the batch does next: 'finish' (nothing left
 * to act on, `finish`, or the deadline), 'cancel', or 'continue' (hand over to a new run).
 */
export async function attention(run: BatchRun): Promise<'finish' | 'cancel' | 'continue'> {
  const s = run.state;
  for (;;) {
    if (s.cancel) return 'cancel';
    if (run.handOverSuggested()) return 'continue';
    await run.refreshCounts();
    const needsAction = s.counts.failed + s.counts.needsReview > 0;
    if (!needsAction && s.actions.length === 0) return 'finish';
    if (s.phase !== 'awaiting_action') {
      run.enter('awaiting_action');
      s.attentionDeadline = Date.now() + durationToMs(run.opts.attentionTimeout);
    } else {
      run.showProgress(); // the rows left after the last actions
    }
    if (s.actions.length === 0) {
      const acted = await condition(
        () => s.actions.length > 0 || s.finishRequested || !!s.cancel || run.handOverSuggested(),
        Math.max(0, (s.attentionDeadline ?? Date.now()) - Date.now()),
      );
      if (!acted || (s.finishRequested && s.actions.length === 0)) return 'finish';
      if (s.cancel || run.handOverSuggested()) continue;
    }
    const resumed = await runActions(run);
    if (resumed) {
      s.attentionDeadline = undefined;
      run.enter('executing');
      if ((await execute(run)) === 'continue') return 'continue';
    }
  }
}

/** Run queued restart/resolve actions; true when rows went back to pending (dispatch again). */
async function runActions(run: BatchRun): Promise<boolean> {
  const s = run.state;
  let requeued = 0;
  while (s.actions.length > 0) {
    const action = s.actions.shift()!;
    const r = await ledger.applyRowAction({ batchId: run.batchId, action });
    requeued += r.requeued;
    for (const problem of r.problems) s.refuse(action.kind, problem);
  }
  if (requeued > 0) s.cursor = 0;
  return requeued > 0;
}
