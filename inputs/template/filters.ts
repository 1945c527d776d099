/**
 * The template filters (port of the seed's set, docs/design.md §4). They run INSIDE the template isolate: the whole
 * set is one self-contained factory, `createFilters`, whose source text is shipped into the isolate
 * (`createFilters.toString()`), so it must not reference anything outside its own body (no imports, no
 * module-level names). The host calls the same factory once for unit tests and for callers that want a
 * filter as a plain function. Edge behaviour is part of the contract; see test/unit/template-filters.test.ts.
 */

/** What `createFilters` returns: the error class, each filter as a function, and the template-name map. */
export interface FilterSet {
  FilterError: new (message: string) => Error;
  truncateAddress: (value: unknown, max?: unknown) => string;
  formatUsZip: (value: unknown) => string;
  roundWeight: (value: unknown, decimals?: unknown) => number;
  convertWeight: (value: unknown, from: unknown, to: unknown) => number;
  lookupServiceCode: (value: unknown) => unknown;
  toUpsDate: (value: unknown) => string;
  toUpsPhone: (value: unknown) => string;
  defaultValue: (value: unknown, d?: unknown) => unknown;
  splitName: (value: unknown, part?: unknown) => string | string[];
  /** Filters by their template names. */
  FILTERS: Readonly<Record<string, (...args: never[]) => unknown>>;
}

