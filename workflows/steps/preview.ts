/**
 * Phase previewing: UPS rates the first rows for the estimate; when UPS answered not one rating, the batch
 * waits for UPS and rates again (docs/design.md §3, step 2).
 */
import { ups, UPS_OPTIONS } from '../batch-activities';
import type { BatchRun } from '../batch-run';
import { waitForUps } from './wait-for-ups';

/** Preview `validRows` loaded rows, unless the batch was cancelled or rejected meanwhile. */
export async function preview(run: BatchRun, validRows: number): Promise<void> {
  const { batchId, opts, state } = run;
  if (state.cancel || state.rejected) return;
  const runPreview = () => {
    run.enter('previewing');
    return ups.previewBatch.executeWithOptions(
      { ...UPS_OPTIONS, summary: previewSummary(opts.previewRows, opts.rateAll, validRows) },
      [
        {
          batchId,
          previewRows: opts.previewRows,
          rateAll: opts.rateAll,
          concurrency: opts.concurrency,
        },
      ],
    );
  };
  let result = await runPreview();
  // UPS did not answer one rating: no $0.00 estimate, no shipping on it; wait for UPS, then rate again.
  while (result.upsDown && !state.cancel && !state.rejected) {
    state.startOutage(result.upsDown);
    if ((await waitForUps(run, false)) !== 'resumed') break;
    result = await runPreview();
  }
  if (!result.upsDown) {
    state.preview = result;
    state.estimatedCostCents = result.totalEstimatedCostCents;
    state.currency = result.currency;
  }
}

function previewSummary(previewRows: number, rateAll: boolean, valid: number): string {
  const n = rateAll ? valid : Math.min(previewRows, valid);
  return n > 0 ? `rate preview rows 1–${n}` : 'preview (no valid rows)';
}
