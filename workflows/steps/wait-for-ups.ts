/** Phase waiting_for_ups: UPS itself failed; the batch probes it with backoff (docs/ups-outage.md). */
import { condition } from '@temporalio/workflow';
import { ups, UPS_OPTIONS } from '../batch-activities';
import type { BatchRun } from '../batch-run';

/** Waiting for UPS: the first check after this long, then twice as long each time, at most the max. */
const PROBE_FIRST_MS = 5_000;
const PROBE_MAX_MS = 5 * 60_000;

/**
 * Probe UPS with backoff until it answers, the operator resumes, or a cancel. Dispatch is paused; the rows
 * not sent stay pending with their retries unspent. `canHandOver`: a hand-over may end the wait.
 */
export async function waitForUps(
  run: BatchRun,
  canHandOver: boolean,
): Promise<'resumed' | 'cancelled' | 'continue'> {
  const s = run.state;
  run.enter('waiting_for_ups');
  for (;;) {
    const o = s.upsOutage!;
    const delay = Math.min(PROBE_MAX_MS, PROBE_FIRST_MS * 2 ** Math.min(o.probes, 10));
    o.nextProbeAt = new Date(Date.now() + delay).toISOString();
    run.showProgress();
    await condition(
      () => !!s.cancel || !!s.rejected || s.resumeRequested || (canHandOver && run.handOverSuggested()),
      delay,
    );
    if (s.cancel || s.rejected) {
      s.endOutage();
      return 'cancelled';
    }
    if (s.resumeRequested) {
      s.endOutage();
      return 'resumed';
    }
    if (canHandOver && run.handOverSuggested()) return 'continue';
    o.nextProbeAt = undefined;
    o.probes++;
    run.showProgress();
    const probe = await ups.probeUps.executeWithOptions({ ...UPS_OPTIONS, summary: 'is UPS answering?' }, [
      { batchId: run.batchId },
    ]);
    if (probe.ok) {
      s.endOutage();
      return 'resumed';
    }
    o.kind = probe.kind;
    o.reason = probe.reason;
    o.needsOperator = probe.kind === 'auth';
  }
}
