/**
 * The simulated UPS Pickup API behind the real server's four pickup tools, with the real tools' own
 * checks in front of it:
 *
 * - `rate_pickup` → `POST /shipments/v2409/pickup/{pickup_type}` (PickupRateRequest): no local checks.
 * - `schedule_pickup` → `POST /pickupcreation/v2409/pickup` (PickupCreationRequest): locally
 *   `ready_time >= close_time` (Python's string comparison) and, for payment method "01", an account
 *   (argument, else UPS_ACCOUNT_NUMBER).
 * - `cancel_pickup` → `DELETE /shipments/v2409/pickup/{01|02}` with the `AccountNumber` or `Prn` header:
 *   locally the account (UPS_ACCOUNT_NUMBER only) or a non-empty `prn`.
 * - `get_pickup_status` → `GET /shipments/v2409/pickup/{pickup_type}` with the `AccountNumber` header:
 *   locally an account (argument, else UPS_ACCOUNT_NUMBER).
 *
 * Then the headers the real server builds (headerFailure), then UPS: the Pickup API's schema limits
 * (20007 missing / 20008 invalid data, the errors nested under `response` as the Pickup spec has them),
 * its business rules (pickup date, window, cancellation) and answers. Pickups live in the data dir
 * (`pickups.ts`); all times are UTC (the sandbox knows no time zones).
 */
import { type JsonObject } from '../json';
import { UPS_CODES, ToolFailure, upsHttpError } from '../errors';
import { monetaryValue } from '../money';
import { pyCompare, pyFloat } from '../python';
import {
  pickupClosesAt,
  pickupReadyAt,
  PickupStore,
  type PickupAddress,
  type PickupRecord,
} from '../pickups';
import type { ShipmentStore } from '../store';
import { headerFailure, invalidRequest, SUCCESS, toolArgs, type UpsContext } from './context';

type Obj = JsonObject;

const DAY_MS = 86_400_000;
/** How far ahead UPS takes a pickup date (the sandbox's rule). */
const MAX_DAYS_AHEAD = 30;
/** Shortest ReadyTime..CloseTime window UPS accepts (the sandbox's stand-in for UPS's lead time). */
const MIN_WINDOW_MINUTES = 60;

/** Charges of an on-call pickup, in cents (the sandbox's tariff). */
const TARIFF = { sameDay: 850, futureDay: 650, residential: 450, fuelPercent: 15 };

/** The pickup store of a context: the one its shipment store's data dir holds. */
const stores = new WeakMap<ShipmentStore, PickupStore>();
function pickupsOf(ctx: UpsContext): PickupStore {
  let store = stores.get(ctx.store);
  if (!store) {
    store = new PickupStore(ctx.store.dataDir);
    stores.set(ctx.store, store);
  }
  return store;
}

const nowOf = (ctx: UpsContext) => ctx.now?.() ?? new Date();

/** UPS's 400 for a missing field. */
function missing(field: string): ToolFailure {
  return upsHttpError(400, UPS_CODES.missingRequiredField, `Missing Required field, ${field}.`);
}

/** How a value shows in UPS's message: text cut at 40 characters. */
function shown(v: string): string {
  return v.length > 40 ? `${v.slice(0, 40)}...` : v;
}

/** UPS's 400 for a value it cannot use. */
function invalid(field: string, value: string): ToolFailure {
  return upsHttpError(
    400,
    UPS_CODES.invalidFieldData,
    `The field, ${field}, contains invalid data, ${shown(value)}.`,
  );
}

/** A text field within the schema's length (blank is missing when the field is required). */
function checkText(field: string, value: string, max: number, required = true): void {
  if (value.trim() === '') {
    if (required) throw missing(field);
    return;
  }
  if ([...value].length > max) throw invalid(field, value);
}

/** The UTC day number of a YYYYMMDD date, or undefined when it is not a calendar date. */
function dayOf(yyyymmdd: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(yyyymmdd);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const d = new Date(ms);
  const same =
    d.getUTCFullYear() === Number(m[1]) &&
    d.getUTCMonth() + 1 === Number(m[2]) &&
    d.getUTCDate() === Number(m[3]);
  return same ? ms / DAY_MS : undefined;
}

/** Minutes after midnight of an HHMM time (UPS's sample also sends "900"), or undefined. */
function minutesOf(hhmm: string): number | undefined {
  const m = /^(\d{1,2})(\d{2})$/.exec(hhmm);
  if (!m || hhmm.length < 3) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  return h < 24 && min < 60 ? h * 60 + min : undefined;
}

const today = (now: Date) => Math.floor(now.getTime() / DAY_MS);

