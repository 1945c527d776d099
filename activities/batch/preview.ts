/**
 * Step 2 of a batch: rate the first `previewRows` valid rows (or all with `rateAll`) with bounded
 * concurrency, page by page and resumable, and estimate the total. The full preview (recipients, cities) is stored in the
 * ledger; the workflow gets the same shape with the row data left out, so none of it enters history.
 */
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { BatchOptions, BatchPreview, PreviewRow } from '../../domain/batch';
import { canonicalJson } from '../../domain/json';
import { serviceName, type ShipmentRequestBody } from '../../domain/shipment-schema';
import type { UpsClient } from '../ups/client';
import { UpsError, upsOutageOf, type UpsOutageSign } from '../ups/errors';
import { keepAlive } from './heartbeat';
import { getBatch, storePreview } from '../../db/ledger/batches';
import {
  estimateSummary,
  previewDetailRows,
  rowChecksums,
  storeEstimates,
  unratedRows,
  type RowEstimate,
} from '../../db/ledger/estimates';
import { ledgerTotals } from '../../db/ledger/totals';
import { addressCheckSummary, rateShoppingSummary } from '../../db/ledger/preflight';
import { preflightColumns, preflightWarnings } from './preflight-preview';
import { isShopping, maxTransitDaysOf } from '../../domain/preflight';
import { quotePickup } from './pickup';
import { mapBounded } from '../map-bounded';

/** Cut `name` to at most `max` characters at a word boundary (a single long word is cut hard). */
export function shortRecipient(name: string, max = 20): string {
  const clean = name.replace(/\s+/g, ' ').trim();
  if (clean.length <= max) return clean;
  const cut = clean.slice(0, max + 1);
  const space = cut.lastIndexOf(' ');
  return (space > 0 ? cut.slice(0, space) : clean.slice(0, max)).trim();
}

/** previewHash: sha256 over the `row_no:checksum` list, the template and the shipper. */
export function previewHash(checksums: readonly string[], template: string, shipper: unknown): string {
  return createHash('sha256')
    .update(checksums.join('\n'))
    .update('\u0000')
    .update(template)
    .update('\u0000')
    .update(canonicalJson(shipper))
    .digest('hex');
}

/**
 * The batch's estimate: the quoted rows' sum plus their average for every valid row not quoted
 * (exact when every valid row was quoted). Integer cents; the average part is rounded once.
 */
export function estimateTotal(quotedCents: readonly number[], validRows: number): number {
  return estimateFromSum(
    quotedCents.reduce((a, b) => a + b, 0),
    quotedCents.length,
    validRows,
  );
}

/** {@link estimateTotal} from the quoted rows' sum and count. */
export function estimateFromSum(sum: number, quoted: number, validRows: number): number {
  const remaining = Math.max(0, validRows - quoted);
  if (quoted === 0 || remaining === 0) return sum;
  return sum + Math.round((sum * remaining) / quoted);
}

/** What previewBatch answers when UPS did not answer at all: the workflow waits and previews again. */
const EMPTY_PREVIEW: BatchPreview = {
  totalRows: 0,
  validRows: 0,
  invalidRows: 0,
  previewRows: [],
  additionalRows: 0,
  totalEstimatedCostCents: 0,
  currency: 'USD',
  rowsWithWarnings: 0,
  previewHash: '',
};

/** Rows rated per page: one ledger read, one write and one heartbeat each. */
export const RATE_PAGE_ROWS = 500;

/** Where an interrupted preview left off (heartbeat details). */
interface RatingProgress {
  ratedThroughRow: number;
  rated: number;
}

/**
 * Rate the first `previewRows` valid rows (all with `rateAll`) page by page, each page's quotes stored in
 * the ledger before the next: a retried attempt (a worker died, the start-to-close timeout hit a huge
 * `rateAll`) resumes after the last stored page instead of starting over. Then the estimate and the
 * preview come from the stored quotes.
 */
