/**
 * What the two pre-flight steps (address check, rate shopping) share: a page of rows asked of UPS with bounded
 * concurrency, where a row UPS did not answer because UPS itself is down is left unsettled (the next page asks
 * again; a page where no row was answered makes the batch wait for UPS), and the page's progress.
 */
import type pg from 'pg';
import type { PreflightPage } from '../../domain/preflight';
import {
  stepProgress,
  unsettledRows,
  type PreflightRow,
  type PreflightStep,
} from '../../db/ledger/preflight';
import { askEach } from '../ups/ask-each';
import { keepAlive } from './heartbeat';

/** Rows per page: one ledger read, one write, one activity (the workflow shows progress between pages). */
export const PREFLIGHT_PAGE_ROWS = 250;

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
  return keepAlive(async () => {
    const rows = await unsettledRows(pool, args.batchId, args.step, PREFLIGHT_PAGE_ROWS);
    if (rows.length === 0)
      return { rows: 0, ...(await stepProgress(pool, args.batchId, args.step)), finished: true };
    const { answers: settled, outage } = await askEach(rows, args.concurrency, (r) => r.rowNo, settle);
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
