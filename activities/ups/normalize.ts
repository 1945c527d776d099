/**
 * UPS response bodies → the plain results shipbatch stores: tracking numbers, shipment id, label
 * bytes and format, charges in integer cents (negotiated wins over published), currency. UPS sends a
 * single element as a bare object where a list is possible, so every list is read both ways.
 */
import { isObj, text, type JsonObject } from '../../domain/json';
import { parseCents } from '../../domain/money';
import type { LabelFormat, PackageLabel } from '../../domain/label';

type Obj = JsonObject;
const list = (v: unknown): Obj[] =>
  (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]).filter(isObj);

/** A UPS body did not have the shape we need; names the missing part. */
export class UpsResponseError extends Error {
  constructor(what: string) {
    super(`unexpected UPS response: ${what}`);
    this.name = 'UpsResponseError';
  }
}

function part(body: unknown, key: string): Obj {
  if (!isObj(body) || !isObj(body[key])) throw new UpsResponseError(`no ${key}`);
  return body[key];
}

/** A charge `{CurrencyCode, MonetaryValue}` in cents; a missing amount is an error. */
function charge(value: unknown, what: string): { cents: number; currency: string } {
  if (!isObj(value)) throw new UpsResponseError(`no ${what}`);
  try {
    return {
      cents: parseCents(value.MonetaryValue as string | undefined),
      currency: text(value.CurrencyCode, 'USD'),
    };
  } catch (err) {
    throw new UpsResponseError(`${what}.MonetaryValue: ${(err as Error).message}`);
  }
}

export type { LabelFormat, PackageLabel };

export interface ShipmentResult {
  shipmentId: string;
  trackingNumbers: string[];
  labels: PackageLabel[];
  /** What the shipper pays: negotiated when UPS returned negotiated rates, else published. */
  totalCents: number;
  publishedCents: number;
  negotiatedCents?: number;
  currency: string;
}

function labelFormat(code: unknown): LabelFormat {
  const c = text(code, 'GIF').toUpperCase();
  return c === 'ZPL' || c === 'PNG' || c === 'PDF' ? c : 'GIF';
}

export function normalizeShipmentResponse(body: unknown): ShipmentResult {
  const results = part(part(body, 'ShipmentResponse'), 'ShipmentResults');
  const shipmentId = results.ShipmentIdentificationNumber;
  if (typeof shipmentId !== 'string' || !shipmentId)
    throw new UpsResponseError('no ShipmentIdentificationNumber');
  const packages = list(results.PackageResults);
  if (packages.length === 0) throw new UpsResponseError('no PackageResults');
  const labels = packages.map((p, i) => {
    if (typeof p.TrackingNumber !== 'string')
      throw new UpsResponseError(`no TrackingNumber in package ${i + 1}`);
    const label = isObj(p.ShippingLabel) ? p.ShippingLabel : {};
    const format = labelFormat(isObj(label.ImageFormat) ? label.ImageFormat.Code : undefined);
    return {
      trackingNumber: p.TrackingNumber,
      format,
      image: Buffer.from(text(label.GraphicImage), 'base64'),
    };
  });
  const charges = isObj(results.ShipmentCharges) ? results.ShipmentCharges : {};
  const published = charge(charges.TotalCharges, 'ShipmentCharges.TotalCharges');
  const negotiatedRaw = isObj(results.NegotiatedRateCharges)
    ? results.NegotiatedRateCharges.TotalCharge
    : undefined;
  const negotiated =
    negotiatedRaw === undefined ? undefined : charge(negotiatedRaw, 'NegotiatedRateCharges.TotalCharge');
  return {
    shipmentId,
    trackingNumbers: labels.map((l) => l.trackingNumber),
    labels,
    totalCents: negotiated?.cents ?? published.cents,
    publishedCents: published.cents,
    negotiatedCents: negotiated?.cents,
    currency: negotiated?.currency ?? published.currency,
  };
}

export interface RateQuote {
  serviceCode: string;
  /** Negotiated when present, else published. */
  totalCents: number;
  publishedCents: number;
  negotiatedCents?: number;
  currency: string;
  billingWeight?: string;
  businessDaysInTransit?: number;
  /** RatedShipmentAlert descriptions (UPS's informational warnings). */
  warnings: string[];
}

export function normalizeRateResponse(body: unknown): RateQuote[] {
  const rated = list(part(body, 'RateResponse').RatedShipment);
  if (rated.length === 0) throw new UpsResponseError('no RatedShipment');
  return rated.map((r) => {
    const published = charge(r.TotalCharges, 'RatedShipment.TotalCharges');
    const negotiatedRaw = isObj(r.NegotiatedRateCharges) ? r.NegotiatedRateCharges.TotalCharge : undefined;
    const negotiated =
      negotiatedRaw === undefined ? undefined : charge(negotiatedRaw, 'NegotiatedRateCharges.TotalCharge');
    const arrival = (r.TimeInTransit as { ServiceSummary?: { EstimatedArrival?: Obj } } | undefined)
      ?.ServiceSummary?.EstimatedArrival;
    const days = Number(
      (isObj(r.GuaranteedDelivery) ? r.GuaranteedDelivery.BusinessDaysInTransit : undefined) ??
        arrival?.BusinessDaysInTransit ??
        NaN,
    );
    return {
      serviceCode: text(isObj(r.Service) ? r.Service.Code : ''),
      totalCents: negotiated?.cents ?? published.cents,
      publishedCents: published.cents,
      negotiatedCents: negotiated?.cents,
      currency: negotiated?.currency ?? published.currency,
      billingWeight: isObj(r.BillingWeight) ? text(r.BillingWeight.Weight) : undefined,
      businessDaysInTransit: Number.isFinite(days) ? days : undefined,
      warnings: list(r.RatedShipmentAlert).map((a) => text(a.Description ?? a.Code)),
    };
  });
}

