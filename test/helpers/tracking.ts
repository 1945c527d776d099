/** Tracking test helpers: wait on a batch's tracking workflow through its query, read its pages' results. */
import { writeFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { trackingStatusQuery } from '../../domain/messages';
import { trackingWorkflowId, type TrackingPage, type TrackingState } from '../../domain/tracking';
import type { TestEnvironment } from './environment';
import { startWorker, type RunningWorker } from './in-process-worker';

/** A day of UPS's time per real second: a package's whole life in seconds. */
export const FAST_TRACKING = { trackingClockSpeed: 86_400 };

/**
 * A sandbox of its own whose tracking clock runs at `knobs` (default {@link FAST_TRACKING}), `setKnobs` to
 * change them mid-test, and `startWorker` for an in-process worker on it (one at a time, or after a stop).
 */
export function trackingSandbox(env: TestEnvironment, label: string, knobs: object = FAST_TRACKING) {
  const sandbox = env.sandboxClient(label);
  const setKnobs = (k: object) => writeFileSync(sandbox.knobsFile, JSON.stringify(k));
  setKnobs(knobs);
  return {
    ...sandbox,
    setKnobs,
    startWorker: (): Promise<RunningWorker> =>
      startWorker(env, { sandbox, callTimeoutMs: 30_000, reconcileGraceMs: 1000 }),
  };
}

/** Query the tracking workflow of `batchId` until `pred` holds (it may not have started yet). */
export async function waitForTracking(
  client: Client,
  batchId: string,
  pred: (s: TrackingState) => boolean,
  timeoutMs = 90_000,
): Promise<TrackingState> {
  const handle = client.workflow.getHandle(trackingWorkflowId(batchId));
  const deadline = Date.now() + timeoutMs;
  let last: TrackingState | undefined;
  while (Date.now() < deadline) {
    last = await handle.query(trackingStatusQuery).catch(() => undefined);
    if (last && pred(last)) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`tracking never got there; last: ${JSON.stringify(last)}`);
}

/** What the trackPage activities of the tracking workflow's current run returned, in order (its history). */
export async function trackPageResults(client: Client, batchId: string): Promise<TrackingPage[]> {
  const events = (await client.workflow.getHandle(trackingWorkflowId(batchId)).fetchHistory()).events ?? [];
  const scheduled = new Map<string, string>();
  const results: TrackingPage[] = [];
  for (const e of events) {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) scheduled.set(String(e.eventId), name);
    const done = e.activityTaskCompletedEventAttributes;
    const payload = done?.result?.payloads?.[0];
    if (done && payload && scheduled.get(String(done.scheduledEventId)) === 'trackPage') {
      results.push(defaultPayloadConverter.fromPayload<TrackingPage>(payload));
    }
  }
  return results;
}
