/**
 * The UPS Pickup API as the real server's four tools expose it (`rate_pickup`, `schedule_pickup`,
 * `get_pickup_status`, `cancel_pickup`): the tool arguments a batch's pickup becomes, and UPS's answers
 * read into plain values. The calls themselves go through the one UPS client (client.ts).
 */
import { isObj, text } from '../../domain/json';
import { parseCents } from '../../domain/money';

/** Where and when a pickup is, and for how much: what a batch asks UPS for. */
export interface PickupRequest {
  /** YYYYMMDD. */
  pickupDate: string;
  /** HHMM. */
  readyTime: string;
  closeTime: string;
  addressLine: string;
  city: string;
  state: string;
  /** 5 digits for the US (no ZIP+4: the Pickup API takes at most 8 characters). */
  postalCode: string;
  countryCode: string;
  /** ≤ 22 characters (PickupAddress.ContactName). */
  contactName: string;
  phone: string;
  /** The shipper's account: who pays (payment method 01) and whose pending pickups status lists. */
  accountNumber: string;
  /** Packages, 1–999 (PickupPiece.Quantity). */
  quantity: number;
  /** Total weight in pounds, one decimal. */
  weightLbs: string;
  /** Three digits (PickupPiece.ServiceCode): 001 Next Day Air … 003 Ground. */
  serviceCode: string;
  residential: boolean;
}

/** The pickup's charge as UPS rates it. */
export interface PickupCharge {
  cents: number;
  currency: string;
}

/** A pending on-call pickup of an account (get_pickup_status). */
export interface PendingPickup {
  prn: string;
  /** YYYYMMDD. */
  date: string;
  contactName?: string;
}

const addressArgs = (p: PickupRequest) => ({
  address_line: p.addressLine,
  city: p.city,
  state: p.state,
  postal_code: p.postalCode,
  country_code: p.countryCode,
  pickup_date: p.pickupDate,
  ready_time: p.readyTime,
  close_time: p.closeTime,
  residential_indicator: p.residential ? 'Y' : 'N',
  service_code: p.serviceCode,
  quantity: p.quantity,
});

/** rate_pickup's arguments (service date option 03: same-day or future-day, from the date). */
export function ratePickupArgs(p: PickupRequest): Record<string, unknown> {
  return {
    pickup_type: 'oncall',
    ...addressArgs(p),
    service_date_option: '03',
    destination_country_code: p.countryCode,
  };
}

/** schedule_pickup's arguments: paid by the shipper's account (01), rated in the same call. */
export function schedulePickupArgs(p: PickupRequest, transId?: string): Record<string, unknown> {
  return {
    ...addressArgs(p),
    ...(transId ? { trans_id: transId } : {}),
    contact_name: p.contactName,
    phone_number: p.phone,
    weight: Number(p.weightLbs),
    weight_unit: 'LBS',
    payment_method: '01',
    rate_pickup_indicator: 'Y',
    account_number: p.accountNumber,
  };
}

/** The charge in a RateResult (rate_pickup's, or schedule_pickup's when rated), if UPS gave one. */
function chargeOf(result: unknown): PickupCharge | undefined {
  if (!isObj(result) || result.GrandTotalOfAllCharge === undefined) return undefined;
  return {
    cents: parseCents(text(result.GrandTotalOfAllCharge)),
    currency: /^[A-Z]{3}$/.test(text(result.CurrencyCode)) ? text(result.CurrencyCode) : 'USD',
  };
}

/** rate_pickup's answer → the charge; throws on an answer without one (an unreadable answer). */
export function readPickupRate(body: unknown): PickupCharge {
  const response = isObj(body) && isObj(body.PickupRateResponse) ? body.PickupRateResponse : undefined;
  const charge = chargeOf(response?.RateResult);
  if (!charge) throw new Error('rate_pickup answered without GrandTotalOfAllCharge');
  return charge;
}

/** schedule_pickup's answer → the PRN and (when rated) the charge; throws when there is no PRN. */
export function readPickupCreation(body: unknown): { prn: string; charge?: PickupCharge } {
  const response =
    isObj(body) && isObj(body.PickupCreationResponse) ? body.PickupCreationResponse : undefined;
  const prn = text(response?.PRN).trim();
  if (!/^[A-Za-z0-9]{1,11}$/.test(prn)) throw new Error('schedule_pickup answered without a PRN');
  const charge = chargeOf(response?.RateResult);
  return { prn: prn.toUpperCase(), ...(charge ? { charge } : {}) };
}

/** get_pickup_status's answer → the pending on-call pickups (one object or a list, as UPS sends either). */
export function readPendingPickups(body: unknown): PendingPickup[] {
  // No status response at all is an answer not understood, never "no pickups" (the reconcile would then ask
  // UPS again, or a cancel find nothing to cancel).
  if (!isObj(body) || !isObj(body.PickupPendingStatusResponse)) {
    throw new Error('get_pickup_status answered without PickupPendingStatusResponse');
  }
  const raw = body.PickupPendingStatusResponse.PendingStatus;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.filter(isObj).flatMap((p) => {
    const prn = text(p.PRN).trim().toUpperCase();
    const date = text(p.ServiceDate).trim();
    if (!/^[A-Z0-9]{1,11}$/.test(prn) || !/^\d{8}$/.test(date)) return [];
    if (p.PickupType !== undefined && text(p.PickupType) !== '01') return []; // on-call only
    return [{ prn, date, ...(p.ContactName ? { contactName: text(p.ContactName) } : {}) }];
  });
}
