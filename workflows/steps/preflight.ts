/**
 * Phase previewing, before the rating: the address pre-flight and rate shopping (docs/design.md §3, step 2),
 * a page of rows per activity, so the progress shows between pages (status, watch, the Web UI) and a worker
 * that dies loses at most its page (whose settled rows the ledger keeps). When not one row of a page was
 * answered because UPS is down, the batch waits for UPS, then goes on where it stopped.
 */
import type { PreflightPage, PreflightProgress } from '../../domain/preflight';
import { isShopping, maxTransitDaysOf } from '../../domain/preflight';
import { ups, UPS_OPTIONS } from '../batch-activities';
import type { BatchRun } from '../batch-run';
import { waitForUps } from './wait-for-ups';

/** Check addresses and shop rates as the batch's options ask; nothing when both are off. */
export async function preflight(run: BatchRun): Promise<void> {
  const { batchId, opts } = run;
  const checking = opts.addressCheck !== 'off';
  const shopping = isShopping(opts.service);
  if (!checking && !shopping) return;
  // Shown from the start (status, watch, the Web UI): every valid row is to do; the pages correct the totals.
  const valid = run.state.counts.total - run.state.counts.invalid;
  run.state.preflight = {
    ...(checking ? { addressCheck: { done: 0, total: valid } } : {}),
    ...(shopping ? { rateShopping: { done: 0, total: valid } } : {}),
  };
  run.enter('previewing');
  if (checking && opts.addressCheck !== 'off') {
    const args = {
      batchId,
      addressCheck: opts.addressCheck,
      useCorrectedAddress: opts.useCorrectedAddress,
      concurrency: opts.concurrency,
    };
    await pages(run, 'addressCheck', (done) =>
      ups.checkAddressPage.executeWithOptions(
        { ...UPS_OPTIONS, summary: `check addresses after ${done} rows` },
        [args],
      ),
    );
  }
  if (shopping) {
    const maxTransitDays = maxTransitDaysOf(opts.service);
    const args = { batchId, concurrency: opts.concurrency, ...(maxTransitDays ? { maxTransitDays } : {}) };
    await pages(run, 'rateShopping', (done) =>
      ups.shopRatesPage.executeWithOptions({ ...UPS_OPTIONS, summary: `shop rates after ${done} rows` }, [
        args,
      ]),
    );
  }
  // Rows the pre-flight made invalid (require, no service within the limit) count as invalid from here on.
  await run.refreshCounts();
}

/** Pages of one step until it is done, the batch is cancelled or rejected; UPS outages are waited out. */
async function pages(
  run: BatchRun,
  step: keyof PreflightProgress,
  page: (done: number) => Promise<PreflightPage>,
): Promise<void> {
  const { state } = run;
  for (;;) {
    if (state.cancel || state.rejected) return;
    const result = await page(state.preflight?.[step]?.done ?? 0);
    state.preflight = { ...state.preflight, [step]: { done: result.done, total: result.total } };
    if (result.upsDown) {
      state.startOutage(result.upsDown);
      if ((await waitForUps(run, false)) !== 'resumed') return;
      run.enter('previewing');
      continue;
    }
    run.showProgress();
    if (result.finished) return;
  }
}
