/**
 * The simulated UPS Tracking API behind track_package (`GET /track/v1/details/{inquiryNumber}`): every
 * package the sandbox shipped moves through UPS's statuses on a simulated clock.
 *
 * The clock: for each shipment, simulated time = createdAt + (now − createdAt) × `trackingClockSpeed`
 * (knob; 1 = real time). The package's life, in simulated UTC time, with UPS business days (Monday to
 * Friday, no holidays) and the lane's business days in transit from the rating model (`transitDays`,
 * `laneZone`), the same days Rating's Shop and Time in Transit report:
 *
 * - at creation: label created — type M, code MP, statusCode 003;
 * - pickup day (the creation day if the label was made on a weekday by 16:00, else the next weekday)
 *   18:00 pickup scan (P, PU, 038), 21:30 origin scan (I, OR, 005), 23:45 departed (I, DP, 005);
 * - each business day in between: arrived 04:00 / departed 20:00 at a hub (I, AR/DP, 005), on an
 *   international lane the last one an import scan (I, IP, 005) at the destination;
 * - delivery day (pickup day + business days in transit): arrived, destination scan (I, DS, 005), out for
 *   delivery (I, OT, 021), delivered (D, KB, 011) before the service's commit time (08:00 Next Day Air
 *   Early, 09:00 Express Plus, 10:30 Next Day Air / 2nd Day Air A.M. / Express, 15:00 Next Day Air
 *   Saver; otherwise between 10:00 and 19:00), the minute fixed per package by a hash of its number.
 *
 * Exceptions and returns (knob `trackingExceptions`, deterministic per tracking number): `exception` —
 * an address exception on the delivery day (X, 013), nothing after it; `damaged` — damage reported the
 * evening of pickup (X, 013), nothing after it; `delayed` — a weather delay on the delivery day (X, 013),
 * delivered the next business day; `returned` — the address exception, then returning to sender (I, RS,
 * 036) and, as many business days later as the lane takes, returned to sender (RS, RS, 034) at the
 * shipper's city. A voided package shows what happened before its void, then "Voided Information
 * Received" (X, VD; statusCode 011 as the sandbox always had it, though UPS's table gives 011 to Delivered),
 * and stays so.
 */
import { createHash } from 'node:crypto';
import { type JsonObject, text } from '../json';
import type { Knobs, TrackingFate } from '../knobs';
import { UPS_CODES, upsHttpError } from '../errors';
import { isDomesticLane, laneZone, transitDays } from '../rates';
import { serviceName } from '../services';
import type { ShipmentRecord, StoredPackage, StoredParty } from '../store';
import { toolArgs, type UpsContext } from './context';
import { COMMIT_TIME } from './transit';

type Obj = JsonObject;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** One tracking status as UPS reports it in an activity. */
export interface TrackStatus {
  type: string;
  code: string;
  description: string;
  statusCode: string;
}

/** A place of an activity (UPS's `location.address`). */
interface Place {
  city?: string;
  stateProvince?: string;
  postalCode?: string;
  countryCode: string;
}

/** One activity of a package's life: when (simulated ms), what, where. */
export interface TrackEvent {
  at: number;
  status: TrackStatus;
  place: Place;
}

const S = (type: string, code: string, statusCode: string, description: string): TrackStatus => ({
  type,
  code,
  description,
  statusCode,
});

/** The statuses the sandbox reports. */
export const STATUS = {
  labelCreated: S('M', 'MP', '003', 'Shipper created a label, UPS has not received the package yet.'),
  pickupScan: S('P', 'PU', '038', 'Pickup Scan'),
  originScan: S('I', 'OR', '005', 'Origin Scan'),
  departed: S('I', 'DP', '005', 'Departed from Facility'),
  arrived: S('I', 'AR', '005', 'Arrived at Facility'),
  importScan: S('I', 'IP', '005', 'Import Scan'),
  destinationScan: S('I', 'DS', '005', 'Destination Scan'),
  outForDelivery: S('I', 'OT', '021', 'Out For Delivery Today'),
  delivered: S('D', 'KB', '011', 'DELIVERED'),
  addressException: S('X', 'XA', '013', 'THE ADDRESS IS INCORRECT. UPS WILL ATTEMPT TO UPDATE THIS ADDRESS.'),
  damaged: S('X', 'XD', '013', 'DAMAGED - UPS WILL NOTIFY THE SENDER WITH DETAILS OF THE DAMAGE.'),
  weatherDelay: S(
    'X',
    'XW',
    '013',
    'ADVERSE WEATHER CONDITIONS CAUSED THIS DELAY. THE DELIVERY DATE HAS BEEN UPDATED.',
  ),
  returning: S('I', 'RS', '036', 'Returning to Sender: In Transit'),
  returned: S('RS', 'RS', '034', 'Returned to Sender'),
  /**
   * statusCode 011 is what the sandbox has always answered for a void (test/contract/ups-mcp.test.ts pins
   * it); UPS's table gives 011 to Delivered: read a void by type X and code VD, never by statusCode.
   */
  voided: S('X', 'VD', '011', 'Voided Information Received'),
} as const;

