/**
 * Pass 1 of `shipbatch import`: the header row → column names (sanitised identifiers, none twice), every record
 * checked, and every column's type inferred from its values (or the user's override checked against them). Also
 * the conversion of a cell to the value sent for its column's type, which the load applies again.
 */
import { IDENTIFIER } from '../../../inputs/source/identifiers';
import type { ImportColumnType, ImportOptions } from './import-options';
import { ImportError, type ImportLimits } from './import-limits';
import { checkRecord, records, type Format } from './read';

/** The PostgreSQL type of each column type. */
export const PG_TYPES: Record<ImportColumnType, string> = {
  text: 'text',
  integer: 'bigint',
  numeric: 'numeric',
  boolean: 'boolean',
  date: 'date',
};

const SYSTEM_COLUMNS = new Set(['ctid', 'xmin', 'xmax', 'cmin', 'cmax', 'tableoid', 'oid']);

/** A header cell → a plain lower-case identifier (`Order ID` → `order_id`, `2nd line` → `c_2nd_line`). */
export function sanitizeColumnName(header: string, index: number): string {
  let s = header
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (s === '') s = `column_${index + 1}`;
  if (/^\d/.test(s)) s = `c_${s}`;
  if (SYSTEM_COLUMNS.has(s)) s = `${s}_`;
  s = s.slice(0, 63);
  if (!IDENTIFIER.test(s)) s = `column_${index + 1}`;
  return s;
}

const INFER_INTEGER = /^-?(0|[1-9]\d*)$/; // no leading zeros: "02134" is a ZIP code, i.e. text
const INFER_NUMERIC = /^-?(0|[1-9]\d*)\.\d+$/;
const ANY_INTEGER = /^[-+]?\d+$/;
const ANY_NUMERIC = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const BOOLEANS: Record<string, boolean> = {
  true: true,
  false: false,
  t: true,
  f: false,
  yes: true,
  no: false,
  y: true,
  n: false,
  '1': true,
  '0': false,
};
const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

function inInt8(s: string): boolean {
  const n = BigInt(s);
  return n >= INT8_MIN && n <= INT8_MAX;
}

function isDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d && y >= 1;
}

/** Tracks which types every value of a column seen so far fits. */
class Inference {
  integer = true;
  numeric = true;
  boolean = true;
  date = true;
  seen = false;

  add(v: string): void {
    this.seen = true;
    if (this.integer && !(INFER_INTEGER.test(v) && inInt8(v))) this.integer = false;
    if (this.numeric && !(INFER_INTEGER.test(v) || INFER_NUMERIC.test(v))) this.numeric = false;
    if (this.boolean && !/^(true|false)$/i.test(v)) this.boolean = false;
    if (this.date && !isDate(v)) this.date = false;
  }