export interface RecoveredLabels {
  shipmentId?: string;
  labels: PackageLabel[];
}

export function normalizeLabelRecoveryResponse(body: unknown): RecoveredLabels {
  const res = part(body, 'LabelRecoveryResponse');
  const labels = list(res.LabelResults).map((r) => {
    const image = isObj(r.LabelImage) ? r.LabelImage : {};
    return {
      trackingNumber: text(r.TrackingNumber),
      format: labelFormat(isObj(image.LabelImageFormat) ? image.LabelImageFormat.Code : undefined),
      image: Buffer.from(text(image.GraphicImage), 'base64'),
    };
  });
  const id = res.ShipmentIdentificationNumber;
  return { shipmentId: typeof id === 'string' ? id : labels[0]?.trackingNumber, labels };
}

export interface VoidResult {
  voided: boolean;
  status: string;
}

export function normalizeVoidResponse(body: unknown): VoidResult {
  const summary = part(part(body, 'VoidShipmentResponse'), 'SummaryResult');
  const status = isObj(summary.Status) ? summary.Status : {};
  return { voided: text(status.Code) === '1', status: text(status.Description ?? status.Code) };
}

export interface AddressValidation {
  valid: boolean;
  ambiguous: boolean;
  classification: 'commercial' | 'residential' | 'unknown';
  candidates: Array<{
    addressLines: string[];
    city: string;
    state: string;
    postalCode: string;
    countryCode: string;
  }>;
}

export function normalizeAddressValidation(body: unknown): AddressValidation {
  const xav = part(body, 'XAVResponse');
  const cls = isObj(xav.AddressClassification) ? text(xav.AddressClassification.Code) : '0';
  return {
    valid: 'ValidAddressIndicator' in xav,
    ambiguous: 'AmbiguousAddressIndicator' in xav,
    classification: cls === '1' ? 'commercial' : cls === '2' ? 'residential' : 'unknown',
    candidates: list(xav.Candidate).map((c) => {
      const a = isObj(c.AddressKeyFormat) ? c.AddressKeyFormat : {};
      const low = text(a.PostcodePrimaryLow);
      const ext = a.PostcodeExtendedLow ? `-${text(a.PostcodeExtendedLow)}` : '';
      return {
        addressLines: (Array.isArray(a.AddressLine) ? a.AddressLine : [a.AddressLine])
          .filter(Boolean)
          .map(String),
        city: text(a.PoliticalDivision2),
        state: text(a.PoliticalDivision1),
        postalCode: `${low}${ext}`,
        countryCode: text(a.CountryCode),
      };
    }),
  };
}

export interface TrackingStatus {
  trackingNumber: string;
  status: string;
  statusCode?: string;
  /** The newest activity's status type (M, P, I, O, D, X, RS, MV…), when UPS listed activities. */
  type?: string;
  /** When the newest activity happened (ISO, as UPS's local date and time, read as UTC). */
  at?: string;
  /** Where: "CITY, ST, CC" of the newest activity's address. */
  location?: string;
  /** The delivery date (YYYY-MM-DD) once delivered. */
  deliveredOn?: string;
}

/** `20261206` and `143005` → `2026-12-06T14:30:05.000Z`; undefined when either is not a date or time. */
function upsDateTime(date: unknown, time: unknown): string | undefined {
  const d = /^(\d{4})(\d{2})(\d{2})$/.exec(text(date));
  if (!d) return undefined;
  const t = /^(\d{2})(\d{2})(\d{2})$/.exec(text(time, '000000')) ?? ['', '00', '00', '00'];
  const ms = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(t[1]), Number(t[2]), Number(t[3]));
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

export function normalizeTrackResponse(body: unknown): TrackingStatus {
  const shipment = list(part(body, 'trackResponse').shipment)[0];
  const pkg = list(shipment?.package)[0];
  if (!pkg) throw new UpsResponseError('no trackResponse.shipment[0].package[0]');
  const current = isObj(pkg.currentStatus) ? pkg.currentStatus : {};
  const newest = list(pkg.activity)[0];
  const status = newest && isObj(newest.status) ? newest.status : {};
  const address =
    newest && isObj(newest.location) && isObj(newest.location.address) ? newest.location.address : {};
  const location = [address.city, address.stateProvince, address.countryCode]
    .map((v) => text(v).trim())
    .filter(Boolean)
    .join(', ');
  const delivered = list(pkg.deliveryDate).find((d) => text(d.type) === 'DEL');
  const deliveredOn = delivered ? upsDateTime(delivered.date, '000000')?.slice(0, 10) : undefined;
  const at = newest ? upsDateTime(newest.date, newest.time) : undefined;
  return {
    trackingNumber: text(pkg.trackingNumber),
    status: text(current.description ?? status.description),
    statusCode: current.code === undefined ? undefined : text(current.code),
    ...(status.type !== undefined ? { type: text(status.type) } : {}),
    ...(at ? { at } : {}),
    ...(location ? { location } : {}),
    ...(deliveredOn ? { deliveredOn } : {}),
  };
}
