/**
 * The template filters (port of the seed's set, DESIGN §4), as plain functions so they can be tested
 * without nunjucks. Edge behaviour is part of the contract; see test/unit/template-filters.test.ts.
 */

/** Error thrown by a filter for a value it cannot convert; becomes an E-4003 row error. */
export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}

/** Scalar to text; objects are refused. */
function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return v.toString();
  throw new FilterError(`expected text, got a ${typeof v}`);
}

const isBlank = (v: unknown): boolean =>
  v === null ||
  v === undefined ||
  (typeof v === 'number' && Number.isNaN(v)) ||
  (typeof v === 'string' && v.trim() === '');

/** Cut at the last word boundary at or before `max`; a single word longer than `max` is hard-cut. */
export function truncateAddress(value: unknown, max = 35): string {
  const s = isBlank(value) ? '' : String(value).trim().replace(/\s+/g, ' ');
  if (s.length <= max) return s;
  const cut = s.slice(0, max + 1);
  const sp = cut.lastIndexOf(' ');
  if (sp <= 0) return s.slice(0, max);
  return cut.slice(0, sp).trimEnd();
}

/** Digits only: 5 → as is; ≥9 → XXXXX-XXXX (first 9); 6–8 → first 5; <5 → right-padded with zeros. */
export function formatUsZip(value: unknown): string {
  const d = isBlank(value) ? '' : String(value).replace(/\D/g, '');
  if (d.length === 5) return d;
  if (d.length >= 9) return `${d.slice(0, 5)}-${d.slice(5, 9)}`;
  if (d.length > 5) return d.slice(0, 5);
  return d.padEnd(5, '0');
}

function toNumber(value: unknown, what: string): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (isBlank(value) || !Number.isFinite(n))
    throw new FilterError(`${what}: not a number: ${JSON.stringify(value)}`);
  return n;
}

/** Round to `decimals` places (half up), never below 0.1. Returns a number. */
export function roundWeight(value: unknown, decimals = 1): number {
  const n = toNumber(value, 'round_weight');
  const f = 10 ** decimals;
  const r = Math.round(n * f + Number.EPSILON) / f;
  return r < 0.1 ? 0.1 : r;
}

const GRAMS_PER: Readonly<Record<string, number>> = {
  g: 1,
  gram: 1,
  grams: 1,
  kg: 1000,
  kgs: 1000,
  oz: 28.349523125,
  lb: 453.59237,
  lbs: 453.59237,
};

/** Convert a weight between g, kg, oz and lb(s). Unknown unit → error. */
export function convertWeight(value: unknown, from: unknown, to: unknown): number {
  const n = toNumber(value, 'convert_weight');
  const f = GRAMS_PER[String(from).toLowerCase()];
  const t = GRAMS_PER[String(to).toLowerCase()];
  if (f === undefined)
    throw new FilterError(`convert_weight: unknown unit ${JSON.stringify(from)} (use g, kg, oz, lb)`);
  if (t === undefined)
    throw new FilterError(`convert_weight: unknown unit ${JSON.stringify(to)} (use g, kg, oz, lb)`);
  return (n * f) / t;
}

const SERVICE_ALIASES: Readonly<Record<string, string>> = {
  ground: '03',
  'ups ground': '03',
  'next day air': '01',
  'ups next day air': '01',
  overnight: '01',
  'next day': '01',
  '2nd day air': '02',
  'ups 2nd day air': '02',
  'second day air': '02',
  '2 day': '02',
  '3 day select': '12',
  'ups 3 day select': '12',
  '3 day': '12',
  saver: '13',
  'next day air saver': '13',
  'ups next day air saver': '13',
  'next day air early': '14',
  'early am': '14',
  '2nd day air am': '59',
  standard: '11',
  'ground saver': '93',
  'worldwide express': '07',
  'worldwide expedited': '08',
  'worldwide saver': '65',
};

/** Service alias or name → UPS code ("ground" → "03"); codes and unknown values pass through unchanged. */
export function lookupServiceCode(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const k = value.trim().toLowerCase().replace(/\s+/g, ' ').replace(/\./g, '');
  return SERVICE_ALIASES[k] ?? value;
}

/** Date (Date, ISO string, YYYY-MM-DD, MM/DD/YYYY, YYYYMMDD) → YYYYMMDD. */
export function toUpsDate(value: unknown): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new FilterError('to_ups_date: invalid date');
    return value.toISOString().slice(0, 10).replace(/-/g, '');
  }
  const s = text(value).trim();
  let m = /^(\d{4})-?(\d{2})-?(\d{2})/.exec(s);
  if (m) return `${m[1]}${m[2]}${m[3]}`;
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s);
  if (m) return `${m[3]}${m[1]!.padStart(2, '0')}${m[2]!.padStart(2, '0')}`;
  throw new FilterError(`to_ups_date: cannot read a date from ${JSON.stringify(value)}`);
}

/** Phone → 10 digits; 11 digits starting with 1 → drop the 1; anything else → error. */
export function toUpsPhone(value: unknown): string {
  const d = text(value).replace(/\D/g, '');
  if (d.length === 10) return d;
  if (d.length === 11 && d.startsWith('1')) return d.slice(1);
  throw new FilterError(`to_ups_phone: ${JSON.stringify(value)} is not a 10-digit US phone number`);
}

/** `d` when the value is null, undefined, blank or NaN; else the value. */
export function defaultValue(value: unknown, d: unknown = ''): unknown {
  return isBlank(value) ? d : value;
}

/** "Ada B. Lovelace" → first "Ada", last "Lovelace" (the rest goes with first), all → [first, last]. */
export function splitName(value: unknown, part: 'first' | 'last' | 'all' = 'first'): string | string[] {
  const words = text(value).trim().split(/\s+/).filter(Boolean);
  const last = words.length > 1 ? words[words.length - 1]! : '';
  const first = words.length > 1 ? words.slice(0, -1).join(' ') : (words[0] ?? '');
  if (part === 'first') return first;
  if (part === 'last') return last;
  if (part === 'all') return [first, last];
  throw new FilterError(`split_name: part must be first, last or all (got ${JSON.stringify(part)})`);
}

/** Filters by their template names. */
export const FILTERS: Readonly<Record<string, (...args: never[]) => unknown>> = {
  truncate_address: truncateAddress,
  format_us_zip: formatUsZip,
  round_weight: roundWeight,
  convert_weight: convertWeight,
  lookup_service_code: lookupServiceCode,
  to_ups_date: toUpsDate,
  to_ups_phone: toUpsPhone,
  default_value: defaultValue,
  split_name: splitName,
};
