/**
 * The tracking workflow's activities (issue 25, docs/design.md §3a): seed the batch's packages into the ledger,
 * then pages of packages due for a look through UPS Tracking (the worker's session pool and rate cap), each
 * page's readings stored before the activity returns. The workflow gets counts and the next due time.
 */
import { setMaxListeners } from 'node:events';
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import { nextCheckAfterMs, trackingStatusOf, type TrackingPage } from '../../domain/tracking';
import {
  duePackages,
  seedTracking,
  storeLooks,
  trackingSummary,
  type PackageLook,
} from '../../db/ledger/tracking';
import { mapBounded } from '../batch/preview';
import { keepAlive } from '../batch/heartbeat';
import type { UpsClient } from '../ups/client';
import { UpsError, upsOutageOf, type UpsOutageSign } from '../ups/errors';

/** UPS calls in flight at once per page, at most (the session pool and rate cap bound them further). */
const MAX_PAGE_CONCURRENCY = 16;

export function createTrackingActivities(deps: { pool: pg.Pool; ups: UpsClient }) {
  const { pool, ups } = deps;
  return {
    /** The batch's shipped packages into `package_tracking` (idempotent); returns how many it added. */
    seedTracking: (args: { batchId: string; firstLookAfterMs: number }) =>
      seedTracking(pool, args.batchId, args.firstLookAfterMs),
    trackPage: (args: { batchId: string; pollEveryMs: number; pageSize: number; concurrency?: number }) =>
      keepAlive(() => trackPage(pool, ups, args)),
  };
}

/** Look at the next page of due packages; the readings are stored before it returns. */
export async function trackPage(
  pool: pg.Pool,
  ups: UpsClient,
  args: { batchId: string; pollEveryMs: number; pageSize: number; concurrency?: number },
): Promise<TrackingPage> {
  const ctx = Context.current();
  const concurrency = Math.max(1, Math.min(args.concurrency ?? MAX_PAGE_CONCURRENCY, MAX_PAGE_CONCURRENCY));
  setMaxListeners(Math.max(10, concurrency + 4), ctx.cancellationSignal);
  const due = await duePackages(pool, args.batchId, args.pageSize);
  let outage: UpsOutageSign | undefined;
  const looks = await mapBounded(due, concurrency, async (pkg): Promise<PackageLook | undefined> => {
    try {
      const answer = await ups.track(pkg.trackingNumber, ctx.cancellationSignal);
      const status = trackingStatusOf(answer.type ?? '', answer.status);
      return {
        trackingNumber: pkg.trackingNumber,
        reading: {
          status,
          description: answer.status,
          ...(answer.at ? { at: answer.at } : {}),
          ...(answer.location ? { location: answer.location } : {}),
          ...(answer.deliveredOn ? { deliveredOn: answer.deliveredOn } : {}),
        },
        nextCheckAfterMs: nextCheckAfterMs(status, args.pollEveryMs),
      };
    } catch (err) {
      if (ctx.cancellationSignal.aborted) throw err;
      const sign = err instanceof UpsError ? upsOutageOf(err) : undefined;
      if (sign) {
        // UPS itself is down: the package stays due and is asked again.
        outage ??= sign;
        return undefined;
      }
      // UPS does not know the number yet (a label just made), or answered unreadably: ask again later.
      return {
        trackingNumber: pkg.trackingNumber,
        error: (err as Error).message.slice(0, 500),
        nextCheckAfterMs: nextCheckAfterMs(pkg.status, args.pollEveryMs),
      };
    }
  });
  const answered = looks.filter((l): l is PackageLook => l !== undefined);
  await storeLooks(pool, args.batchId, answered);
  const summary = await trackingSummary(pool, args.batchId);
  return {
    asked: answered.length,
    ...summary,
    ...(answered.length === 0 && outage ? { upsDown: { kind: outage.kind, reason: outage.reason } } : {}),
  };
}