/** The simpler wording UPS gives a status type (`simplifiedTextDescription`). */
const SIMPLIFIED: Readonly<Record<string, string>> = {
  M: 'Label Created',
  P: 'Picked Up',
  I: 'On the Way',
  D: 'Delivered',
  X: 'Exception',
  RS: 'Returned',
};

/** The UTC day number of a time, and weekday (0 Sunday .. 6 Saturday). */
const dayOf = (ms: number) => Math.floor(ms / DAY);
const weekday = (day: number) => (day + 4) % 7; // 1970-01-01 was a Thursday
const isBusinessDay = (day: number) => weekday(day) !== 0 && weekday(day) !== 6;

function nextBusinessDay(day: number): number {
  let d = day + 1;
  while (!isBusinessDay(d)) d++;
  return d;
}

function addBusinessDays(day: number, n: number): number {
  let d = day;
  for (let i = 0; i < n; i++) d = nextBusinessDay(d);
  return d;
}

/** A number in [0, 1) from a text, the same in every process. */
function hashUnit(text: string, salt: string): number {
  return createHash('sha256').update(`${salt}:${text}`).digest().readUInt32BE(0) / 2 ** 32;
}

/** The package's fate: named by tracking number, else by a reference of its shipment, else by the rates. */
export function fateOf(rec: ShipmentRecord, pkg: StoredPackage, knobs: Knobs): TrackingFate {
  const ex = knobs.trackingExceptions;
  const named = ex.trackingNumbers[pkg.trackingNumber];
  if (named) return named;
  for (const ref of [
    ...pkg.references,
    ...rec.references,
    ...(rec.customerContext ? [rec.customerContext] : []),
  ]) {
    const byRef = ex.references[ref];
    if (byRef) return byRef;
  }
  let u = hashUnit(pkg.trackingNumber, 'fate');
  for (const fate of ['exception', 'damaged', 'delayed', 'returned'] as const) {
    const p = ex.rates[fate] ?? 0;
    if (u < p) return fate;
    u -= p;
  }
  return 'delivered';
}

const place = (p: StoredParty): Place => ({
  city: p.Address.City.toUpperCase(),
  ...(p.Address.StateProvinceCode ? { stateProvince: p.Address.StateProvinceCode.toUpperCase() } : {}),
  countryCode: p.Address.CountryCode.toUpperCase(),
});

const HUBS = {
  air: { city: 'LOUISVILLE', stateProvince: 'KY', countryCode: 'US' },
  ground: { city: 'HODGKINS', stateProvince: 'IL', countryCode: 'US' },
} as const;

/** Business days in transit of the shipment's service on its lane (zone 5 when the lane cannot be zoned). */
function businessDays(rec: ShipmentRecord): number {
  let zone = 5;
  try {
    zone = laneZone({
      originCountry: rec.shipper.Address.CountryCode,
      originPostalCode: rec.shipper.Address.PostalCode,
      destCountry: rec.shipTo.Address.CountryCode,
      destPostalCode: rec.shipTo.Address.PostalCode,
    });
  } catch {
    // a postal code the rating model cannot read: an average lane
  }
  return transitDays(rec.serviceCode, zone);
}

/** Minute of the day the package is delivered: before the service's commit time, else 10:00–19:00. */
function deliveryMinute(rec: ShipmentRecord, pkg: StoredPackage): number {
  const commit = COMMIT_TIME[rec.serviceCode];
  const h = hashUnit(pkg.trackingNumber, 'minute');
  if (commit && commit !== '23:00:00') {
    const end = Number(commit.slice(0, 2)) * 60 + Number(commit.slice(3, 5));
    const start = Math.max(7 * 60 + 30, end - 150);
    return start + Math.floor(h * (end - start));
  }
  return 10 * 60 + Math.floor(h * 9 * 60);
}

