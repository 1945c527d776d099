/**
 * One row through `shipRow`, settled in the state's counts: the unit both dispatch loops (execute, and
 * the cancel's settle) send. The window is the state's `inFlight`.
 */
import { ActivityFailure, ApplicationFailure, CancellationScope, condition, log } from '@temporalio/workflow';
import { failureMessage, ledger, ups, UPS_OPTIONS } from '../batch-activities';
import type { BatchRun } from '../batch-run';

/** Rows fetched from the ledger per page while dispatching. */
export const PAGE = 500;

/** Send one row: it counts as in flight until it settles. */
export function dispatch(run: BatchRun, rowNo: number): void {
  const s = run.state;
  s.inFlight[rowNo] = true;
  s.counts.pending = Math.max(0, s.counts.pending - 1);
  void runRow(run, rowNo);
}

async function runRow(run: BatchRun, rowNo: number): Promise<void> {
  const { batchId, state: s } = run;
  try {
    for (;;) {
      // Shielded: Temporal cancellation must not abandon a row whose create_shipment may be under way.
      const r = await CancellationScope.nonCancellable(() =>
        ups.shipRow.executeWithOptions({ ...UPS_OPTIONS, summary: `ship row ${rowNo}` }, [
          { batchId, rowNo },
        ]),
      );
      if (r.upsDown) {
        // UPS itself failed and nothing was created: try again after a pause, unless the breaker
        // tripped (then the row waits in the ledger, pending or in flight, for UPS to answer).
        if (r.status === 'pending') s.counts.pending++;
        if (s.noteUpsDown(r.upsDown) || s.cancel) {
          if (r.status === 'in_flight') s.leftInFlight++;
          return;
        }
        const pause = Math.min(
          30_000,
          Math.max(r.upsDown.retryAfterMs ?? 0, 1000 * 2 ** (s.consecutiveUpsDown - 1)),
        );
        // The pause ends early when the breaker trips meanwhile: the batch then waits for UPS at once.
        await CancellationScope.nonCancellable(() => condition(() => !!s.upsOutage || !!s.cancel, pause));
        if (s.upsOutage || s.cancel) return;
        if (r.status === 'pending') s.counts.pending = Math.max(0, s.counts.pending - 1);
        continue;
      }
      s.noteUpsAnswered();
      if (r.status === 'shipped') {
        s.counts.shipped++;
        s.actualCostCents += r.costCents;
        if (r.currency) s.currency = r.currency;
      } else if (r.status === 'needs_review') s.counts.needsReview++;
      else if (r.status === 'cancelled') s.counts.cancelled++;
      else s.counts.failed++;
      return;
    }
  } catch (err) {
    // A definitive UPS rejection already marked the row failed; anything else (retries exhausted)
    // settles it here: in_flight → needs_review (it may exist at UPS), pending → failed.
    const type =
      err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.type : undefined;
    if (type === 'UpsRejectedError') s.counts.failed++;
    else {
      log.warn('shipRow gave up', { rowNo, error: failureMessage(err) });
      const settled = await CancellationScope.nonCancellable(() =>
        ledger.settleRow({ batchId, rowNo, reason: failureMessage(err) }),
      );
      if (settled === 'needs_review') s.counts.needsReview++;
      else s.counts.failed++;
    }
  } finally {
    delete s.inFlight[rowNo];
    run.showProgress();
  }
}
