/**
 * The tracking workflow's activities (issue 25, docs/design.md §3a): seed the batch's packages into the ledger,
 * then pages of packages due for a look through UPS Tracking (the worker's session pool and rate cap), each
 * page's readings stored before the activity returns, and with `writeBack.statusColumn` the rows' new delivery
 * statuses written to the source (status-write-back.ts). The workflow gets counts and the next due time, read
 * from what the ledger keeps (a few index entries, never a count over the whole batch after every page).
 */
import type pg from 'pg';
import { nextCheckAfterMs, trackingStatusOf, type TrackingPage } from '../../domain/tracking';
import {
  duePackages,
  seedTracking,
  storeLooks,
  trackingSummary,
  type PackageLook,
} from '../../db/ledger/tracking';
import { keepAlive } from '../batch/heartbeat';
import type { UpsClient } from '../ups/client';
import { askEach, MAX_PAGE_CONCURRENCY } from '../ups/ask-each';
import { UpsError, upsOutageOf } from '../ups/errors';
import { writeDeliveryStatuses } from './status-write-back';

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

/**
 * Look at the next page of due packages; the readings are stored, and the rows' new delivery statuses
 * written back, before it returns.
 */
export async function trackPage(
  pool: pg.Pool,
  ups: UpsClient,
  args: { batchId: string; pollEveryMs: number; pageSize: number; concurrency?: number },
): Promise<TrackingPage> {
  const due = await duePackages(pool, args.batchId, args.pageSize);
  const { answers: looks, outage } = await askEach(
    due,
    args.concurrency ?? MAX_PAGE_CONCURRENCY,
    (pkg) => pkg.rowNo,
    async (pkg, signal): Promise<PackageLook> => {
      try {
        const answer = await ups.track(pkg.trackingNumber, signal);
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
          nextCheckAfterMs: nextCheckAfterMs(status, args.pollEveryMs, pkg),
        };
      } catch (err) {
        // UPS itself down: the package stays due and is asked again (askEach leaves it out).
        if (signal.aborted || (err instanceof UpsError && upsOutageOf(err))) throw err;
        // UPS does not know the number yet (a label just made), or answered unreadably: ask again later.
        return {
          trackingNumber: pkg.trackingNumber,
          error: (err as Error).message.slice(0, 500),
          nextCheckAfterMs: nextCheckAfterMs(pkg.status, args.pollEveryMs, pkg),
        };
      }
    },
  );
  await storeLooks(pool, args.batchId, looks);
  const statuses = await writeDeliveryStatuses(pool, args.batchId);
  const summary = await trackingSummary(pool, args.batchId, { dueUpTo: args.pageSize });
  return {
    asked: looks.length,
    ...summary,
    ...statuses,
    ...(looks.length === 0 && outage ? { upsDown: { kind: outage.kind, reason: outage.reason } } : {}),
  };
}
