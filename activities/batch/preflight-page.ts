/**
 * What the two pre-flight steps (address check, rate shopping) share: a page of rows asked of UPS with bounded
 * concurrency, where a row UPS did not answer because UPS itself is down is left unsettled (the next page asks
 * again; a page where no row was answered makes the batch wait for UPS), and the page's progress.
 */
import { setMaxListeners } from 'node:events';
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { PreflightPage } from '../../domain/preflight';
import {
  stepProgress,
  unsettledRows,
  type PreflightRow,
  type PreflightStep,
} from '../../db/ledger/preflight';
import { UpsError, upsOutageOf, type UpsOutageSign } from '../ups/errors';
import { keepAlive } from './heartbeat';
import { mapBounded } from './preview';

/** Rows per page: one ledger read, one write, one activity (the workflow shows progress between pages). */
export const PREFLIGHT_PAGE_ROWS = 250;

/** UPS calls in flight at once per page, at most (the session pool and rate cap bound them further). */
export const MAX_PAGE_CONCURRENCY = 16;

/**
 * Run one page of `step`: `settle` asks UPS about a row and returns what to store (its errors are the row's
 * outcome); a UPS outage thrown by `settle` leaves the row for later. `store` writes the settled rows.
 */
export async function runPreflightPage<T>(
  pool: pg.Pool,
  args: { batchId: string; step: PreflightStep; concurrency: number },
  settle: (row: PreflightRow, signal: AbortSignal) => Promise<T>,
  store: (settled: T[]) => Promise<number>,
): Promise<PreflightPage> {
  const ctx = Context.current();
  const concurrency = Math.max(1, Math.min(args.concurrency, MAX_PAGE_CONCURRENCY));
  setMaxListeners(Math.max(10, concurrency + 4), ctx.cancellationSignal);
  return keepAlive(async () => {
    const rows = await unsettledRows(pool, args.batchId, args.step, PREFLIGHT_PAGE_ROWS);
    if (rows.length === 0)
      return { rows: 0, ...(await stepProgress(pool, args.batchId, args.step)), finished: true };
    let outage: UpsOutageSign | undefined;
    const results = await mapBounded(rows, concurrency, async (row) => {
      try {
        return await settle(row, ctx.cancellationSignal);
      } catch (err) {
        if (ctx.cancellationSignal.aborted) throw err;
        const sign = err instanceof UpsError ? upsOutageOf(err) : undefined;
        if (!sign) throw err;
        outage ??= sign;
        ctx.log.warn('UPS call failed', { error: err, rowNo: row.rowNo });
        return undefined;
      }
    });
    const settled = results.filter((r): r is Awaited<T> => r !== undefined) as T[];
    if (settled.length === 0 && outage) {
      return {
        rows: 0,
        ...(await stepProgress(pool, args.batchId, args.step)),
        finished: false,
        upsDown: { kind: outage.kind, reason: outage.reason },
      };
    }
    const stored = await store(settled);
    const progress = await stepProgress(pool, args.batchId, args.step);
    return { rows: stored, ...progress, finished: progress.done >= progress.total };
  });
}