/** PickupDateInfo as UPS checks it: a real date from today up to 30 days ahead, valid times. */
function checkDateInfo(date: string, ready: string, close: string, now: Date): number {
  if (date.trim() === '') throw missing('PickupDateInfo.PickupDate');
  const day = dayOf(date);
  if (day === undefined) throw invalid('PickupDateInfo.PickupDate', date);
  if (ready.trim() === '') throw missing('PickupDateInfo.ReadyTime');
  if (minutesOf(ready) === undefined) throw invalid('PickupDateInfo.ReadyTime', ready);
  if (close.trim() === '') throw missing('PickupDateInfo.CloseTime');
  if (minutesOf(close) === undefined) throw invalid('PickupDateInfo.CloseTime', close);
  if (day < today(now) || day > today(now) + MAX_DAYS_AHEAD) {
    throw upsHttpError(400, UPS_CODES.invalidPickupDate, 'Invalid pickup date');
  }
  return day;
}

/** PickupAddress as UPS checks it (the Pickup API's lengths; a ZIP for US and PR). */
function checkAddress(a: PickupAddress, { lineRequired }: { lineRequired: boolean }): void {
  checkText('PickupAddress.AddressLine', a.addressLine, 73, lineRequired);
  checkText('PickupAddress.City', a.city, 50);
  const country = a.countryCode.toUpperCase();
  if (country.trim() === '') throw missing('PickupAddress.CountryCode');
  if (!/^[A-Z]{2}$/.test(country)) throw invalid('PickupAddress.CountryCode', a.countryCode);
  const postal = ['US', 'CA', 'PR'].includes(country);
  checkText('PickupAddress.StateProvince', a.state, 50, postal);
  checkText('PickupAddress.PostalCode', a.postalCode, 8, postal);
  if ((country === 'US' || country === 'PR') && !/^\d{5}$/.test(a.postalCode)) {
    throw invalid('PickupAddress.PostalCode', a.postalCode);
  }
}

/** One PickupPiece as UPS checks it. */
function checkPiece(service: string, quantity: string, destination: string, container: string): void {
  if (!/^\d{3}$/.test(service)) throw invalid('PickupPiece.ServiceCode', service);
  if (!/^[1-9]\d{0,2}$/.test(quantity)) throw invalid('PickupPiece.Quantity', quantity);
  if (!/^[A-Za-z]{2}$/.test(destination)) throw invalid('PickupPiece.DestinationCountryCode', destination);
  if (!['01', '02', '03'].includes(container)) throw invalid('PickupPiece.ContainerCode', container);
}

/** The headers the real server sends: transId (the call's trans_id or a UUID), transactionSrc, extras. */
function checkHeaders(args: Obj, extra: [string, string][] = []): void {
  const failure = headerFailure([
    ['transId', String(args.trans_id) || 'generated-uuid'],
    ['transactionSrc', String(args.transaction_src) || 'ups-mcp'],
    ...extra,
  ]);
  if (failure) throw failure;
}

/** The Request block the real server builds: TransactionReference.CustomerContext = transaction_src. */
function transactionReference(args: Obj): { CustomerContext: string } {
  const context = String(args.transaction_src);
  if ([...context].length > 512) throw invalidRequest('Invalid CustomerContext: longer than 512 characters');
  return { CustomerContext: context };
}

function response(context: { CustomerContext: string }): Obj {
  return { ...SUCCESS, TransactionReference: context };
}

/** The pickup charge: a base charge (same-day dearer than future-day), residential surcharge, fuel. */
function rateResult(sameDay: boolean, residential: boolean): Obj {
  const base = sameDay ? TARIFF.sameDay : TARIFF.futureDay;
  const resi = residential ? TARIFF.residential : 0;
  const fuel = Math.round(((base + resi) * TARIFF.fuelPercent) / 100);
  const detail = [
    {
      ChargeCode: 'B',
      ChargeDescription: 'BASE CHARGE',
      ChargeAmount: monetaryValue(base),
      TaxAmount: '0.00',
    },
    ...(resi
      ? [
          {
            ChargeCode: 'A',
            ChargeDescription: 'RESIDENTIAL SURCHARGE',
            ChargeAmount: monetaryValue(resi),
            TaxAmount: '0.00',
          },
        ]
      : []),
    {
      ChargeCode: 'S',
      ChargeDescription: 'FUEL SURCHARGE',
      ChargeAmount: monetaryValue(fuel),
      TaxAmount: '0.00',
    },
  ];
  return {
    RateType: sameDay ? 'SD' : 'FD',
    CurrencyCode: 'USD',
    ChargeDetail: detail,
    TotalTax: '0.00',
    GrandTotalOfAllCharge: monetaryValue(base + resi + fuel),
  };
}