/** The events of a delivery day ending in delivery at `minute`: arrived, destination scan, out for delivery, delivered. */
function deliveryDayEvents(day: number, minute: number, dest: Place): TrackEvent[] {
  const at = (m: number) => day * DAY + m * MINUTE;
  return [
    { at: at(minute - 240), status: STATUS.arrived, place: dest },
    { at: at(minute - 180), status: STATUS.destinationScan, place: dest },
    { at: at(minute - 90), status: STATUS.outForDelivery, place: dest },
    { at: at(minute), status: STATUS.delivered, place: dest },
  ];
}

/** A package's whole simulated life, oldest first, and the day it is (or was) due. */
export function packageLife(
  rec: ShipmentRecord,
  pkg: StoredPackage,
  fate: TrackingFate,
): { events: TrackEvent[]; dueDay: number } {
  const created = Date.parse(rec.createdAt);
  const origin = place(rec.shipper);
  const dest = place(rec.shipTo);
  const createdDay = dayOf(created);
  const pickupDay =
    isBusinessDay(createdDay) && created + 2 * HOUR <= createdDay * DAY + 18 * HOUR
      ? createdDay
      : nextBusinessDay(createdDay);
  const n = businessDays(rec);
  const dueDay = addBusinessDays(pickupDay, n);
  const minute = deliveryMinute(rec, pkg);
  const on = (day: number, h: number, m = 0) => day * DAY + h * HOUR + m * MINUTE;
  const domestic = isDomesticLane(rec.shipper.Address.CountryCode, rec.shipTo.Address.CountryCode);
  const hub = ['03', '11'].includes(rec.serviceCode) ? HUBS.ground : HUBS.air;

  const events: TrackEvent[] = [
    { at: created, status: STATUS.labelCreated, place: { countryCode: origin.countryCode } },
    { at: on(pickupDay, 18), status: STATUS.pickupScan, place: origin },
  ];
  if (fate === 'damaged') {
    events.push({ at: on(pickupDay, 21, 30), status: STATUS.damaged, place: origin });
    return { events, dueDay };
  }
  events.push(
    { at: on(pickupDay, 21, 30), status: STATUS.originScan, place: origin },
    { at: on(pickupDay, 23, 45), status: STATUS.departed, place: origin },
  );
  let day = pickupDay;
  for (let k = 1; k < n; k++) {
    day = nextBusinessDay(day);
    if (!domestic && k === n - 1) {
      events.push({ at: on(day, 6), status: STATUS.importScan, place: dest });
    } else {
      events.push(
        { at: on(day, 4), status: STATUS.arrived, place: hub },
        { at: on(day, 20), status: STATUS.departed, place: hub },
      );
    }
  }
  const delivery = deliveryDayEvents(dueDay, minute, dest);
  switch (fate) {
    case 'delivered':
      events.push(...delivery);
      break;
    case 'delayed': {
      events.push({ at: on(dueDay, 5), status: STATUS.weatherDelay, place: dest });
      events.push(...deliveryDayEvents(nextBusinessDay(dueDay), minute, dest));
      break;
    }
    case 'exception':
    case 'returned': {
      events.push(...delivery.slice(0, 3), {
        at: dueDay * DAY + (minute - 30) * MINUTE,
        status: STATUS.addressException,
        place: dest,
      });
      if (fate === 'returned') {
        const back = nextBusinessDay(dueDay);
        events.push(
          { at: on(back, 9), status: STATUS.returning, place: dest },
          { at: addBusinessDays(back, n) * DAY + minute * MINUTE, status: STATUS.returned, place: origin },
        );
      }
      break;
    }
  }
  return { events, dueDay };
}

/** The simulated time of a real instant, for a shipment: its creation plus the elapsed time × the clock speed. */
export function simulatedTime(rec: ShipmentRecord, real: number, speed: number): number {
  const created = Date.parse(rec.createdAt);
  return created + Math.max(0, real - created) * speed;
}

const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
const hms = (ms: number) => new Date(ms).toISOString().slice(11, 19).replaceAll(':', '');

