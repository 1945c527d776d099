/**
 * `probeUps`: is UPS answering again? One cheap call that reaches UPS and changes nothing: a rate quote for
 * the batch's first valid row. Any answer from UPS — a quote, or a refusal about the row itself — means UPS
 * is back; only a failure about UPS (credentials refused, unreachable, unavailable, rate limiting) means
 * the batch keeps waiting.
 */
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { ShipmentRequestBody } from '../../domain/shipment-schema';
import { firstRequest } from '../../db/ledger/rows';
import type { UpsClient } from '../ups/client';
import { UpsError, upsOutageOf, type UpsOutageSign } from '../ups/errors';

export type ProbeResult = { ok: true } | ({ ok: false } & UpsOutageSign);

export async function probeUps(
  pool: pg.Pool,
  ups: UpsClient,
  args: { batchId: string },
): Promise<ProbeResult> {
  const request = (await firstRequest(pool, args.batchId)) as ShipmentRequestBody | undefined;
  if (!request) return { ok: true }; // nothing to ship: nothing to wait for
  try {
    await ups.rateShipmentRequest(request, Context.current().cancellationSignal);
    return { ok: true };
  } catch (err) {
    const outage = err instanceof UpsError ? upsOutageOf(err) : undefined;
    if (!outage) return { ok: true };
    Context.current().log.warn('UPS call failed', { error: err });
    return { ok: false, kind: outage.kind, reason: outage.reason };
  }
}
