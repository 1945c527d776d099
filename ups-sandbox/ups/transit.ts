/**
 * The simulated UPS Time in Transit API behind get_time_in_transit (`POST /shipments/{version}/transittimes`).
 * The real tool sends `request_body` to UPS as it is (it checks nothing but its arguments' types), so
 * everything here is UPS answering:
 *
 * - a request UPS cannot use is HTTP 400 with `{"errors": [{code, message}]}` (the API's own error body,
 *   not nested under `response`): 20007 "Missing Required field, <field>." and 20008 "The field, <field>,
 *   contains invalid data, <value>." (UPS's common error codes);
 * - an address UPS does not know (a country code that is not ISO 3166, a US/PR postal code that is not a
 *   ZIP, a destination postal code in the knob `rejectPostalCodes`) is HTTP 200 with a `validationList`
 *   naming the fields, and no `emsResponse`;
 * - otherwise `emsResponse` with one entry per service on the lane: the services, zone and business days
 *   of the Rating model (rates.ts), so Shop and Time in Transit agree for the same lane. As UPS does for
 *   US domestic lanes, services slower than Ground are left out unless `returnUnfilterdServices` (UPS's
 *   spelling) is true.
 *
 * Dates: pickup on the ship date, or the Monday after when it falls on a weekend; delivery that many
 * business days later (Saturdays and Sundays skipped; the sandbox knows no holidays).
 */
import { isObj, type JsonObject } from '../json';
import { UPS_CODES, upsErrorListHttpError, type ToolFailure } from '../errors';
import { isDomesticLane, isGroundService, laneServices, laneZone, transitDays } from '../rates';
import { serviceName, transitServiceLevel } from '../services';
import { toolArgs, type UpsContext } from './context';

type Obj = JsonObject;
type Kind = 'string' | 'number' | 'integer' | 'boolean';

/** The TimeInTransitRequest fields UPS reads, with their JSON types and maximum lengths (UPS's schema). */
const FIELDS: Readonly<Record<string, { kind: Kind; max?: number }>> = {
  originCountryCode: { kind: 'string', max: 2 },
  originStateProvince: { kind: 'string', max: 50 },
  originCityName: { kind: 'string', max: 50 },
  originTownName: { kind: 'string', max: 50 },
  originPostalCode: { kind: 'string', max: 10 },
  destinationCountryCode: { kind: 'string', max: 2 },
  destinationStateProvince: { kind: 'string', max: 50 },
  destinationCityName: { kind: 'string', max: 50 },
  destinationTownName: { kind: 'string', max: 50 },
  destinationPostalCode: { kind: 'string', max: 10 },
  residentialIndicator: { kind: 'string', max: 2 },
  shipDate: { kind: 'string', max: 10 },
  shipTime: { kind: 'string', max: 8 },
  weight: { kind: 'number' },
  weightUnitOfMeasure: { kind: 'string', max: 3 },
  shipmentContentsValue: { kind: 'number' },
  shipmentContentsCurrencyCode: { kind: 'string', max: 3 },
  billType: { kind: 'string', max: 2 },
  avvFlag: { kind: 'boolean' },
  numberOfPackages: { kind: 'integer' },
  dropOffAtFacilityIndicator: { kind: 'integer' },
  holdForPickupIndicator: { kind: 'integer' },
  returnUnfilterdServices: { kind: 'boolean' },
  maxList: { kind: 'integer' },
  premierIndicator: { kind: 'string', max: 2 },
};

/** ISO 3166-1 alpha-2 codes, and XK (Kosovo), which UPS serves. */
const COUNTRIES = new Set(
  (
    'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW ' +
    'BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI ' +
    'FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN ' +
    'IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME ' +
    'MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF ' +
    'PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV ' +
    'SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE ' +
    'YT ZA ZM ZW XK'
  ).split(' '),
);

const US_ZIP = /^\d{5}(?:-?\d{4})?$/;
const ZIP_COUNTRIES = new Set(['US', 'PR']);
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const DAY_MS = 86_400_000;
/** How far from today a ship date may be (UPS: up to 35 days past and 60 days ahead). */
const PAST_DAYS = 35;
const FUTURE_DAYS = 60;
/** Heaviest shipment UPS times, per unit. */
const MAX_WEIGHT: Readonly<Record<string, number>> = { LBS: 150, KGS: 70 };

/** Commit time of each service (end of day is 23:00:00). */
export const COMMIT_TIME: Readonly<Record<string, string>> = {
  '14': '08:00:00',
  '01': '10:30:00',
  '13': '15:00:00',
  '59': '10:30:00',
  '02': '23:00:00',
  '12': '23:00:00',
  '03': '23:00:00',
  '54': '09:00:00',
  '07': '10:30:00',
  '65': '23:00:00',
  '08': '23:00:00',
  '11': '23:00:00',
};
/** Order among services with the same days and commit time: the dearer first, as UPS lists them. */
const RANK = ['14', '01', '13', '59', '02', '12', '03', '54', '07', '65', '08', '11'];

