/** The end of a batch that shipped: write-back, then the final phase (docs/design.md §3, step 6). */
import type { BatchResult } from '../../domain/batch';
import { failureMessage, writing } from '../batch-activities';
import type { BatchRun } from '../batch-run';
import { schedulePickup } from './pickup';
import { startTracking } from './tracking';

/** Write tracking numbers back (when asked), then close completed or completed_with_errors. */
export async function complete(run: BatchRun): Promise<BatchResult> {
  const s = run.state;
  await run.refreshCounts();
  if (run.opts.writeBack && s.counts.shipped > 0) {
    await writing.writeBack({ batchId: run.batchId }).catch((err: unknown) => {
      // Write-back never undoes a shipment; its failure is reported, the batch still finishes.
      s.refuse('writeBack', `write-back failed: ${failureMessage(err)}`);
    });
  }
  await schedulePickup(run); // rows restarted and shipped after the first pass; no-op once there is one
  await startTracking(run);
  const bad = s.counts.failed + s.counts.needsReview + s.counts.invalid;
  return run.finish(bad > 0 ? 'completed_with_errors' : 'completed');
}
