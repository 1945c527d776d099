/**
 * `trackBatch`: after a batch closes with shipped rows, follow every package until it is delivered, returned or
 * voided, or until `trackFor` passes (issue 25, docs/design.md §3a). Durable timers between looks (adaptive per
 * package, decided by the activity from each status), pages over the ledger through the worker's UPS session
 * pool, continue-as-new before the history grows past `eventsPerRun`. Counts only in history: the packages,
 * their statuses and UPS's words are in the ledger.
 */
import {
  ApplicationFailure,
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { describeIssues, durationToMs } from '../domain/batch';
import { trackingStatusQuery } from '../domain/messages';
import { SHIP_BATCH_TRACKING } from '../domain/search-attributes';
import {
  emptyTrackingCounts,
  TrackingInputSchema,
  type TrackingInputArg,
  type TrackingState,
} from '../domain/tracking';
import { trackingMarkdown } from './tracking-progress';

const tracking = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 25 },
});

/** Waiting for UPS while tracking: first after this long, doubling up to the max. */
const OUTAGE_FIRST_MS = 30_000;
const OUTAGE_MAX_MS = 30 * 60_000;

/** Follow the packages of `batchId`; `carried` is internal (the state a previous run handed over). */
export async function trackBatch(
  rawInput: TrackingInputArg,
  carried?: TrackingState,
): Promise<TrackingState> {
  const parsed = TrackingInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: 'InvalidTrackingInput',
      message: `invalid tracking input: ${describeIssues(parsed.error)}`,
      nonRetryable: true,
    });
  }
  const input = parsed.data;
  const now = Date.now();
  const state: TrackingState = carried
    ? { ...carried, runs: carried.runs + 1 }
    : {
        batchId: input.batchId,
        phase: 'tracking',
        counts: emptyTrackingCounts(),
        exceptions: 0,
        startedAt: new Date(now).toISOString(),
        deadline: new Date(now + durationToMs(input.trackFor)).toISOString(),
        runs: 1,
      };
  setHandler(trackingStatusQuery, () => state);
  let shownAttention: string | undefined = carried ? attentionOf(state) : undefined;
  const show = () => {
    setCurrentDetails(trackingMarkdown(state));
    const attention = attentionOf(state);
    if (attention !== shownAttention) {
      upsertSearchAttributes([{ key: SHIP_BATCH_TRACKING, value: attention }]);
      shownAttention = attention;
    }
  };
  show();
  const pollEveryMs = durationToMs(input.pollEvery);
  if (!carried) await tracking.seedTracking({ batchId: input.batchId, firstLookAfterMs: pollEveryMs });
  const deadline = Date.parse(state.deadline);
  let outageWaitMs = OUTAGE_FIRST_MS;
  for (;;) {
    if (Date.now() >= deadline) return finish(state, 'expired', show);
    // Checked before every page (a sweep of 100,000 packages is 200 pages in a row), so a run stays small.
    if (workflowInfo().historyLength >= input.eventsPerRun || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof trackBatch>(rawInput, state);
    }
    const page = await tracking.trackPage({ batchId: input.batchId, pollEveryMs, pageSize: input.pageSize });
    state.counts = page.counts;
    state.exceptions = page.counts.exception;
    state.lastCheckAt = new Date().toISOString();
    state.nextCheckAt = page.nextDueAt;
    if (page.statusWriteBackError) state.statusWriteBackError = page.statusWriteBackError;
    show();
    if (!page.nextDueAt) return finish(state, 'done', show);
    let waitMs: number;
    if (page.upsDown) {
      waitMs = outageWaitMs;
      outageWaitMs = Math.min(OUTAGE_MAX_MS, outageWaitMs * 2);
    } else {
      outageWaitMs = OUTAGE_FIRST_MS;
      if (page.dueNow > 0) continue;
      waitMs = Date.parse(page.nextDueAt) - Date.now();
    }
    await sleep(Math.max(1000, Math.min(waitMs, deadline - Date.now())));
  }
}

function finish(state: TrackingState, phase: 'done' | 'expired', show: () => void): TrackingState {
  state.phase = phase;
  state.nextCheckAt = undefined;
  show();
  return state;
}

/** The tracking search attribute: `exceptions` while any package is in exception, else the phase. */
function attentionOf(state: TrackingState): string {
  return state.exceptions > 0 && state.phase === 'tracking' ? 'exceptions' : state.phase;
}
