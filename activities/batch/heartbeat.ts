import { Context } from '@temporalio/activity';

/** How often a UPS activity reports that it is alive (well under the workflow's heartbeat timeout). */
export const HEARTBEAT_EVERY_MS = 3_000;

/**
 * Heartbeat on a timer while `fn` runs: a UPS call (and the wait for a free session) may be long, and a
 * worker that died must be noticed within the heartbeat timeout, not the start-to-close timeout.
 * `details`, when given, is sent with every beat (a resumable activity's progress: the last beat's details
 * are what a retried attempt starts from, so a beat without them would erase them).
 */
export async function keepAlive<T>(fn: () => Promise<T>, details?: () => unknown): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(details?.()), HEARTBEAT_EVERY_MS);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
