/**
 * The batch's UPS pickup (option `pickup`; docs/design.md §3 step 4b): scheduled once shipping ends with
 * shipped rows, cancelled when the batch is cancelled with void. The activities keep it exactly once in the
 * ledger; the workflow holds only its status (no address). Batches without the option issue no command here.
 */
import { failureMessage, pickups } from '../batch-activities';
import type { BatchRun } from '../batch-run';

/** Schedule the pickup unless the batch asked for none, shipped nothing, or has one already. */
export async function schedulePickup(run: BatchRun): Promise<void> {
  const s = run.state;
  if (!run.opts.pickup || s.pickup || s.counts.shipped === 0) return;
  try {
    const pickup = await pickups.schedulePickup({ batchId: run.batchId });
    if (pickup) s.pickup = pickup;
    if (pickup?.state === 'failed')
      s.refuse('pickup', `UPS did not schedule the pickup: ${pickup.error ?? ''}`);
  } catch (err) {
    // UPS did not answer for the whole retry policy (a few minutes): the shipments stand; the close asks again.
    s.refuse('pickup', `pickup not scheduled yet: ${failureMessage(err)}`);
  }
  run.showProgress();
}

/**
 * A batch cancelled with void lets go of its pickup (kept while another batch holds the same PRN). Asked even
 * when no schedule answered (UPS down): a request whose answer was lost may have made one.
 */
export async function cancelPickup(run: BatchRun): Promise<void> {
  const s = run.state;
  if (!run.opts.pickup) return;
  try {
    const r = await pickups.cancelPickup({ batchId: run.batchId });
    if (r.pickup) s.pickup = r.pickup;
    if (r.problem) s.refuse('cancel', r.problem);
  } catch (err) {
    // UPS did not answer: the batch still closes cancelled; the pickup stays as the status shows it.
    s.refuse('cancel', `pickup ${s.pickup?.prn ?? ''} not cancelled: ${failureMessage(err)}`);
  }
}
