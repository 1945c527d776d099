/**
 * The delivery-status write-back (issue 25, docs/design.md §3a): with `options.writeBack.statusColumn`, each
 * tracked row's delivery status (`rowDeliveryStatus` of its packages) goes into that column of the source
 * table, keyed like the tracking numbers' write-back. Only rows whose packages changed since their status was
 * last written are read (the ledger marks them with the change), a bounded page at a time; the source is
 * written first, then the ledger, so a retry or a killed worker writes the same value again at worst. A
 * problem no retry fixes (no such column, a value that does not fit) stops it for the batch, kept once in the
 * ledger and logged once; tracking goes on.
 */
import { log } from '@temporalio/activity';
import type { Logger } from '@temporalio/common';
import type pg from 'pg';
import { rowDeliveryStatus, type TrackingPage } from '../../domain/tracking';
import { isDefinitiveWriteBackError, writeBackColumn } from '../../inputs/source';
import {
  markStatusesWritten,
  rowsWithNewStatus,
  statusWriteBackOf,
  stopStatusWriteBack,
} from '../../db/ledger/write-back';

/** Rows read, written to the source and marked at a time: bounded UPDATEs on a batch of any size. */
export const STATUS_WRITE_BACK_PAGE = 1000;
/** The most of a problem kept in the ledger and handed to the workflow. */
const MAX_PROBLEM_CHARS = 300;

/** What a tracking page says of the status write-back (nothing for a batch without one). */
export type StatusWriteBackResult = Pick<TrackingPage, 'statusesWritten' | 'statusWriteBackError'>;

/**
 * Write the new delivery statuses of the batch's marked rows into the source, every one of them before it
 * returns (the last page of a tracking leaves none behind). A failure a retry may fix is thrown (the
 * activity is retried; the statuses stay marked).
 */
export async function writeDeliveryStatuses(
  pool: pg.Pool,
  batchId: string,
  opts: { pageSize?: number; logger?: Pick<Logger, 'warn'> } = {},
): Promise<StatusWriteBackResult> {
  const { pageSize = STATUS_WRITE_BACK_PAGE, logger = log } = opts;
  const target = await statusWriteBackOf(pool, batchId);
  if (!target) return {};
  if (target.stoppedBy !== null) return { statusWriteBackError: target.stoppedBy };
  let written = 0;
  let afterRow = 0;
  for (;;) {
    const rows = await rowsWithNewStatus(pool, batchId, afterRow, pageSize);
    if (rows.length === 0) return { statusesWritten: written };
    afterRow = rows[rows.length - 1]!.rowNo;
    const derived = rows.map((r) => ({ ...r, status: rowDeliveryStatus(r.packages) }));
    const changed = derived.filter((r) => r.status !== r.written);
    if (changed.length > 0) {
      try {
        await writeBackColumn(pool, {
          table: target.table,
          keyColumn: target.keyColumn,
          column: target.column,
          rows: changed.map((r) => ({ key: r.sourceKey, value: r.status })),
          names: { column: 'write-back status column', values: 'delivery statuses' },
        });
      } catch (err) {
        if (!isDefinitiveWriteBackError(err)) throw err;
        const problem =
          `status write-back to ${target.table}.${target.column}: ${(err as Error).message}`.slice(
            0,
            MAX_PROBLEM_CHARS,
          );
        if (await stopStatusWriteBack(pool, batchId, problem)) {
          logger.warn('delivery-status write-back stopped for the batch; tracking goes on', {
            batchId,
            problem,
          });
        }
        return { statusesWritten: written, statusWriteBackError: problem };
      }
    }
    await markStatusesWritten(pool, batchId, derived);
    written += changed.length;
  }
}
