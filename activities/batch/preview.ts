/**
 * Step 2 of a batch (DESIGN §3): rate the first `previewRows` valid rows (or all with `rateAll`) with
 * bounded concurrency and estimate the total. The full preview (recipients, cities) is stored in the
 * ledger; the workflow gets the same shape with the row data left out, so none of it enters history.
 */
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { BatchPreview, PreviewRow } from '../../domain/batch';
import { canonicalJson } from '../../domain/json';
import { serviceName, type ShipmentRequestBody } from '../../domain/shipment-schema';
import type { UpsClient } from '../ups/client';
import { getBatch, ledgerTotals, rowChecksums, storePreview, validRows } from './ledger';

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
  const sum = quotedCents.reduce((a, b) => a + b, 0);
  const remaining = Math.max(0, validRows - quotedCents.length);
  if (quotedCents.length === 0 || remaining === 0) return sum;
  return sum + Math.round((sum * remaining) / quotedCents.length);
}

/** Run `fn` over `items` with at most `limit` at a time, results in input order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

interface Quoted {
  row: PreviewRow;
  quoted: boolean;
  currency?: string;
}

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
  const toRate = await validRows(pool, args.batchId, args.rateAll ? null : args.previewRows);
  const ctx = Context.current();
  // Each concurrent rating call listens on the activity's one cancellation signal.
  setMaxListeners(Math.max(10, args.concurrency + 4), ctx.cancellationSignal);
  let done = 0;
  const quoted = await mapBounded(toRate, Math.min(args.concurrency, 16), async (r): Promise<Quoted> => {
    const request = r.request as ShipmentRequestBody;
    const shipment = request.ShipmentRequest.Shipment;
    const to = shipment.ShipTo;
    const row: PreviewRow = {
      rowNo: r.rowNo,
      recipient: shortRecipient(to.Name),
      cityState: [to.Address.City, to.Address.StateProvinceCode].filter(Boolean).join(', '),
      service: serviceName(shipment.Service.Code),
      estimatedCostCents: 0,
      warnings: [],
    };
    try {
      const quote = await ups.rateShipmentRequest(request, ctx.cancellationSignal);
      row.estimatedCostCents = quote.totalCents;
      row.warnings.push(...quote.warnings.filter(Boolean));
      return { row, quoted: true, currency: quote.currency };
    } catch (err) {
      // A rating error is a warning on its row, never a failed preview.
      row.warnings.push(`not rated: ${(err as Error).message}`);
      return { row, quoted: false };
    } finally {
      if (++done % 50 === 0) ctx.heartbeat({ rated: done });
    }
  });
  const ok = quoted.filter((q) => q.quoted);
  const detailed = quoted.slice(0, args.previewRows).map((q) => q.row);
  const preview: BatchPreview = {
    totalRows: total,
    validRows: valid,
    invalidRows: invalid,
    previewRows: detailed,
    additionalRows: Math.max(0, valid - detailed.length),
    totalEstimatedCostCents: estimateTotal(
      ok.map((q) => q.row.estimatedCostCents),
      valid,
    ),
    currency: ok.find((q) => q.currency)?.currency ?? 'USD',
    rowsWithWarnings: quoted.filter((q) => q.row.warnings.length > 0).length,
    previewHash: previewHash(
      await rowChecksums(pool, args.batchId),
      batch.input.template,
      batch.input.shipper,
    ),
  };
  await storePreview(pool, args.batchId, preview);
  return withoutRowData(preview);
}

/** The preview as the workflow may hold it: recipients and cities stay in the ledger. */
export function withoutRowData(preview: BatchPreview): BatchPreview {
  return {
    ...preview,
    previewRows: preview.previewRows.map((r) => ({ ...r, recipient: '', cityState: '' })),
  };
}
