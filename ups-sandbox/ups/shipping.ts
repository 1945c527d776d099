/** The simulated UPS Shipping API behind create_shipment and void_shipment. */
import { randomInt } from 'node:crypto';
import { asList, isObj, text, type JsonObject } from '../json';
import { UPS_CODES, upsHttpError } from '../errors';
import { charge } from '../money';
import type { ShipmentRecord, StoredParty } from '../store';
import { makeUpsTrackingNumber } from '../tracking-number';
import { preflight, quoteOrFail, upsValidate } from './checks';
import { invalidRequest, SUCCESS, successResponse, toolArgs, type UpsContext } from './context';
import { labelFormat, labelImage, labelInputs } from './labels';

type Obj = JsonObject;

function party(value: unknown): StoredParty {
  const p = value as Obj;
  const a = (p.Address ?? {}) as Obj;
  return {
    Name: text(p.Name),
    AttentionName: p.AttentionName === undefined ? undefined : text(p.AttentionName),
    Phone: isObj(p.Phone) && p.Phone.Number ? { Number: text(p.Phone.Number) } : undefined,
    Address: {
      AddressLine: asList(a.AddressLine).map(String),
      City: text(a.City),
      StateProvinceCode: a.StateProvinceCode === undefined ? undefined : text(a.StateProvinceCode),
      PostalCode: a.PostalCode === undefined ? undefined : text(a.PostalCode),
      CountryCode: text(a.CountryCode),
    },
  };
}

function packageReferences(pkg: Obj): string[] {
  return asList(pkg.ReferenceNumber)
    .map((r) => (isObj(r) ? text(r.Value) : ''))
    .filter(Boolean);
}

/** A tracking number no stored shipment has (random 7-digit package ids; retried on a clash). */
function newTrackingNumber(
  ctx: UpsContext,
  shipperNumber: string,
  service: string,
  taken: Set<string>,
): string {
  for (;;) {
    const t = makeUpsTrackingNumber(shipperNumber.toUpperCase(), service, randomInt(10_000_000));
    if (!taken.has(t) && !ctx.store.hasTrackingNumber(t)) {
      taken.add(t);
      return t;
    }
  }
}

/**
 * create_shipment: validates like the real server and UPS, records the shipment durably, then
 * answers with the ShipmentResponse. `afterRecord` runs between the two (the hang-after-create fault).
 * With `slowMs` (UPS taking its time) the shipment is recorded now and lands that much later: it
 * exists from then on whatever becomes of this call.
 */