type Value = string | number | boolean;

/** UPS's 400 for a missing field. */
function missing(field: string): ToolFailure {
  return upsErrorListHttpError(400, UPS_CODES.missingRequiredField, `Missing Required field, ${field}.`);
}

/** How a value shows in UPS's message: text cut at 40 characters, containers not spelled out. */
function shown(v: unknown): string {
  if (Array.isArray(v)) return '[...]';
  if (isObj(v)) return '{...}';
  const s = String(v);
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

/** UPS's 400 for a value it cannot use. */
function invalid(field: string, value: unknown): ToolFailure {
  return upsErrorListHttpError(
    400,
    UPS_CODES.invalidFieldData,
    `The field, ${field}, contains invalid data, ${shown(value)}.`,
  );
}

/**
 * The request's fields as UPS reads JSON: null and blank text are absent (UPS's own sample sends "" for
 * fields it leaves out); text fields take numbers and booleans as their text; number fields take numeric
 * text (UPS's sample sends `"weight": "10.5"`); booleans take "true"/"false". Anything else, or text past
 * the field's length, is 20008.
 */
function readFields(body: Obj): Map<string, Value> {
  const out = new Map<string, Value>();
  for (const [name, spec] of Object.entries(FIELDS)) {
    const raw = body[name];
    if (raw === undefined || raw === null) continue;
    if (typeof raw === 'string' && raw.trim() === '') continue;
    const value = readValue(spec.kind, raw);
    if (value === undefined) throw invalid(name, raw);
    if (typeof value === 'string' && spec.max !== undefined && value.length > spec.max) {
      throw invalid(name, raw);
    }
    out.set(name, value);
  }
  return out;
}

function readValue(kind: Kind, raw: unknown): Value | undefined {
  switch (kind) {
    case 'string':
      if (typeof raw === 'string') return raw.trim();
      return typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : undefined;
    case 'number':
    case 'integer': {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && /^-?\d+(?:\.\d+)?$/.test(raw.trim())
            ? Number(raw.trim())
            : NaN;
      if (!Number.isFinite(n)) return undefined;
      return kind === 'integer' && !Number.isInteger(n) ? undefined : n;
    }
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      return raw === 'true' ? true : raw === 'false' ? false : undefined;
  }
}

const str = (f: Map<string, Value>, name: string): string | undefined => {
  const v = f.get(name);
  return v === undefined ? undefined : String(v);
};
const num = (f: Map<string, Value>, name: string): number | undefined => {
  const v = f.get(name);
  return typeof v === 'number' ? v : undefined;
};

/** YYYY-MM-DD of a UTC day number (days since 1970-01-01). */
const isoDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
const weekday = (day: number): number => new Date(day * DAY_MS).getUTCDay();

/** The UTC day number of a YYYY-MM-DD date, or undefined when it is not a calendar date. */
function dayOf(date: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return isoDay(ms / DAY_MS) === date ? ms / DAY_MS : undefined;
}

/** The first weekday on or after `day`. */
function firstWeekday(day: number): number {
  let d = day;
  while (weekday(d) === 0 || weekday(d) === 6) d++;
  return d;
}

/** The weekday `n` business days after `day`, and the weekend days passed on the way. */
function addBusinessDays(day: number, n: number): { day: number; restDays: number } {
  let d = day;
  let restDays = 0;
  for (let left = n; left > 0;) {
    d++;
    if (weekday(d) === 0 || weekday(d) === 6) restDays++;
    else left--;
  }
  return { day: d, restDays };
}

const countryName = (() => {
  const names = new Intl.DisplayNames(['en'], { type: 'region' });
  return (code: string): string => (names.of(code) ?? code).toUpperCase();
})();

/** A postal code as UPS echoes it: a ZIP as its five digits, anything else upper-cased. */
function echoPostal(country: string, postal: string | undefined): Obj {
  if (postal === undefined) return {};
  const p = ZIP_COUNTRIES.has(country) ? postal.slice(0, 5) : postal.toUpperCase();
  return { PostalCode: p, PostalCodeLow: p, PostalCodeHigh: p };
}

/** One end of the lane for emsResponse, keys prefixed with `origin`/`destination`. */
function endOf(prefix: 'origin' | 'destination', f: Map<string, Value>, country: string): Obj {
  const out: Obj = {};
  const city = str(f, `${prefix}CityName`);
  const state = str(f, `${prefix}StateProvince`);
  if (city !== undefined) out[`${prefix}CityName`] = city.toUpperCase();
  out[`${prefix}CountryName`] = countryName(country);
  out[`${prefix}CountryCode`] = country;
  for (const [k, v] of Object.entries(echoPostal(country, str(f, `${prefix}PostalCode`)))) {
    out[`${prefix}${k}`] = v;
  }
  if (state !== undefined) out[`${prefix}StateProvince`] = state.toUpperCase();
  return out;
}

/** A request UPS accepted, in the terms the answer needs. */
interface TransitRequest {
  fields: Map<string, Value>;
  origin: string;
  dest: string;
  /** One country (the US and PR count as one): UPS's domestic request. */
  domestic: boolean;
  originPostal?: string;
  destPostal?: string;
  /** Weight rounded to the tenth (UPS keeps tenths), and its unit. */
  weight?: number;
  unit?: string;
  billType?: string;
  contents?: number;
  currency?: string;
  residential?: string;
  shipDay: number;
  shipTime: string;
}

/** UPS's checks of the fields: the first problem is a 400 (20007 missing, 20008 invalid). */
function checkRequest(f: Map<string, Value>, now: Date): TransitRequest {
  const origin = str(f, 'originCountryCode')?.toUpperCase();
  if (origin === undefined) throw missing('originCountryCode');
  const dest = str(f, 'destinationCountryCode')?.toUpperCase();
  if (dest === undefined) throw missing('destinationCountryCode');
  if (!/^[A-Z]{2}$/.test(origin)) throw invalid('originCountryCode', origin);
  if (!/^[A-Z]{2}$/.test(dest)) throw invalid('destinationCountryCode', dest);
  // Domestic in UPS's terms. Rating's lanes are domestic between US/PR ends only; those decide services.
  const domestic = isDomesticLane(origin, dest) || origin === dest;
  const originPostal = str(f, 'originPostalCode');
  const destPostal = str(f, 'destinationPostalCode');
  if (domestic && originPostal === undefined) throw missing('originPostalCode');
  if (domestic && destPostal === undefined) throw missing('destinationPostalCode');

  const weight = num(f, 'weight');
  const unit = str(f, 'weightUnitOfMeasure')?.toUpperCase();
  if (!domestic && weight === undefined) throw missing('weight');
  if (weight !== undefined && unit === undefined) throw missing('weightUnitOfMeasure');
  if (unit !== undefined && MAX_WEIGHT[unit] === undefined) throw invalid('weightUnitOfMeasure', unit);
  const tenths = weight === undefined ? undefined : Math.round(weight * 10) / 10;
  if (tenths !== undefined && (tenths <= 0 || tenths > MAX_WEIGHT[unit!]!)) throw invalid('weight', weight);

  const billType = str(f, 'billType');
  if (!domestic && billType === undefined) throw missing('billType');
  if (billType !== undefined && !['02', '03', '04'].includes(billType)) throw invalid('billType', billType);
  const contents = num(f, 'shipmentContentsValue');
  const currency = str(f, 'shipmentContentsCurrencyCode')?.toUpperCase();
  const needsValue =
    !domestic && (billType === '03' || billType === '04' || (dest === 'CA' && billType === '02'));
  if (needsValue && contents === undefined) throw missing('shipmentContentsValue');
  if (contents !== undefined && contents < 0) throw invalid('shipmentContentsValue', contents);
  if (contents !== undefined && currency === undefined) throw missing('shipmentContentsCurrencyCode');
  if (currency !== undefined && !/^[A-Z]{3}$/.test(currency)) {
    throw invalid('shipmentContentsCurrencyCode', currency);
  }

  const residential = str(f, 'residentialIndicator');
  if (residential !== undefined && !['01', '02'].includes(residential)) {
    throw invalid('residentialIndicator', residential);
  }
  const premier = str(f, 'premierIndicator');
  if (premier !== undefined && !['00', '01'].includes(premier)) throw invalid('premierIndicator', premier);
  for (const name of ['dropOffAtFacilityIndicator', 'holdForPickupIndicator']) {
    const v = num(f, name);
    if (v !== undefined && v !== 0 && v !== 1) throw invalid(name, v);
  }
  for (const name of ['numberOfPackages', 'maxList']) {
    const v = num(f, name);
    if (v !== undefined && v < 1) throw invalid(name, v);
  }

  const today = Math.floor(now.getTime() / DAY_MS);
  const shipDateText = str(f, 'shipDate');
  const shipDay = shipDateText === undefined ? today : dayOf(shipDateText);
  if (shipDay === undefined || shipDay < today - PAST_DAYS || shipDay > today + FUTURE_DAYS) {
    throw invalid('shipDate', shipDateText);
  }
  const shipTime = str(f, 'shipTime') ?? now.toISOString().slice(11, 19);
  if (!/^(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d$/.test(shipTime)) throw invalid('shipTime', shipTime);

  return {
    fields: f,
    origin,
    dest,
    domestic,
    originPostal,
    destPostal,
    weight: tenths,
    unit,
    billType,
    contents,
    currency,
    residential,
    shipDay,
    shipTime,
  };
}

/** The address fields UPS does not recognise (answered with a validationList, not an error). */
function unknownFields(r: TransitRequest, rejectedPostalCodes: readonly string[]): string[] {
  const unknown: string[] = [];
  for (const [prefix, country, postal] of [
    ['origin', r.origin, r.originPostal],
    ['destination', r.dest, r.destPostal],
  ] as const) {
    if (!COUNTRIES.has(country)) unknown.push(`${prefix}CountryCode`);
    else if (postal !== undefined && ZIP_COUNTRIES.has(country) && !US_ZIP.test(postal)) {
      unknown.push(`${prefix}PostalCode`);
    } else if (
      prefix === 'destination' &&
      postal !== undefined &&
      rejectedPostalCodes.includes(postal.slice(0, 5))
    ) {
      unknown.push(`${prefix}PostalCode`);
    }
  }
  return unknown;
}

/** One entry per service on the lane, fastest first (see the module comment). */
function serviceTimes(r: TransitRequest): Obj[] {
  const zone = laneZone({
    originCountry: r.origin,
    originPostalCode: r.originPostal,
    destCountry: r.dest,
    destPostalCode: r.destPostal,
  });
  let codes = laneServices(r.origin, r.dest);
  if (isDomesticLane(r.origin, r.dest) && r.fields.get('returnUnfilterdServices') !== true) {
    const ground = transitDays('03', zone);
    codes = codes.filter((c) => transitDays(c, zone) <= ground);
  }
  const order = (c: string) => [transitDays(c, zone), COMMIT_TIME[c] ?? '23:00:00', RANK.indexOf(c)] as const;
  codes.sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    return x[0] - y[0] || x[1].localeCompare(y[1]) || x[2] - y[2];
  });

  const pickupDay = firstWeekday(r.shipDay);
  const intl = !r.domestic;
  return codes.map((code) => {
    const business = transitDays(code, zone);
    const delivery = addBusinessDays(pickupDay, business);
    const commit = COMMIT_TIME[code] ?? '23:00:00';
    return {
      serviceLevel: transitServiceLevel(code) ?? code,
      serviceLevelDescription: serviceName(code),
      shipDate: isoDay(r.shipDay),
      deliveryDate: isoDay(delivery.day),
      commitTime: commit,
      deliveryTime: commit,
      deliveryDayOfWeek: DAY_NAMES[weekday(delivery.day)]!,
      nextDayPickupIndicator: intl && pickupDay !== r.shipDay ? '1' : '0',
      saturdayPickupIndicator: '0',
      saturdayDeliveryIndicator: '0',
      guaranteeIndicator: isGroundService(code) ? '0' : '1',
      // UPS fills these for international requests only; domestic ones carry the defaults.
      totalTransitDays: intl ? business + delivery.restDays : 0,
      businessTransitDays: business,
      restDaysCount: intl ? delivery.restDays : 0,
      holidayCount: 0,
      delayCount: 0,
      pickupDate: isoDay(pickupDay),
      pickupTime: intl ? '17:00:00' : '',
      cstccutoffTime: intl ? '16:00:00' : '',
    };
  });
}

