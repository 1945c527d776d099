import { Context } from '@temporalio/activity';

/** How often a UPS activity reports that it is alive (well under the workflow's heartbeat timeout). */
export const HEARTBEAT_EVERY_MS = 3_000;

/**
 * Heartbeat on a timer while `fn` runs: a UPS call (and the wait for a free session) may be long, and a
 * worker that died must be noticed within the heartbeat timeout, not the start-to-close timeout.
 */
export async function keepAlive<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