function location(p: Place): Obj {
  return {
    address: {
      ...(p.city ? { city: p.city } : {}),
      ...(p.stateProvince ? { stateProvince: p.stateProvince } : {}),
      ...(p.postalCode ? { postalCode: p.postalCode } : {}),
      countryCode: p.countryCode,
      country: p.countryCode,
    },
  };
}

function packageAddress(type: 'ORIGIN' | 'DESTINATION', p: StoredParty): Obj {
  return {
    type,
    name: p.Name,
    ...(p.AttentionName ? { attentionName: p.AttentionName } : {}),
    address: {
      ...Object.fromEntries(p.Address.AddressLine.slice(0, 3).map((l, i) => [`addressLine${i + 1}`, l])),
      city: p.Address.City,
      ...(p.Address.StateProvinceCode ? { stateProvince: p.Address.StateProvinceCode } : {}),
      ...(p.Address.PostalCode ? { postalCode: p.Address.PostalCode } : {}),
      countryCode: p.Address.CountryCode,
      country: p.Address.CountryCode,
    },
  };
}

/** track_package: the package's activities up to its simulated now, newest first. */
export function trackPackage(ctx: UpsContext, args: Obj): Obj {
  args = toolArgs('track_package', args);
  const inquiry = text(args.inquiryNumber).replace(/\s+/g, '').toUpperCase();
  if ([...inquiry].length < 7 || [...inquiry].length > 34) {
    throw upsHttpError(400, UPS_CODES.invalidInquiryNumber, 'Invalid inquiry number');
  }
  const rec = ctx.store.findByTracking(inquiry);
  if (!rec) throw upsHttpError(404, UPS_CODES.trackingNotFound, 'Tracking Information Not Found');
  const pkg = rec.packages.find((p) => p.trackingNumber === inquiry)!;
  const knobs = ctx.knobs();
  const speed = knobs.trackingClockSpeed;
  const real = (ctx.now?.() ?? new Date()).getTime();
  const life = packageLife(rec, pkg, fateOf(rec, pkg, knobs));
  let until = simulatedTime(rec, real, speed);
  const voidAt = pkg.voidedAt === undefined ? undefined : simulatedTime(rec, Date.parse(pkg.voidedAt), speed);
  if (voidAt !== undefined) until = Math.min(until, voidAt);
  const happened = life.events.filter((e) => e.at <= until);
  if (voidAt !== undefined) {
    happened.push({
      at: voidAt,
      status: STATUS.voided,
      place: { countryCode: place(rec.shipper).countryCode },
    });
  }
  const activity = [...happened].reverse();
  const current = activity[0]!.status;
  const delivered = current.type === 'D' ? activity[0]!.at : undefined;
  const rescheduled = happened.some((e) => e.status === STATUS.weatherDelay);
  const due = rescheduled ? nextBusinessDay(life.dueDay) : life.dueDay;
  const final = ['D', 'RS'].includes(current.type) || current === STATUS.voided;
  const commit = COMMIT_TIME[rec.serviceCode];
  return {
    trackResponse: {
      shipment: [
        {
          inquiryNumber: inquiry,
          package: [
            {
              trackingNumber: inquiry,
              ...(delivered !== undefined
                ? {
                    deliveryDate: [{ type: 'DEL', date: ymd(delivered) }],
                    deliveryTime: { type: 'DEL', endTime: hms(delivered) },
                    deliveryInformation: { location: 'Front Door', receivedBy: '' },
                  }
                : final
                  ? {}
                  : {
                      deliveryDate: [{ type: rescheduled ? 'RDD' : 'SDD', date: ymd(due * DAY) }],
                      deliveryTime:
                        commit && commit !== '23:00:00'
                          ? { type: 'CMT', endTime: commit.replaceAll(':', '') }
                          : { type: 'EOD', endTime: '235900' },
                    }),
              activity: activity.map((e) => ({
                location: location(e.place),
                status: { ...e.status },
                date: ymd(e.at),
                time: hms(e.at),
              })),
              currentStatus: {
                type: current.type,
                description: current.description,
                code: current.statusCode,
                statusCode: current.statusCode,
                simplifiedTextDescription:
                  current === STATUS.voided ? 'Voided' : (SIMPLIFIED[current.type] ?? ''),
              },
              packageAddress: [
                packageAddress('ORIGIN', rec.shipper),
                packageAddress('DESTINATION', rec.shipTo),
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