/** rate_pickup: the charge of an on-call pickup at an address on a date. */
export function ratePickup(ctx: UpsContext, raw: Obj): Obj {
  const args = toolArgs('rate_pickup', raw);
  checkHeaders(args);
  const context = transactionReference(args);
  const now = nowOf(ctx);
  const address: PickupAddress = {
    addressLine: String(args.address_line),
    city: String(args.city),
    state: String(args.state),
    postalCode: String(args.postal_code),
    countryCode: String(args.country_code),
    residential: args.residential_indicator === 'Y' ? 'Y' : 'N',
  };
  checkAddress(address, { lineRequired: false });
  const day = checkDateInfo(String(args.pickup_date), String(args.ready_time), String(args.close_time), now);
  checkPiece(
    String(args.service_code),
    String(args.quantity),
    String(args.destination_country_code),
    String(args.container_code),
  );
  const option = String(args.service_date_option);
  const sameDay = option === '01' || (option === '03' && day === today(now));
  return {
    PickupRateResponse: {
      Response: response(context),
      RateResult: rateResult(sameDay, address.residential === 'Y'),
    },
  };
}

/** schedule_pickup: a new on-call pickup, or the pending one already scheduled for the address and date. */
export function schedulePickup(ctx: UpsContext, raw: Obj): Obj {
  const args = toolArgs('schedule_pickup', raw);
  const ready = String(args.ready_time);
  const close = String(args.close_time);
  if (pyCompare(ready, close) >= 0) {
    throw new ToolFailure(`ready_time (${ready}) must be before close_time (${close})`);
  }
  const account = String(args.account_number) || ctx.accountNumber;
  const payment = String(args.payment_method);
  if (payment === '01' && !account) {
    throw new ToolFailure(
      "Account number is required when payment_method='01' (pay by shipper account). " +
        'Provide account_number argument or set UPS_ACCOUNT_NUMBER env var.',
    );
  }
  checkHeaders(args);
  // From here on this is UPS answering.
  const context = transactionReference(args);
  const now = nowOf(ctx);
  if (!['00', '01', '03', '04', '05', '06', '07'].includes(payment)) throw invalid('PaymentMethod', payment);
  if (payment === '03') throw missing('Shipper.ChargeCard');
  if (account !== undefined && !/^[A-Za-z0-9]{6,10}$/.test(account)) {
    throw invalid('Shipper.Account.AccountNumber', account);
  }
  const date = String(args.pickup_date);
  const day = checkDateInfo(date, ready, close, now);
  const address: PickupAddress = {
    addressLine: String(args.address_line),
    city: String(args.city),
    state: String(args.state),
    postalCode: String(args.postal_code),
    countryCode: String(args.country_code).toUpperCase(),
    residential: args.residential_indicator === 'Y' ? 'Y' : 'N',
  };
  checkAddress(address, { lineRequired: true });
  const contact = String(args.contact_name);
  checkText('PickupAddress.ContactName', contact, 22);
  checkText('PickupAddress.CompanyName', contact, 27);
  const phone = String(args.phone_number);
  checkText('PickupAddress.Phone.Number', phone, 25);
  const quantity = String(args.quantity);
  checkPiece(String(args.service_code), quantity, address.countryCode, String(args.container_code));
  const weight = pyFloat(Number(args.weight));
  if (!/^\d+(\.\d)?$/.test(weight) || Number(weight) <= 0) throw invalid('TotalWeight.Weight', weight);
  if (minutesOf(close)! - minutesOf(ready)! < MIN_WINDOW_MINUTES) {
    throw upsHttpError(
      400,
      UPS_CODES.pickupWindowTooShort,
      'The time between ReadyTime and CloseTime is shorter than the lead time UPS needs.',
    );
  }
  if (day === today(now) && now.getTime() >= pickupClosesAt({ pickupDate: date, closeTime: close })) {
    throw upsHttpError(
      400,
      UPS_CODES.pickupCloseTimePassed,
      'The pickup CloseTime has already passed today.',
    );
  }
  const pickup = pickupsOf(ctx).schedule(
    {
      ...(account ? { account: account.toUpperCase() } : {}),
      pickupDate: date,
      readyTime: ready,
      closeTime: close,
      address,
      contactName: contact,
      phone,
      serviceCode: String(args.service_code),
      containerCode: String(args.container_code),
      quantity,
      weight,
      weightUnit: String(args.weight_unit),
      paymentMethod: payment,
    },
    now,
  );
  const rated = args.rate_pickup_indicator === 'Y';
  return {
    PickupCreationResponse: {
      Response: response(context),
      PRN: pickup.prn,
      RateStatus: rated
        ? { Code: '01', Description: 'Rate available' }
        : { Code: '04', Description: 'Rate not requested' },
      ...(rated
        ? {
            RateResult: rateResult(
              Number(pickup.pickupDate) === Number(ymd(now)),
              pickup.address.residential === 'Y',
            ),
          }
        : {}),
    },
  };
}

