/**
 * The simulated UPS APIs behind the sandbox's tools: Rating, Shipping (ship, void, label recovery),
 * Address Validation and Tracking. Each function takes the tool's arguments and returns the UPS REST
 * response body, or throws a {@link ToolFailure} shaped as the real server reports it.
 */
import { asList, isObj, isPresent, text, type JsonObject } from './json';
import { randomInt } from 'node:crypto';
import { makeUpsTrackingNumber } from './tracking-number';
import { serviceName } from './services';
import { ToolFailure, UPS_CODES, upsHttpError } from './errors';
import {
  AmbiguousPayer,
  ambiguousPayer,
  malformed,
  missingFields,
  type MissingField,
  type RequestRoot,
} from './preflight';
import { canonicalize, withDefaults } from './preflight/canonical';
import { StructuralConflict } from './preflight/dot-path';
import { elicitMissing, type FormElicitor } from './elicitation';
import { parseArguments } from './tools';
import { charge } from './money';
import { quoteService, ratedShipment, shoppableServices, type RatableShipment } from './rates';
import { renderLabelGif, renderLabelZpl, type LabelInput } from './label';
import type { Knobs } from './knobs';
import type { ShipmentRecord, ShipmentStore, StoredParty } from './store';

type Obj = JsonObject;
const SUCCESS = { ResponseStatus: { Code: '1', Description: 'Success' } };

export interface UpsContext {
  store: ShipmentStore;
  knobs: () => Knobs;
  /** UPS_ACCOUNT_NUMBER of the server's environment, if any. */
  accountNumber?: string;
  now?: () => Date;
  /** Form elicitation of the current call's client, when it declared the capability. */
  elicit?: FormElicitor;
}

/** UPS's Response block of a success, echoing the request's TransactionReference. */
function successResponse(context: unknown): Obj {
  return { ...SUCCESS, ...(isObj(context) ? { TransactionReference: context } : {}) };
}

/** UPS 111210: the service is not offered on this lane (or not known at all). */
function serviceUnavailable(): ToolFailure {
  return upsHttpError(
    400,
    UPS_CODES.serviceUnavailable,
    'The requested service is unavailable between the selected locations.',
  );
}

/**
 * The real server's own checks before it calls UPS: canonical form and defaults (a structural
 * conflict is MALFORMED_REQUEST), then the missing required fields, asked for by form elicitation
 * when the client supports it. Returns the completed, canonical body that "goes to UPS".
 */
