/**
 * The hand-over to tracking (issue 25, docs/design.md §3a): a batch that closes with shipped rows starts its
 * tracking workflow as a child that outlives it (ParentClosePolicy ABANDON), id derived from the batch id.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, patched, startChild } from '@temporalio/workflow';
import { durationToMs } from '../../domain/batch';
import { trackingWorkflowId } from '../../domain/tracking';
import type { BatchRun } from '../batch-run';
import type { trackBatch } from '../track-batch';

/** Batches closed by older code (their histories) start no tracking: the child is a new command. */
const TRACKING_CHILD = 'tracking-child-v1';

/**
 * Start following the batch's packages, unless none shipped or the batch asked for no tracking. Called right
 * before the batch's final phase (completed, completed_with_errors, cancelled).
 */
export async function startTracking(run: BatchRun): Promise<void> {
  const { state, opts } = run;
  if (state.counts.shipped === 0 || durationToMs(opts.trackFor) === 0) return;
  if (!patched(TRACKING_CHILD)) return;
  try {
    await startChild<typeof trackBatch>('trackBatch', {
      workflowId: trackingWorkflowId(run.batchId),
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [{ batchId: run.batchId, trackFor: opts.trackFor, pollEvery: opts.trackEvery }],
      staticSummary: `Tracking ${run.batchId}`,
    });
  } catch (err) {
    // Already following this batch (an earlier run of it started the child): nothing to do.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