const ymd = (d: Date) => d.toISOString().slice(0, 10).replaceAll('-', '');

/** cancel_pickup: by PRN, the pickup is cancelled once; by account, there is no Smart Pickup to cancel. */
export function cancelPickup(ctx: UpsContext, raw: Obj): Obj {
  const args = toolArgs('cancel_pickup', raw);
  const by = String(args.cancel_by);
  const prn = String(args.prn);
  let header: [string, string];
  if (by === 'account') {
    if (!ctx.accountNumber) {
      throw new ToolFailure('AccountNumber is required via argument or UPS_ACCOUNT_NUMBER env var');
    }
    header = ['AccountNumber', ctx.accountNumber];
  } else {
    if (!prn) throw new ToolFailure("prn is required when cancel_by='prn'");
    header = ['Prn', prn];
  }
  checkHeaders(args, [header]);
  // UPS: the cancel request has no body, so no CustomerContext to echo.
  const done = {
    PickupCancelResponse: { Response: response({ CustomerContext: '' }), PickupType: '01' },
  };
  if (by === 'account') {
    if (!/^[A-Za-z0-9]{6,10}$/.test(header[1])) throw invalid('AccountNumber', header[1]);
    throw upsHttpError(400, UPS_CODES.pickupNotFound, 'No Smart Pickup was found to cancel for the account.');
  }
  if (!/^[A-Za-z0-9]{1,11}$/.test(prn)) throw invalid('PRN', prn);
  const store = pickupsOf(ctx);
  const pickup = store.find(prn.toUpperCase());
  const now = nowOf(ctx);
  if (!pickup) throw upsHttpError(400, UPS_CODES.pickupNotFound, 'The pickup request was not found.');
  if (pickup.cancelledAt !== undefined) {
    throw upsHttpError(
      400,
      UPS_CODES.pickupAlreadyCancelled,
      'The pickup request has already been cancelled.',
    );
  }
  if (now.getTime() >= pickupClosesAt(pickup)) {
    throw upsHttpError(400, UPS_CODES.pickupNotCancellable, 'The pickup can no longer be cancelled.');
  }
  if (!store.cancel(pickup.prn, now)) {
    throw upsHttpError(
      400,
      UPS_CODES.pickupAlreadyCancelled,
      'The pickup request has already been cancelled.',
    );
  }
  return done;
}

/** Pending (not cancelled, window not over) on-call pickups of an account, by date. */
export function pendingPickups(store: PickupStore, account: string, now: Date): PickupRecord[] {
  return store
    .all()
    .filter(
      (p) =>
        p.cancelledAt === undefined &&
        p.account !== undefined &&
        p.account.toUpperCase() === account.toUpperCase() &&
        now.getTime() < pickupClosesAt(p),
    )
    .sort((a, b) => a.pickupDate.localeCompare(b.pickupDate) || a.scheduledAt.localeCompare(b.scheduledAt));
}

/** get_pickup_status: the account's pending on-call pickups (none for `smart`). */
export function getPickupStatus(ctx: UpsContext, raw: Obj): Obj {
  const args = toolArgs('get_pickup_status', raw);
  const account = String(args.account_number) || ctx.accountNumber;
  if (!account) throw new ToolFailure('AccountNumber is required via argument or UPS_ACCOUNT_NUMBER env var');
  checkHeaders(args, [['AccountNumber', account]]);
  if (!/^[A-Za-z0-9]{6,10}$/.test(account)) throw invalid('AccountNumber', account);
  const now = nowOf(ctx);
  const onCall = args.pickup_type === 'smart' ? [] : pendingPickups(pickupsOf(ctx), account, now);
  return {
    PickupPendingStatusResponse: {
      Response: { ...SUCCESS },
      PendingStatus: onCall.map((p) => {
        const dispatched = now.getTime() >= pickupReadyAt(p);
        return {
          PickupType: '01',
          ServiceDate: p.pickupDate,
          PRN: p.prn,
          OnCallStatusCode: dispatched ? '002' : '012',
          PickupStatusMessage: dispatched ? 'Dispatched to driver' : 'Your pickup request is being processed',
          BillingCode: '01',
          ContactName: p.contactName,
        };
      }),
    },
  };
}
