/** The batch workflow's activities, bound to the worker's pool and UPS client. */
import type pg from 'pg';
import type { BatchInput, PendingAction } from '../../domain/batch';
import type { RowStatus } from '../../domain/row-status';
import type { UpsClient } from '../ups/client';
import { NO_METRICS, type ShipbatchMetrics } from '../metrics';
import { loadBatch } from './load';
import { requestCancel } from '../../db/ledger/batches';
import { markRows, pendingRows } from '../../db/ledger/rows';
import { ledgerTotals } from '../../db/ledger/totals';
import { applyRowAction, settleRow, voidShippedRows, writeBack } from './operations';
import { previewBatch } from './preview';
import { checkAddressPage, type AddressCheckArgs } from './address-check';
import { shopRatesPage, type RateShopArgs } from './rate-shop';
import { cancelPickup, schedulePickup } from './pickup';
import { probeUps } from './probe';
import { shipRow } from './ship-row';
import { keepAlive } from './heartbeat';

export interface BatchActivityDeps {
  pool: pg.Pool;
  ups: UpsClient;
  /** Statement timeout of source reads (the user's filter runs there). */
  statementTimeoutMs: number;
  reconcileGraceMs: number;
  callTimeoutMs: number;
  recreateAfterGrace: boolean;
  metrics?: ShipbatchMetrics;
}

export function createBatchActivities(deps: BatchActivityDeps) {
  const { pool, ups } = deps;
  const metrics = deps.metrics ?? NO_METRICS;
  return {
    loadBatch: (args: { batchId: string; input: BatchInput }) =>
      loadBatch(pool, args, deps.statementTimeoutMs, metrics),
    previewBatch: (args: { batchId: string; previewRows: number; rateAll: boolean; concurrency: number }) =>
      previewBatch(pool, ups, args),
    checkAddressPage: (args: AddressCheckArgs) => checkAddressPage(pool, ups, args),
    shopRatesPage: (args: RateShopArgs) => shopRatesPage(pool, ups, args),
    pendingRows: (args: { batchId: string; afterRowNo: number; limit: number }) =>
      pendingRows(pool, args.batchId, args.afterRowNo, args.limit),
    shipRow: (args: { batchId: string; rowNo: number }) =>
      keepAlive(() =>
        shipRow(
          {
            pool,
            ups,
            reconcileGraceMs: deps.reconcileGraceMs,
            callTimeoutMs: deps.callTimeoutMs,
            recreateAfterGrace: deps.recreateAfterGrace,
            metrics,
          },
          args,
        ),
      ),
    requestCancel: (args: { batchId: string }) => requestCancel(pool, args.batchId),
    probeUps: (args: { batchId: string }) => keepAlive(() => probeUps(pool, ups, args)),
    ledgerTotals: (args: { batchId: string }) => ledgerTotals(pool, args.batchId),
    markRows: async (args: {
      batchId: string;
      from: RowStatus[];
      to: RowStatus;
      rows?: number[];
      /** Why, for rows moved to needs_review. */
      reason?: string;
    }) => {
      const moved = await markRows(pool, args.batchId, args.from, args.to, args.rows, args.reason);
      // The cancel's rows that UPS could not be asked about: an outcome the ledger records here.
      if (args.to === 'needs_review' || args.to === 'failed')
        metrics.rowOutcome(args.batchId, args.to, moved);
      return moved;
    },
    settleRow: (args: { batchId: string; rowNo: number; reason: string }) => settleRow(pool, args, metrics),
    applyRowAction: (args: { batchId: string; action: PendingAction }) =>
      applyRowAction(pool, ups, args, metrics),
    voidShippedRows: (args: { batchId: string }) => keepAlive(() => voidShippedRows(pool, ups, args)),
    writeBack: (args: { batchId: string }) => keepAlive(() => writeBack(pool, args)),
    schedulePickup: (args: { batchId: string }) => keepAlive(() => schedulePickup(pool, ups, args)),
    cancelPickup: (args: { batchId: string }) => keepAlive(() => cancelPickup(pool, ups, args)),
  };
}
