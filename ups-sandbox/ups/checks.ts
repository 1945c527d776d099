/**
 * The checks before an answer: the real server's own (canonical form, defaults, missing fields asked
 * for by elicitation) and then UPS's (shipper number, postal code, service on the lane, weights).
 */
import { asList, text, type JsonObject } from '../json';
import { elicitMissing } from '../elicitation';
import { ToolFailure, UPS_CODES, upsHttpError } from '../errors';
import type { Knobs } from '../knobs';
import {
  AmbiguousPayer,
  ambiguousPayer,
  malformed,
  missingFields,
  type MissingField,
  type RequestRoot,
} from '../preflight';
import { canonicalize, withDefaults } from '../preflight/canonical';
import { StructuralConflict } from '../preflight/dot-path';
import { quoteService, shoppableServices, type RatableShipment } from '../rates';
import { serviceUnavailable, type UpsContext } from './context';

type Obj = JsonObject;

/**
 * The real server's own checks before it calls UPS: canonical form and defaults (a structural
 * conflict is MALFORMED_REQUEST), then the missing required fields, asked for by form elicitation
 * when the client supports it. Returns the completed, canonical body that "goes to UPS".
 */
export async function preflight(
  ctx: UpsContext,
  body: unknown,
  root: RequestRoot,
  opts: { requestOption?: string; label: string },
): Promise<Obj> {
  let merged: Obj;
  try {
    merged = withDefaults(canonicalize(body, root), root, ctx.accountNumber);
  } catch (err) {
    if (err instanceof StructuralConflict) throw malformed(err);
    throw err;
  }
  let missing: MissingField[];
  try {
    missing = missingFields(merged, root, opts);
  } catch (err) {
    if (err instanceof AmbiguousPayer) throw ambiguousPayer(err);
    throw err;
  }
  if (missing.length === 0) return merged;
  const completed = await elicitMissing(ctx.elicit, merged, missing, {
    label: opts.label,
    recheck: (b) => {
      try {
        return missingFields(b, root, opts);
      } catch (err) {
        // Past the first check the real server no longer maps these; they surface as plain text.
        if (err instanceof AmbiguousPayer) throw new ToolFailure(err.message);
        throw err;
      }
    },
    canonicalize: (b) => canonicalize(b, root),
  });
  return canonicalize(completed, root);
}

/** Postal-code, weight and service checks UPS itself makes (after the server's preflight). */
export function upsValidate(shipment: Obj, knobs: Knobs, opts: { service?: string }): void {
  const shipper = shipment.Shipper as Obj;
  const shipperNumber = text(shipper.ShipperNumber);
  if (!/^[A-Za-z0-9]{6}$/.test(shipperNumber)) {
    throw upsHttpError(400, UPS_CODES.invalidShipperNumber, 'Missing or invalid shipper number');
  }
  const to = (shipment.ShipTo as Obj).Address as Obj;
  const country = text(to.CountryCode).toUpperCase();
  const zip = text(to.PostalCode);
  if ((country === 'US' || country === 'PR') && !/^\d{5}(-?\d{4})?$/.test(zip)) {
    throw upsHttpError(400, UPS_CODES.invalidShipToPostalCode, 'Invalid ShipTo postal code');
  }
  if (knobs.rejectPostalCodes.includes(zip.slice(0, 5))) {
    throw upsHttpError(400, UPS_CODES.addressValidationFailed, 'Address Validation Error on ShipTo address');
  }
  const service = opts.service;
  if (service !== undefined) {
    const available = shoppableServices(shipment as unknown as RatableShipment);
    if (!available.includes(service)) {
      throw serviceUnavailable();
    }
  }
  for (const pkg of asList(shipment.Package)) {
    const w = (pkg as Obj).PackageWeight as Obj | undefined;
    const weight = Number(w?.Weight);
    const unit = text((w?.UnitOfMeasurement as Obj | undefined)?.Code ?? 'LBS');
    if (!Number.isFinite(weight) || weight <= 0) {
      throw upsHttpError(400, UPS_CODES.invalidWeight, 'Invalid or missing package weight');
    }
    if (weight > (unit === 'KGS' ? 68 : 150)) {
      throw upsHttpError(
        400,
        UPS_CODES.weightExceedsLimit,
        `Package weight exceeds the maximum of ${unit === 'KGS' ? '68 KGS' : '150 LBS'}`,
      );
    }
  }
}

/** The rating engine's quote, its refusals turned into the UPS errors they stand for. */
export function quoteOrFail(shipment: Obj, service: string) {
  try {
    return quoteService(shipment as unknown as RatableShipment, service);
  } catch (err) {
    const message = (err as Error).message;
    if (message.startsWith('Invalid service code')) {
      throw serviceUnavailable();
    }
    if (message.includes('weight')) throw upsHttpError(400, UPS_CODES.invalidWeight, message);
    throw upsHttpError(400, UPS_CODES.invalidShipToPostalCode, message);
  }
}
