/**
 * `shipmentBatch`: one durable workflow per batch (docs/design.md §3). Row data never enters history: the
 * activities take the batch id and row numbers and read the ledger; results are counts and cents. The
 * steps are in steps/, each over the run's context (batch-run.ts).
 */
import { ApplicationFailure, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import { BatchInputSchema, describeIssues, type BatchInputArg, type BatchResult } from '../domain/batch';
import { registerHandlers } from './batch-handlers';
import { BatchRun } from './batch-run';
import { BatchState, type CarriedState } from './batch-state';
import { awaitApproval, closeWithoutShipping, startApprovalClock } from './steps/approval';
import { attention } from './steps/attention';
import { cancelRest, closeAfterTemporalCancel, watchCancel } from './steps/cancel';
import { complete } from './steps/complete';
import { execute } from './steps/execute';
import { load } from './steps/load';
import { schedulePickup } from './steps/pickup';
import { preflight } from './steps/preflight';
import { preview } from './steps/preview';

/**
 * Patches (workflow changes that running batches replay differently; docs/exactly-once.md):
 * - CANCEL_IN_LEDGER: a cancel is written to the ledger as soon as it is accepted (shipRow reads it
 *   before every create), and closing after a cancel settles rows still in flight in the ledger
 *   (undispatched restarts reconcile; with voidShipped, rows needing review too), so no row stays
 *   pending or in_flight.
 * - ATTENTION_HANDOVER: the attention phase continues as new when Temporal suggests it or after many
 *   Updates, like the execution loop.
 */
const CANCEL_IN_LEDGER = 'cancel-in-ledger-v1';
const ATTENTION_HANDOVER = 'attention-handover-v1';

/**
 * Ship every row of a source table through UPS, once. `carried` is internal: the state a previous run
 * handed over at continue-as-new.
 */
export async function shipmentBatch(rawInput: BatchInputArg, carried?: CarriedState): Promise<BatchResult> {
  const run = startRun(rawInput, carried);
  const { state } = run;
  try {
    if (!carried) {
      const loaded = await load(run);
      if (loaded.total === 0) return run.finish('completed');
      await preflight(run);
      // The pre-flight may have made rows invalid (address check "require", no service within the limit).
      await preview(run, state.preflight ? state.counts.total - state.counts.invalid : loaded.valid);
      startApprovalClock(run);
    }
    if (state.phase === 'previewing' || state.phase === 'loading' || state.phase === 'awaiting_approval') {
      const outcome = await awaitApproval(run);
      if (outcome !== 'go') return await closeWithoutShipping(run, outcome);
    }
    if (state.phase !== 'awaiting_action') {
      state.modeLocked = true;
      run.enter(state.upsOutage ? 'waiting_for_ups' : 'executing');
      if ((await execute(run)) === 'continue') return await run.handOver();
    }
    // The packages shipped so far are ready: one pickup for them (a cancel decides in cancelRest).
    if (!state.cancel) await schedulePickup(run);
    const next = await attention(run);
    if (next === 'cancel') return await cancelRest(run);
    if (next === 'continue') return await run.handOver();
    return await complete(run);
  } catch (err) {
    if (!isCancellation(err)) throw err;
    await closeAfterTemporalCancel(run);
    throw err;
  }
}

/** A run's start, before its first wait: input checked, state, handlers, patches, cancel watcher. */
function startRun(rawInput: BatchInputArg, carried: CarriedState | undefined): BatchRun {
  const parsed = BatchInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: 'InvalidBatchInput',
      message: `invalid batch input: ${describeIssues(parsed.error)}`,
      nonRetryable: true,
    });
  }
  const state = new BatchState(workflowInfo().workflowId, parsed.data, carried);
  registerHandlers(state);
  const patches = {
    cancelInLedger: patched(CANCEL_IN_LEDGER),
    attentionHandover: patched(ATTENTION_HANDOVER),
  };
  const run = new BatchRun(rawInput, state, patches, carried);
  if (patches.cancelInLedger) watchCancel(run);
  run.showProgress();
  return run;
}