export async function createShipment(
  ctx: UpsContext,
  args: Obj,
  afterRecord: () => Promise<void> = () => Promise.resolve(),
  slowMs?: number,
): Promise<Obj> {
  args = toolArgs('create_shipment', args);
  const body = await preflight(ctx, args.request_body, 'ShipmentRequest', { label: 'shipment creation' });
  // From here on this is UPS answering.
  const request = body.ShipmentRequest as Obj;
  const shipment = request.Shipment as Obj;
  const req = request.Request as Obj;
  const context = req.TransactionReference;
  const customerContext =
    isObj(context) && context.CustomerContext ? text(context.CustomerContext) : undefined;
  if (customerContext !== undefined && customerContext.length > 512) {
    throw invalidRequest('Invalid CustomerContext: longer than 512 characters');
  }
  const knobs = ctx.knobs();
  const service = text((shipment.Service as Obj).Code);
  upsValidate(shipment, knobs, { service });

  const quote = quoteOrFail(shipment, service);
  const shipper = {
    ...party(shipment.Shipper),
    ShipperNumber: text((shipment.Shipper as Obj).ShipperNumber),
  };
  const taken = new Set<string>();
  const packages = asList(shipment.Package).map((raw) => {
    const pkg = raw as Obj;
    const w = pkg.PackageWeight as Obj;
    return {
      trackingNumber: newTrackingNumber(ctx, shipper.ShipperNumber, service, taken),
      weight: text(w.Weight),
      weightUnit:
        text((w.UnitOfMeasurement as Obj).Code).toUpperCase() === 'KGS' ? ('KGS' as const) : ('LBS' as const),
      references: packageReferences(pkg),
    };
  });
  const now = ctx.now?.() ?? new Date();
  const rec: ShipmentRecord = {
    shipmentId: packages[0]!.trackingNumber,
    shipperNumber: shipper.ShipperNumber.toUpperCase(),
    serviceCode: service,
    customerContext,
    references: [...new Set(packages.flatMap((p) => p.references))],
    shipper,
    shipTo: party(shipment.ShipTo),
    packages,
    labelFormat: labelFormat(request.LabelSpecification),
    currency: 'USD',
    publishedCents: quote.publishedCents,
    negotiatedCents: quote.negotiatedCents,
    billingWeightLbs: quote.billableWeightLbs,
    createdAt: new Date(now.getTime() + (slowMs ?? 0)).toISOString(),
    ...(slowMs !== undefined ? { slowMs } : {}),
  };
  ctx.store.add(rec);
  await afterRecord();

  const inputs = labelInputs(rec);
  return {
    ShipmentResponse: {
      Response: successResponse(context),
      ShipmentResults: {
        ShipmentCharges: {
          TransportationCharges: charge(quote.publishedCents, rec.currency),
          ServiceOptionsCharges: charge(0, rec.currency),
          TotalCharges: charge(quote.publishedCents, rec.currency),
        },
        ...(knobs.negotiatedRates
          ? { NegotiatedRateCharges: { TotalCharge: charge(quote.negotiatedCents, rec.currency) } }
          : {}),
        BillingWeight: {
          UnitOfMeasurement: { Code: 'LBS', Description: 'Pounds' },
          Weight: quote.billableWeightLbs.toFixed(1),
        },
        ShipmentIdentificationNumber: rec.shipmentId,
        PackageResults: inputs.map((input) => ({
          TrackingNumber: input.trackingNumber,
          ServiceOptionsCharges: charge(0, rec.currency),
          ShippingLabel: {
            ImageFormat: { Code: rec.labelFormat, Description: rec.labelFormat },
            ...labelImage(input, rec.labelFormat),
          },
        })),
      },
    },
  };
}

/** void_shipment: within the void window; a second void answers "already voided". */
export function voidShipment(ctx: UpsContext, args: Obj): Obj {
  args = toolArgs('void_shipment', args);
  const id = text(args.shipmentidentificationnumber).trim();
  if (!id) throw invalidRequest('Missing or invalid shipment identification number');
  const rec = ctx.store.findById(id) ?? ctx.store.findByTracking(id);
  if (!rec)
    throw upsHttpError(
      400,
      UPS_CODES.voidNotFound,
      'No shipment found for the shipment identification number',
    );
  const wanted = asList(args.trackingnumber).map(String);
  const unknown = wanted.filter((t) => !rec.packages.some((p) => p.trackingNumber === t));
  if (unknown.length > 0) {
    throw upsHttpError(
      400,
      UPS_CODES.voidNotFound,
      `Tracking number ${unknown[0]} is not part of shipment ${id}`,
    );
  }
  const targets = rec.packages.filter((p) => wanted.length === 0 || wanted.includes(p.trackingNumber));
  if (targets.every((p) => p.voidedAt)) {
    throw upsHttpError(400, UPS_CODES.alreadyVoided, 'The shipment has already been voided');
  }
  const now = ctx.now?.() ?? new Date();
  const ageHours = (now.getTime() - Date.parse(rec.createdAt)) / 3_600_000;
  if (ageHours > ctx.knobs().voidWindowHours) {
    throw upsHttpError(400, UPS_CODES.voidWindowExpired, 'No shipment found within the allowed void period');
  }
  ctx.store.markVoided(rec.shipmentId, now.toISOString(), wanted.length > 0 ? wanted : undefined);
  const voided = { Code: '1', Description: 'Voided' };
  return {
    VoidShipmentResponse: {
      Response: SUCCESS,
      SummaryResult: { Status: voided },
      PackageLevelResult: targets.map((p) => ({ TrackingNumber: p.trackingNumber, Status: voided })),
    },
  };
}