export async function previewBatch(
  pool: pg.Pool,
  ups: UpsClient,
  args: { batchId: string; previewRows: number; rateAll: boolean; concurrency: number },
): Promise<BatchPreview> {
  const batch = await getBatch(pool, args.batchId);
  if (!batch) throw new Error(`batch ${args.batchId} is not in the ledger`);
  const totals = await ledgerTotals(pool, args.batchId);
  const total = totals.counts.total;
  const invalid = totals.counts.invalid;
  const valid = total - invalid;
  const within = args.rateAll ? valid : Math.min(args.previewRows, valid);
  const ctx = Context.current();
  // Each concurrent rating call listens on the activity's one cancellation signal.
  setMaxListeners(Math.max(10, args.concurrency + 4), ctx.cancellationSignal);
  const resumed = ctx.info.heartbeatDetails as RatingProgress | undefined;
  const progress: RatingProgress = {
    ratedThroughRow: resumed?.ratedThroughRow ?? 0,
    rated: resumed?.rated ?? 0,
  };
  const outages: UpsOutageSign[] = [];
  let upsDown: UpsOutageSign | undefined;
  const anyRated = async () => (await estimateSummary(pool, args.batchId)).rated > 0;
  // A page may take longer than the heartbeat timeout: beat on a timer, always with the progress so far.
  await keepAlive(ratePages, () => progress);
  async function ratePages(): Promise<void> {
    for (;;) {
      const page = await unratedRows(pool, args.batchId, progress.ratedThroughRow, within, RATE_PAGE_ROWS);
      if (page.length === 0) break;
      const estimates = await mapBounded(
        page,
        Math.min(args.concurrency, 16),
        async (r): Promise<RowEstimate> => {
          try {
            const quote = await ups.rateShipmentRequest(
              r.request as ShipmentRequestBody,
              ctx.cancellationSignal,
            );
            return {
              rowNo: r.rowNo,
              cents: quote.totalCents,
              currency: quote.currency,
              warnings: quote.warnings.filter(Boolean),
            };
          } catch (err) {
            if (ctx.cancellationSignal.aborted) throw err;
            const outage = err instanceof UpsError ? upsOutageOf(err) : undefined;
            if (outage) {
              outages.push(outage);
              ctx.log.warn('UPS call failed', { error: err, rowNo: r.rowNo });
            }
            // A rating error is a warning on its row, never a failed preview.
            return {
              rowNo: r.rowNo,
              cents: null,
              currency: null,
              warnings: [`not rated: ${outage?.reason ?? (err as Error).message}`],
            };
          }
        },
      );
      if (
        estimates.every((e) => e.cents === null) &&
        outages.length === estimates.length &&
        !(await anyRated())
      ) {
        // Not one row rated, and only because UPS did not answer: nothing is stored (a later preview rates
        // these rows again), and the batch waits for UPS instead of showing a $0.00 estimate.
        upsDown = outages[0];
        return;
      }
      outages.length = 0;
      await storeEstimates(pool, args.batchId, estimates);
      progress.ratedThroughRow = page[page.length - 1]!.rowNo;
      progress.rated += page.length;
      ctx.heartbeat(progress);
    }
  }
  if (upsDown) return { ...EMPTY_PREVIEW, totalRows: total, validRows: valid, invalidRows: invalid, upsDown };
  const summary = await estimateSummary(pool, args.batchId);
  const detailed: PreviewRow[] = (await previewDetailRows(pool, args.batchId, args.previewRows)).map((r) => {
    const shipment = (r.request as ShipmentRequestBody).ShipmentRequest.Shipment;
    const to = shipment.ShipTo;
    return {
      rowNo: r.rowNo,
      recipient: shortRecipient(to.Name),
      cityState: [to.Address.City, to.Address.StateProvinceCode].filter(Boolean).join(', '),
      service: serviceName(shipment.Service.Code),
      estimatedCostCents: r.estimate?.cents ?? 0,
      warnings: [...(r.estimate?.warnings ?? []), ...preflightWarnings(r.addressCheck, r.serviceChoice)],
      ...preflightColumns(r.addressCheck, r.serviceChoice),
    };
  });
  const options = batch.input.options as Partial<BatchOptions>;
  const addressCheck = options.addressCheck ?? 'off';
  const shopping = options.service !== undefined && isShopping(options.service);
  const preview: BatchPreview = {
    totalRows: total,
    validRows: valid,
    invalidRows: invalid,
    previewRows: detailed,
    additionalRows: Math.max(0, valid - detailed.length),
    totalEstimatedCostCents: estimateFromSum(summary.sumCents, summary.quoted, valid),
    currency: summary.currency ?? 'USD',
    rowsWithWarnings: summary.withWarnings,
    unratedRows: summary.rated - summary.quoted,
    ...(addressCheck !== 'off'
      ? { addressCheck: await addressCheckSummary(pool, args.batchId, addressCheck) }
      : {}),
    ...(shopping
      ? {
          rateShopping: await rateShoppingSummary(pool, args.batchId, maxTransitDaysOf(options.service!)),
        }
      : {}),
    ...(options.pickup
      ? {
          pickup: await quotePickup(
            pool,
            ups,
            args.batchId,
            batch.input.shipper,
            options.pickup,
            ctx.cancellationSignal,
          ),
        }
      : {}),
    previewHash: previewHash(
      await rowChecksums(pool, args.batchId),
      batch.input.template,
      batch.input.shipper,
    ),
  };
  await storePreview(pool, args.batchId, preview);
  return withoutRowData(preview);
}

/** The preview as the workflow may hold it: recipients, cities and UPS's candidate addresses stay in the ledger. */
export function withoutRowData(preview: BatchPreview): BatchPreview {
  return {
    ...preview,
    previewRows: preview.previewRows.map((r) => ({
      ...r,
      recipient: '',
      cityState: '',
      ...(r.address ? { address: { ...r.address, candidate: undefined } } : {}),
    })),
  };
}