  result(): ImportColumnType {
    if (!this.seen) return 'text';
    if (this.integer) return 'integer';
    if (this.numeric) return 'numeric';
    if (this.boolean) return 'boolean';
    if (this.date) return 'date';
    return 'text';
  }
}
/** A cell as the value sent for a column of `type`, or a reason it doesn't fit. */
export function convert(
  v: string,
  type: ImportColumnType,
): { ok: true; value: string } | { ok: false; why: string } {
  switch (type) {
    case 'text':
      return { ok: true, value: v };
    case 'integer': {
      const t = v.trim();
      return ANY_INTEGER.test(t) && inInt8(t)
        ? { ok: true, value: t }
        : { ok: false, why: 'is not an integer (between -2^63 and 2^63-1)' };
    }
    case 'numeric': {
      const t = v.trim();
      return ANY_NUMERIC.test(t) && t.length <= 1000
        ? { ok: true, value: t }
        : { ok: false, why: 'is not a number' };
    }
    case 'boolean': {
      const b = BOOLEANS[v.trim().toLowerCase()];
      return b === undefined
        ? { ok: false, why: 'is not a boolean (true/false, yes/no, 1/0)' }
        : { ok: true, value: b ? 'true' : 'false' };
    }
    case 'date': {
      const t = v.trim();
      return isDate(t) ? { ok: true, value: t } : { ok: false, why: 'is not a date (YYYY-MM-DD)' };
    }
  }
}
/** A cell as shown in a message: quoted, cut at 40 characters. */
export function shown(v: string): string {
  return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
}
/** What pass 1 found: the header as written, the column names, their types and the number of data rows. */
export interface Plan {
  headers: string[];
  names: string[];
  types: ImportColumnType[];
  rows: number;
}
/** Pass 1: every record of the file read and checked, every column's type inferred or its override checked. */
export async function validateFile(
  file: string,
  format: Format,
  opts: ImportOptions,
  limits: ImportLimits,
): Promise<Plan> {
  let headers: string[] | undefined;
  let names: string[] = [];
  let inference: Inference[] = [];
  let overrides: (ImportColumnType | undefined)[] = [];
  let rows = 0;
  for await (const rec of records(file, format, opts, limits)) {
    if (!headers) {
      headers = rec.values.map((h) => (h ?? '').trim());
      while (format === 'xlsx' && headers.length > 0 && headers[headers.length - 1] === '') headers.pop();
      if (headers.length === 0 || headers.every((h) => h === '')) {
        throw new ImportError(`${file}, line ${rec.line}: the header row is empty`, rec.line);
      }
      if (headers.length > limits.maxColumns) {
        throw new ImportError(
          `${file}: ${headers.length} columns, more than the limit of ${limits.maxColumns}`,
        );
      }
      names = headers.map((h, i) => sanitizeColumnName(h, i));
      const firstIndex = new Map<string, number>();
      names.forEach((n, i) => {
        const prev = firstIndex.get(n);
        if (prev !== undefined) {
          throw new ImportError(
            `${file}: columns ${prev + 1} (${JSON.stringify(headers?.[prev])}) and ${i + 1} ` +
              `(${JSON.stringify(headers?.[i])}) both become column "${n}": rename one of them`,
            rec.line,
            n,
          );
        }
        firstIndex.set(n, i);
      });
      overrides = resolveOverrides(file, opts.types, headers, names);
      inference = names.map(() => new Inference());
      continue;
    }
    rows++;
    if (rows > limits.maxRows) {
      throw new ImportError(`${file}: more than ${limits.maxRows} rows, the import limit`, rec.line);
    }
    checkRecord(file, rec, headers, names, limits);
    rec.values.forEach((v, i) => {
      if (v === null || v === '' || i >= names.length) return;
      const override = overrides[i];
      if (override) {
        const c = convert(v, override);
        if (!c.ok) {
          throw new ImportError(
            `${file}, line ${rec.line}, column ${i + 1} (${names[i]}): ${shown(v)} ${c.why}`,
            rec.line,
            names[i],
          );
        }
      } else {
        inference[i]?.add(v);
      }
    });
  }
  if (!headers) throw new ImportError(`${file}: the file is empty (no header row)`);
  const types = names.map((_, i) => overrides[i] ?? inference[i]?.result() ?? 'text');
  return { headers, names, types, rows };
}

function resolveOverrides(
  file: string,
  types: ImportOptions['types'],
  headers: string[],
  names: string[],
): (ImportColumnType | undefined)[] {
  const out: (ImportColumnType | undefined)[] = names.map(() => undefined);
  for (const [col, type] of Object.entries(types ?? {})) {
    if (!Object.hasOwn(PG_TYPES, type)) {
      throw new ImportError(
        `type ${JSON.stringify(type)} for column "${col}": use text, integer, numeric, boolean or date`,
      );
    }
    let i = names.indexOf(col);
    if (i < 0) i = headers.indexOf(col);
    if (i < 0) {
      throw new ImportError(
        `type given for column "${col}", which ${file} does not have (columns: ${names.join(', ')})`,
      );
    }
    out[i] = type;
  }
  return out;
}
