/**
 * Phase awaiting_approval: in confirm mode the batch waits for `approve`, `reject`, `cancel`, `setMode auto`
 * or its deadline; a batch that will not ship closes here (docs/design.md §3, step 3).
 */
import { condition } from '@temporalio/workflow';
import { durationToMs, type BatchResult } from '../../domain/batch';
import { ledger } from '../batch-activities';
import type { BatchRun } from '../batch-run';
import { cancelRest } from './cancel';

export type ApprovalOutcome = 'go' | 'rejected' | 'cancelled' | 'expired';

/** After the first preview: the approval deadline, absolute so that a new run waits only the rest. */
export function startApprovalClock(run: BatchRun): void {
  const s = run.state;
  if (s.mode === 'confirm' && !s.cancel && !s.rejected) {
    s.approvalDeadline = Date.now() + durationToMs(run.opts.approvalTimeout);
  }
}

/** Wait for the decision (confirm mode); auto mode approves at once. */
export async function awaitApproval(run: BatchRun): Promise<ApprovalOutcome> {
  const s = run.state;
  if (s.mode === 'confirm' && !s.cancel && !s.rejected) {
    run.enter('awaiting_approval');
    const decided = await condition(
      () => !!s.approval || s.mode === 'auto' || !!s.rejected || !!s.cancel,
      Math.max(0, (s.approvalDeadline ?? Date.now()) - Date.now()),
    );
    if (!decided) return 'expired';
  }
  if (s.cancel) return 'cancelled';
  if (s.rejected) return 'rejected';
  if (!s.approval) s.approval = { by: `${s.mode} mode`, at: new Date().toISOString() };
  return 'go';
}

/** Close a batch that ships nothing: its pending rows become cancelled. */
export async function closeWithoutShipping(
  run: BatchRun,
  outcome: Exclude<ApprovalOutcome, 'go'>,
): Promise<BatchResult> {
  const s = run.state;
  if (outcome === 'cancelled') return cancelRest(run);
  await ledger.markRows({ batchId: run.batchId, from: ['pending'], to: 'cancelled' });
  await run.refreshCounts();
  if (outcome === 'rejected') s.error = `rejected: ${s.rejected?.reason ?? ''}`.trim();
  return run.finish(outcome);
}