/** get_time_in_transit: UPS's transit times for every service on the lane (see the module comment). */
export function getTimeInTransit(ctx: UpsContext, args: Obj): Obj {
  args = toolArgs('get_time_in_transit', args);
  const r = checkRequest(readFields(args.request_body as Obj), ctx.now?.() ?? new Date());
  const unknown = unknownFields(r, ctx.knobs().rejectPostalCodes);
  if (unknown.length > 0) {
    return {
      validationList: { invalidFieldList: unknown, destinationAmbiguous: false, originAmbiguous: false },
    };
  }
  const services = serviceTimes(r);
  const billType = r.billType ?? '03';
  return {
    emsResponse: {
      shipDate: isoDay(r.shipDay),
      shipTime: r.shipTime,
      billType,
      ...(r.domestic ? {} : { dutyType: billType === '02' ? '02' : '01' }),
      residentialIndicator: r.residential ?? '02',
      ...endOf('destination', r.fields, r.dest),
      ...endOf('origin', r.fields, r.origin),
      ...(r.currency === undefined ? {} : { shipmentContentsCurrencyCode: r.currency }),
      ...(r.unit === undefined ? {} : { weightUnitOfMeasure: r.unit }),
      weight: (r.weight ?? 0).toFixed(1),
      shipmentContentsValue: (r.contents === undefined ? 0 : Math.round(r.contents * 10) / 10).toFixed(1),
      guaranteeSuspended: false,
      numberOfServices: services.length,
      services,
    },
  };
}