async function preflight(
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

/** The arguments as the real tool function receives them (see tools.ts), or its pydantic error. */
function toolArgs(tool: string, raw: Obj): Obj {
  const parsed = parseArguments(tool, raw);
  if (!parsed.ok) throw new ToolFailure(parsed.error);
  return parsed.args;
}

/** UPS's answer to a request that is not valid against its schema (missing or malformed element). */
function invalidRequest(message: string): ToolFailure {
  return upsHttpError(400, UPS_CODES.invalidRequest, message);
}

const REQUEST_OPTIONS: Record<string, string> = {
  rate: 'Rate',
  shop: 'Shop',
  ratetimeintransit: 'Ratetimeintransit',
  shoptimeintransit: 'Shoptimeintransit',
};

/** Postal-code, weight and service checks UPS itself makes (after the server's preflight). */
function upsValidate(shipment: Obj, knobs: Knobs, opts: { service?: string }): void {
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
function quoteOrFail(shipment: Obj, service: string) {
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

/** rate_shipment: one RatedShipment (Rate) or one per available service (Shop). */
export async function rateShipment(ctx: UpsContext, args: Obj): Promise<Obj> {
  args = toolArgs('rate_shipment', args);
  const requestOption = text(args.requestoption);
  // As the real server: the missing-field preflight runs before the option is checked.
  const body = await preflight(ctx, args.request_body, 'RateRequest', {
    requestOption,
    label: 'rate request',
  });
  const option = REQUEST_OPTIONS[requestOption.toLowerCase()];
  if (!option) {
    throw new ToolFailure(
      `Invalid requestoption '${requestOption}'. Allowed values: Rate, Ratetimeintransit, Shop, Shoptimeintransit`,
    );
  }
  // From here on this is UPS answering.
  const request = body.RateRequest as Obj;
  const shipment = request.Shipment as Obj;
  const shop = option.startsWith('Shop');
  const knobs = ctx.knobs();
  const service = shop ? undefined : text((shipment.Service as Obj).Code);
  upsValidate(shipment, knobs, { service });
  const ratable = shipment as unknown as RatableShipment;
  const codes = service ? [service] : shoppableServices(ratable);
  const timeInTransit = option.endsWith('timeintransit');
  const rated = codes.map((code) =>
    ratedShipment(quoteOrFail(shipment, code), { negotiated: knobs.negotiatedRates, timeInTransit }),
  );
  const context = (request.Request as Obj | undefined)?.TransactionReference;
  return {
    RateResponse: {
      Response: successResponse(context),
      RatedShipment: rated,
    },
  };
}

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

function labelFormat(spec: unknown): 'GIF' | 'ZPL' {
  const code = isObj(spec) && isObj(spec.LabelImageFormat) ? spec.LabelImageFormat.Code : undefined;
  return text(code, 'GIF').toUpperCase() === 'ZPL' ? 'ZPL' : 'GIF';
}

function labelInputs(rec: ShipmentRecord): LabelInput[] {
  return rec.packages.map((p, i) => ({
    trackingNumber: p.trackingNumber,
    serviceCode: rec.serviceCode,
    serviceName: serviceName(rec.serviceCode),
    shipper: rec.shipper,
    shipTo: rec.shipTo,
    weight: p.weight,
    weightUnit: p.weightUnit,
    packageIndex: i + 1,
    packageCount: rec.packages.length,
    reference: p.references[0] ?? rec.customerContext,
    shipDate: rec.createdAt.slice(0, 10),
  }));
}

/** The label of one package as UPS returns it: base64 GIF, or base64 of the ZPL text. */
function labelImage(input: LabelInput, format: 'GIF' | 'ZPL'): { GraphicImage: string; HTMLImage?: string } {
  if (format === 'ZPL') return { GraphicImage: Buffer.from(renderLabelZpl(input)).toString('base64') };
  const gif = renderLabelGif(input).toString('base64');
  const html = `<html><body><img src="label${input.trackingNumber}.gif"></body></html>`;
  return { GraphicImage: gif, HTMLImage: Buffer.from(html).toString('base64') };
}

/**
 * create_shipment: validates like the real server and UPS, records the shipment durably, then
 * answers with the ShipmentResponse. `afterRecord` runs between the two (the hang-after-create fault).
 */
export async function createShipment(
  ctx: UpsContext,
  args: Obj,
  afterRecord: () => Promise<void> = () => Promise.resolve(),
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
    createdAt: now.toISOString(),
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

/**
 * recover_label: by TrackingNumber, or by ReferenceValues {ReferenceNumber.Value, ShipperNumber}.
 * With the knob `recoverVisibleAfterMs` (UPS lagging), a shipment younger than that is not found yet.
 */
export function recoverLabel(ctx: UpsContext, args: Obj): Obj {
  args = toolArgs('recover_label', args);
  const lagMs = ctx.knobs().recoverVisibleAfterMs;
  const nowMs = (ctx.now?.() ?? new Date()).getTime();
  const visible = (rec: ShipmentRecord) => lagMs <= 0 || nowMs - Date.parse(rec.createdAt) >= lagMs;
  // The real server sends any request_body object to UPS as it is; UPS does the checking.
  const body = isObj(args.request_body) ? args.request_body : {};
  if (!isObj(body.LabelRecoveryRequest)) throw invalidRequest('Missing or invalid LabelRecoveryRequest');
  const request = body.LabelRecoveryRequest;
  const format = labelFormat(request.LabelSpecification);
  let results: { rec: ShipmentRecord; input: LabelInput }[];
  if (request.TrackingNumber) {
    const tracking = text(request.TrackingNumber);
    const rec = ctx.store.findByTracking(tracking);
    results =
      rec && visible(rec)
        ? labelInputs(rec)
            .filter((i) => i.trackingNumber === tracking)
            .map((input) => ({ rec, input }))
        : [];
  } else if (isObj(request.ReferenceValues)) {
    const values = request.ReferenceValues;
    const ref = isObj(values.ReferenceNumber) ? text(values.ReferenceNumber.Value) : '';
    const shipperNumber = text(values.ShipperNumber);
    if (!ref || !shipperNumber) {
      throw invalidRequest('ReferenceValues needs both ReferenceNumber.Value and ShipperNumber');
    }
    // One shipment, as UPS answers: the oldest live one with that reference, else the oldest voided
    // (of those label recovery already shows).
    const found = ctx.store.findByReference(ref, shipperNumber.toUpperCase()).filter(visible);
    const rec = found.find((r) => !r.voidedAt) ?? found[0];
    results = rec ? labelInputs(rec).map((input) => ({ rec, input })) : [];
  } else {
    throw invalidRequest('LabelRecoveryRequest needs TrackingNumber or ReferenceValues');
  }
  if (results.length === 0)
    throw upsHttpError(400, UPS_CODES.labelNotFound, 'No label found for the request');
  return {
    LabelRecoveryResponse: {
      Response: SUCCESS,
      ShipmentIdentificationNumber: results[0]!.rec.shipmentId,
      LabelResults: results.map(({ input }) => {
        const { GraphicImage, HTMLImage } = labelImage(input, format);
        return {
          TrackingNumber: input.trackingNumber,
          LabelImage: {
            LabelImageFormat: { Code: format },
            GraphicImage,
            ...(HTMLImage ? { HTMLImage } : {}),
          },
        };
      }),
    },
  };
}

/** validate_address: XAV with one candidate, or no candidates for rejected postal codes. */
export function validateAddress(ctx: UpsContext, args: Obj): Obj {
  args = toolArgs('validate_address', args);
  const zip = text(args.zipPrimary).trim();
  const country = text(args.countryCode).toUpperCase();
  const known = country !== 'US' || /^\d{5}$/.test(zip);
  if (!known || ctx.knobs().rejectPostalCodes.includes(zip)) {
    return { XAVResponse: { Response: SUCCESS, NoCandidatesIndicator: '' } };
  }
  const lines = [args.addressLine1, args.addressLine2]
    .filter((l) => isPresent(l))
    .map((l) => text(l).toUpperCase());
  // Business-looking addresses are commercial, the rest residential (stable per address).
  const commercial = /\b(SUITE|STE|BLVD|PKWY|PLAZA|DOCK|INC|LLC|FLOOR)\b/.test(lines.join(' '));
  const classification = commercial
    ? { Code: '1', Description: 'Commercial' }
    : { Code: '2', Description: 'Residential' };
  const extended = isPresent(args.zipExtended) ? text(args.zipExtended) : text(1000 + (Number(zip) % 9000));
  return {
    XAVResponse: {
      Response: SUCCESS,
      ValidAddressIndicator: '',
      AddressClassification: classification,
      Candidate: [
        {
          AddressClassification: classification,
          AddressKeyFormat: {
            AddressLine: lines,
            PoliticalDivision2: text(args.politicalDivision2).toUpperCase(),
            PoliticalDivision1: text(args.politicalDivision1).toUpperCase(),
            PostcodePrimaryLow: zip,
            PostcodeExtendedLow: extended,
            Region: `${text(args.politicalDivision2).toUpperCase()} ${text(args.politicalDivision1).toUpperCase()} ${zip}-${extended}`,
            CountryCode: country,
          },
        },
      ],
    },
  };
}

const ymd = (iso: string) => iso.slice(0, 10).replaceAll('-', '');
const hms = (iso: string) => iso.slice(11, 19).replaceAll(':', '');

/** track_package: the label-created (or voided) status of a package the sandbox shipped. */
export function trackPackage(ctx: UpsContext, args: Obj): Obj {
  args = toolArgs('track_package', args);
  const inquiry = text(args.inquiryNumber).replace(/\s+/g, '').toUpperCase();
  const rec = ctx.store.findByTracking(inquiry);
  if (!rec) throw upsHttpError(404, UPS_CODES.trackingNotFound, 'Tracking Information Not Found');
  const pkg = rec.packages.find((p) => p.trackingNumber === inquiry)!;
  const status = pkg.voidedAt
    ? { type: 'X', code: 'VD', description: 'Voided Information Received', statusCode: '011' }
    : {
        type: 'M',
        code: 'MP',
        description: 'Shipper created a label, UPS has not received the package yet.',
        statusCode: '003',
      };
  const at = pkg.voidedAt ?? rec.createdAt;
  return {
    trackResponse: {
      shipment: [
        {
          inquiryNumber: inquiry,
          package: [
            {
              trackingNumber: inquiry,
              currentStatus: { description: status.description, code: status.statusCode },
              activity: [
                { status, date: ymd(at), time: hms(at), location: { address: { countryCode: 'US' } } },
              ],
              service: { code: rec.serviceCode, description: serviceName(rec.serviceCode) },
              weight: { unitOfMeasurement: pkg.weightUnit, weight: pkg.weight },
              referenceNumber: pkg.references.map((number) => ({ type: 'PACKAGE', number })),
              packageCount: rec.packages.length,
            },
          ],
        },
      ],
    },
  };
}
