/**
 * Pre-flight, step 2 (docs/design.md §3, step 2): every pending row rated with UPS Shop (every service; with
 * time in transit when the batch sets a limit, still one call), the cheapest service that arrives in time
 * written into the row's stored request, its quote kept as the row's estimate. A row no service can serve
 * within the limit becomes invalid.
 */
import type pg from 'pg';
import {
  cheapestService,
  type PreflightPage,
  type ServiceChoiceResult,
  type ServiceQuote,
} from '../../domain/preflight';
import type { RowError } from '../../domain/row-error';
import { SERVICE_CODES, serviceName, type ShipmentRequestBody } from '../../domain/shipment-schema';
import { storeServiceChoices, type SettledPreflightRow } from '../../db/ledger/preflight';
import type { UpsClient } from '../ups/client';
import type { RateQuote } from '../ups/normalize';
import { rateRequestFromShipmentRequest } from '../ups/rate-request';
import { UpsError, upsOutageOf } from '../ups/errors';
import { runPreflightPage } from './preflight-page';

export interface RateShopArgs {
  batchId: string;
  maxTransitDays?: number;
  concurrency: number;
}

/** Shop the next page of rows; the page's choices are stored before it returns. */
export function shopRatesPage(pool: pg.Pool, ups: UpsClient, args: RateShopArgs): Promise<PreflightPage> {
  return runPreflightPage(
    pool,
    { batchId: args.batchId, step: 'shop', concurrency: args.concurrency },
    async (row, signal) => {
      const request = row.request as ShipmentRequestBody;
      const templateCode = request.ShipmentRequest.Shipment.Service.Code;
      try {
        const quotes = await ups.rate(
          shopRequest(request, args.maxTransitDays !== undefined),
          args.maxTransitDays !== undefined ? 'Shoptimeintransit' : 'Shop',
          signal,
        );
        return chooseService(row.rowNo, request, quotes, args.maxTransitDays);
      } catch (err) {
        // UPS down: the row is shopped again later. Any other refusal or an answer that cannot be read is
        // the row's: it keeps its service.
        if (signal.aborted || (err instanceof UpsError && upsOutageOf(err))) throw err;
        return { rowNo: row.rowNo, outcome: { templateCode, error: (err as Error).message } };
      }
    },
    (settled) => storeServiceChoices(pool, args.batchId, settled),
  );
}

/** The Rating request of a row for Shop: time in transit needs what the package is (non-document). */
function shopRequest(
  request: ShipmentRequestBody,
  withTransit: boolean,
): { RateRequest: Record<string, unknown> } {
  const body = rateRequestFromShipmentRequest(request);
  if (withTransit) {
    const shipment = body.RateRequest.Shipment as Record<string, unknown>;
    shipment.DeliveryTimeInformation ??= { PackageBillType: '03' };
  }
  return body;
}

/**
 * The row's choice among UPS's quotes: the cheapest service shipbatch can ship (a code it knows) that
 * arrives within the limit; the request with that service, the quote as the estimate. None: the row is
 * invalid, with the fastest service UPS offered in the error.
 */
export function chooseService(
  rowNo: number,
  request: ShipmentRequestBody,
  rated: readonly RateQuote[],
  maxTransitDays: number | undefined,
): SettledPreflightRow<ServiceChoiceResult> {
  const templateCode = request.ShipmentRequest.Shipment.Service.Code;
  const quotes: ServiceQuote[] = rated
    .filter((q) => q.serviceCode in SERVICE_CODES)
    .map((q) => ({
      serviceCode: q.serviceCode,
      cents: q.totalCents,
      currency: q.currency,
      ...(q.businessDaysInTransit !== undefined ? { days: q.businessDaysInTransit } : {}),
    }));
  const template = quotes.find((q) => q.serviceCode === templateCode);
  const base = { templateCode, ...(template ? { templateCents: template.cents } : {}) };
  const best = cheapestService(quotes, maxTransitDays);
  if (!best) {
    const fastest = [...quotes]
      .filter((q) => q.days !== undefined)
      .sort((a, b) => a.days! - b.days! || a.cents - b.cents)[0];
    const error: RowError = {
      rowNo,
      path: 'Service.Code',
      rule: 'max_transit_days',
      value: maxTransitDays,
      message:
        maxTransitDays === undefined
          ? 'UPS quoted no service shipbatch can ship'
          : `no UPS service arrives within ${maxTransitDays} business days` +
            (fastest
              ? ` (fastest: ${serviceName(fastest.serviceCode)}, ${fastest.days} days)`
              : ' (UPS gave no transit times)'),
      code: 'E-3003',
    };
    return { rowNo, outcome: { ...base, error: error.message }, errors: [error] };
  }
  const out = structuredClone(request);
  const service = out.ShipmentRequest.Shipment.Service as Record<string, unknown>;
  const changed = best.serviceCode !== templateCode;
  if (changed) Object.assign(service, { Code: best.serviceCode, Description: serviceName(best.serviceCode) });
  const warnings = rated.find((q) => q.serviceCode === best.serviceCode)?.warnings.filter(Boolean) ?? [];
  return {
    rowNo,
    outcome: {
      ...base,
      code: best.serviceCode,
      cents: best.cents,
      currency: best.currency,
      ...(best.days !== undefined ? { days: best.days } : {}),
    },
    ...(changed ? { request: out } : {}),
    estimate: { cents: best.cents, currency: best.currency, warnings },
  };
}