/** Build the filter set. Self-contained on purpose: its source is evaluated inside the isolate. */
export function createFilters(): FilterSet {
  /** Error thrown by a filter for a value it cannot convert; becomes an E-4003 row error. */
  class FilterError extends Error {}
  // Defined on the prototype, not assigned per instance: inside the isolate Error.prototype is frozen.
  Object.defineProperty(FilterError.prototype, 'name', {
    value: 'FilterError',
    writable: true,
    configurable: true,
  });

  const show = (v: unknown): string => {
    let s: string;
    try {
      s = JSON.stringify(v) ?? String(v);
    } catch {
      s = typeof v;
    }
    return s.length > 60 ? `${s.slice(0, 60)}…` : s;
  };

  /** Scalar to text; objects are refused. */
  const text = (v: unknown, what: string): string => {
    if (v === null || v === undefined) return '';
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return v.toString();
    throw new FilterError(`${what}: expected text, got a ${Array.isArray(v) ? 'list' : typeof v}`);
  };

  const isBlank = (v: unknown): boolean =>
    v === null ||
    v === undefined ||
    (typeof v === 'number' && Number.isNaN(v)) ||
    (typeof v === 'string' && v.trim() === '');

  // Decimal only: "0x96", "1e3", "Infinity", " " and "" are not weights.
  const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

  /** A finite decimal number (number or decimal text), else a FilterError naming the value. */
  const toNumber = (value: unknown, what: string): number => {
    if (typeof value === 'number') {
      if (Number.isFinite(value)) return value;
    } else if (typeof value === 'string' && DECIMAL.test(value.trim())) {
      const n = Number(value.trim());
      if (Number.isFinite(n)) return n;
    }
    throw new FilterError(`${what}: not a decimal number: ${show(value)}`);
  };

  const positive = (value: unknown, what: string): number => {
    const n = toNumber(value, what);
    if (n < 0) throw new FilterError(`${what}: a weight cannot be negative (got ${show(value)})`);
    return n;
  };

  const smallInt = (value: unknown, min: number, max: number, what: string): number => {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max)
      throw new FilterError(`${what} must be a whole number from ${min} to ${max} (got ${show(value)})`);
    return n;
  };

  /** Cut at the last word boundary at or before `max`; a single word longer than `max` is hard-cut. */
  const truncateAddress = (value: unknown, max: unknown = 35): string => {
    const m = smallInt(max, 1, 1000, 'truncate_address: max');
    const s = isBlank(value) ? '' : text(value, 'truncate_address').trim().replace(/\s+/g, ' ');
    if (s.length <= m) return s;
    const cut = s.slice(0, m + 1);
    const sp = cut.lastIndexOf(' ');
    if (sp <= 0) return s.slice(0, m);
    return cut.slice(0, sp).trimEnd();
  };

  /** Digits only: 5 → as is; ≥9 → XXXXX-XXXX (first 9); 6–8 → first 5; <5 → right-padded with zeros. */
  const formatUsZip = (value: unknown): string => {
    const d = isBlank(value) ? '' : text(value, 'format_us_zip').replace(/\D/g, '');
    if (d.length === 5) return d;
    if (d.length >= 9) return `${d.slice(0, 5)}-${d.slice(5, 9)}`;
    if (d.length > 5) return d.slice(0, 5);
    return d.padEnd(5, '0');
  };

  /** Round to `decimals` places (0–6, half up), never below 0.1; negative or non-decimal is an error. */
  const roundWeight = (value: unknown, decimals: unknown = 1): number => {
    const n = positive(value, 'round_weight');
    const f = 10 ** smallInt(decimals, 0, 6, 'round_weight: decimals');
    const r = Math.round(n * f + Number.EPSILON) / f;
    return r < 0.1 ? 0.1 : r;
  };

  // Own keys only (null prototype): "constructor" or "__proto__" is not a unit.
  const GRAMS_PER: Readonly<Record<string, number>> = Object.assign(
    Object.create(null) as Record<string, number>,
    {
      g: 1,
      gram: 1,
      grams: 1,
      kg: 1000,
      kgs: 1000,
      oz: 28.349523125,
      lb: 453.59237,
      lbs: 453.59237,
    },
  );

  const unit = (u: unknown): number => {
    const f = typeof u === 'string' ? GRAMS_PER[u.trim().toLowerCase()] : undefined;
    if (f === undefined) throw new FilterError(`convert_weight: unknown unit ${show(u)} (use g, kg, oz, lb)`);
    return f;
  };

  /** Convert a weight between g, kg, oz and lb(s). Unknown unit, negative or non-decimal → error. */
  const convertWeight = (value: unknown, from: unknown, to: unknown): number => {
    const n = positive(value, 'convert_weight');
    return (n * unit(from)) / unit(to);
  };

  const SERVICE_ALIASES: Readonly<Record<string, string>> = Object.assign(
    Object.create(null) as Record<string, string>,
    {
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
    },
  );

  /** Service alias or name → UPS code ("ground" → "03"); codes and unknown values pass through unchanged. */
  const lookupServiceCode = (value: unknown): unknown => {
    if (typeof value !== 'string') return value;
    const k = value.trim().toLowerCase().replace(/\s+/g, ' ').replace(/\./g, '');
    return SERVICE_ALIASES[k] ?? value;
  };

  /** Date (Date, ISO string, YYYY-MM-DD, MM/DD/YYYY, YYYYMMDD) → YYYYMMDD. */
  const toUpsDate = (value: unknown): string => {
    if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) throw new FilterError('to_ups_date: invalid date');
      return value.toISOString().slice(0, 10).replace(/-/g, '');
    }
    const s = text(value, 'to_ups_date').trim();
    let m = /^(\d{4})-?(\d{2})-?(\d{2})/.exec(s);
    if (m) return `${m[1]}${m[2]}${m[3]}`;
    m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s);
    if (m) return `${m[3]}${m[1]!.padStart(2, '0')}${m[2]!.padStart(2, '0')}`;
    throw new FilterError(`to_ups_date: cannot read a date from ${show(value)}`);
  };

  /** Phone → 10 digits; 11 digits starting with 1 → drop the 1; anything else → error. */
  const toUpsPhone = (value: unknown): string => {
    const d = text(value, 'to_ups_phone').replace(/\D/g, '');
    if (d.length === 10) return d;
    if (d.length === 11 && d.startsWith('1')) return d.slice(1);
    throw new FilterError(`to_ups_phone: ${show(value)} is not a 10-digit US phone number`);
  };

  /** `d` when the value is null, undefined, blank or NaN; else the value. */
  const defaultValue = (value: unknown, d: unknown = ''): unknown => (isBlank(value) ? d : value);

  /** "Ada B. Lovelace" → first "Ada B.", last "Lovelace", all → [first, last]. */
  const splitName = (value: unknown, part: unknown = 'first'): string | string[] => {
    const words = text(value, 'split_name').trim().split(/\s+/).filter(Boolean);
    const last = words.length > 1 ? words[words.length - 1]! : '';
    const first = words.length > 1 ? words.slice(0, -1).join(' ') : (words[0] ?? '');
    if (part === 'first') return first;
    if (part === 'last') return last;
    if (part === 'all') return [first, last];
    throw new FilterError(`split_name: part must be first, last or all (got ${show(part)})`);
  };

  const FILTERS = Object.assign(Object.create(null) as Record<string, (...args: never[]) => unknown>, {
    truncate_address: truncateAddress,
    format_us_zip: formatUsZip,
    round_weight: roundWeight,
    convert_weight: convertWeight,
    lookup_service_code: lookupServiceCode,
    to_ups_date: toUpsDate,
    to_ups_phone: toUpsPhone,
    default_value: defaultValue,
    split_name: splitName,
  });

  return {
    FilterError,
    truncateAddress,
    formatUsZip,
    roundWeight,
    convertWeight,
    lookupServiceCode,
    toUpsDate,
    toUpsPhone,
    defaultValue,
    splitName,
    FILTERS,
  };
}

const host = createFilters();
/** Error thrown by a filter for a value it cannot convert (the host's instance of the class). */
export const FilterError = host.FilterError;
export const {
  truncateAddress,
  formatUsZip,
  roundWeight,
  convertWeight,
  lookupServiceCode,
  toUpsDate,
  toUpsPhone,
  defaultValue,
  splitName,
  FILTERS,
} = host;
