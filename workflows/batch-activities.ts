/**
 * The batch workflow's activities, one proxy per retry policy (docs/design.md §3, "Activities and their
 * options"). The workflow imports only their types; the worker registers them.
 */
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

/** Failure types a retry cannot fix (matched by name by Temporal's retry policy). */
export const NON_RETRYABLE = ['BatchSourceError', 'UpsRejectedError', 'InvalidBatchInput', 'WriteBackError'];

/** Ledger reads and writes: short, retried until the database answers. */
export const ledger = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** The load: long, heartbeating per page, resumed by a retry. */
export const loading = proxyActivities<Activities>({
  startToCloseTimeout: '2h',
  heartbeatTimeout: '60s',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 20,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** Write-back: bounded retries, so a source that refuses the update cannot hold the batch open. */
export const writing = proxyActivities<Activities>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: '60s',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 10,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** UPS activities: a UPS call has its own timeout in the client; this bounds one attempt with its session wait. */
export const UPS_OPTIONS = {
  startToCloseTimeout: '10m',
  // The activities heartbeat every few seconds: a dead worker's rows are retried elsewhere within this.
  heartbeatTimeout: '20s',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '2m',
    maximumAttempts: 25,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
} as const;

/** Preview, shipRow, probe and void; `executeWithOptions` with {@link UPS_OPTIONS} adds a summary. */
export const ups = proxyActivities<Activities>(UPS_OPTIONS);

/**
 * The pickup (schedule, cancel): a few minutes of retries, not the shipping's 45, so a UPS that does not answer
 * holds the batch (and a cancel waiting behind it) briefly; the batch asks again when it closes.
 */
export const pickups = proxyActivities<Activities>({
  ...UPS_OPTIONS,
  retry: { ...UPS_OPTIONS.retry, maximumInterval: '30s', maximumAttempts: 8 },
});

/** What an activity failure says: the cause's message when Temporal wrapped it. */
export function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
