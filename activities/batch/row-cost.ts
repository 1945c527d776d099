/**
 * The cost of a shipment UPS did not price for us: one found again by its reference (label recovery
 * returns no charges) or recorded by an operator. A rate quote for the row's stored request, else the
 * preview's quote of the row, else unknown. Either way it is an estimate, and stored as one.
 */
import type pg from 'pg';
import type { ShipmentRequestBody } from '../../domain/shipment-schema';
import { requestAndEstimate } from '../../db/ledger/estimates';
import type { UpsClient } from '../ups/client';

export interface EstimatedCost {
  cents: number;
  currency: string;
}

export async function estimateRowCost(
  pool: pg.Pool,
  ups: UpsClient,
  batchId: string,
  rowNo: number,
  signal?: AbortSignal,
): Promise<EstimatedCost | undefined> {
  const row = await requestAndEstimate(pool, batchId, rowNo);
  if (!row?.request) return undefined;
  try {
    const quote = await ups.rateShipmentRequest(row.request as ShipmentRequestBody, signal);
    return { cents: quote.totalCents, currency: quote.currency };
  } catch {
    if (row.cents === null) return undefined; // the row is shipped either way; its cost stays unknown
    return { cents: row.cents, currency: row.currency ?? 'USD' };
  }
}
