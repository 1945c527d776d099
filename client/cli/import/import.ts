/**
 * `shipbatch import FILE --table T`: a CSV/TSV or XLSX file into a PostgreSQL table (docs/design.md §9).
 *
 * Two streaming passes over the file, so a large file never sits in memory:
 *  1. validate: header → column names, every record checked (field count, NUL bytes, limits) and every
 *     column's type inferred (or the user's override checked) — a malformed file fails here, naming the line
 *     and column, before the database is touched;
 *  2. load: in ONE transaction, create (or replace) the table and insert in batches (one `unnest` per batch);
 *     any failure rolls back, so a failed import leaves the table exactly as it was.
 * Cell values are data only: they travel as bind parameters, never as SQL text (`=cmd|…`, `'; DROP TABLE`
 * are stored as typed). NUL bytes are refused because PostgreSQL text cannot hold them.
 * The readers (csv-reader, xlsx-reader) check the limits while they read, so a hostile file (a zip bomb, a
 * line of 50 M commas, a 300 M-character cell) fails before what it would build is built, and writes nothing.
 */
import type pg from 'pg';
import {
  findRelation,
  IDENTIFIER,
  parseTableName,
  quoteIdent,
  quoteTable,
  type TableName,
} from '../../../inputs/source/identifiers';
import { migrate } from '../../../db/migrate';
import { recordImportedTable } from '../../../inputs/source/imported-tables';
import { ImportError, resolveLimits, type ImportLimits } from './import-limits';
import { checkFileSize, checkRecord, formatOf, records, type Format } from './read';

export { DEFAULT_IMPORT_LIMITS, ImportError, type ImportLimits } from './import-limits';

/** Column types an import can create. `integer` is a PostgreSQL bigint. */
export type ImportColumnType = 'text' | 'integer' | 'numeric' | 'boolean' | 'date';

const PG_TYPES: Record<ImportColumnType, string> = {
  text: 'text',
  integer: 'bigint',
  numeric: 'numeric',
  boolean: 'boolean',
  date: 'date',
};

/** Options of importFile. */
export interface ImportOptions {
  file: string;
  /** `table` or `schema.table`. */
  table: string;
  /** Drop and recreate an existing table (in the same transaction). Default false: an existing table is an error. */
  replace?: boolean;
  /** Type overrides by column name (the sanitised name, or the header as written). */
  types?: Record<string, ImportColumnType>;
  /** The key column: a column of the file (must be unique and present in every row) or, when absent, added. Default `id`. */
  keyColumn?: string;
  /** Worksheet name for XLSX; default the first. */
  sheet?: string;
  limits?: Partial<ImportLimits>;
}

/** What an import did. */
export interface ImportResult {
  /** `schema.table` as created. */
  table: string;
  rows: number;
  /** File columns in order (the added key column not included). */
  columns: { name: string; header: string; type: ImportColumnType }[];
  keyColumn: string;
  /** True when the key column was not in the file and was added (numbered 1…n in file order). */
  addedKey: boolean;
}

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
// ---------------------------------------------------------------------------------------------------------
// Types

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
function convert(
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

function shown(v: string): string {
  return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
}

// ---------------------------------------------------------------------------------------------------------
// Pass 1: validate and infer

interface Plan {
  headers: string[];
  names: string[];
  types: ImportColumnType[];
  rows: number;
}

async function validateFile(
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

// ---------------------------------------------------------------------------------------------------------
// Pass 2: load

const BATCH_ROWS = 2_000;
const BATCH_CHARS = 16 * 1024 * 1024;

function pgErrorToImportError(err: unknown, table: string, key: string): unknown {
  const e = err as { code?: string; detail?: string; message?: string };
  if (e.code === '23505') {
    const m = /^Key \((.*)\)=\((.*)\) is duplicated\.?$/.exec(e.detail ?? '');
    return new ImportError(
      `key column "${key}" is not unique${m ? `: value ${JSON.stringify(m[2])} appears more than once` : ''}; ` +
        `choose another --key-column or remove the duplicates`,
      undefined,
      key,
      { cause: err },
    );
  }
  if (e.code === '23502') {
    return new ImportError(`key column "${key}" has empty values; every row needs a key`, undefined, key, {
      cause: err,
    });
  }
  if (e.code === '42P07') {
    return new ImportError(
      `table "${table}" already exists: use --replace to overwrite it`,
      undefined,
      undefined,
      {
        cause: err,
      },
    );
  }
  if (e.code === '3F000') {
    return new ImportError(
      `can't create table "${table}": ${e.message ?? 'no such schema'}`,
      undefined,
      undefined,
      {
        cause: err,
      },
    );
  }
  if (e.code === '2BP01') {
    return new ImportError(
      `can't replace table "${table}": other objects depend on it (${e.detail ?? e.message ?? ''})`,
      undefined,
      undefined,
      { cause: err },
    );
  }
  return err;
}

/**
 * Import a CSV/TSV/XLSX file into a table: header → columns (sanitised identifiers), types inferred or
 * overridden, a key column added when the file has none, all in one transaction. Throws ImportError naming
 * the file, line and column for malformed input; a failed import leaves the database as it was.
 */
export async function importFile(pool: pg.Pool, opts: ImportOptions): Promise<ImportResult> {
  const limits = resolveLimits(opts.limits);
  let target: TableName;
  try {
    target = parseTableName(opts.table);
  } catch (err) {
    throw new ImportError((err as Error).message);
  }
  const keyColumn = opts.keyColumn ?? 'id';
  if (!IDENTIFIER.test(keyColumn)) {
    throw new ImportError(`invalid key column name ${JSON.stringify(keyColumn)}: use letters, digits and _`);
  }
  const format = formatOf(opts.file);
  await checkFileSize(opts.file, limits);

  const plan = await validateFile(opts.file, format, opts, limits);
  // The record of imports (imported_tables) is one of shipbatch's own tables: a database no worker has started on
  // yet gets them here, as a worker would make them (idempotent, serialised by an advisory lock). Only a file that
  // passed validation gets this far, so a bad file still changes nothing.
  await migrate(pool);
  const keyIndex = plan.names.indexOf(keyColumn);
  const addedKey = keyIndex < 0;

  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const existing = await findRelation(client, opts.table);
    if (existing) {
      if (!opts.replace) {
        throw new ImportError(`table "${opts.table}" already exists: use --replace to overwrite it`);
      }
      if (existing.kind !== 'table') {
        throw new ImportError(
          `"${opts.table}" is a ${existing.kind}, not a table: --replace only replaces tables`,
        );
      }
      await client.query(`DROP TABLE ${existing.sql}`);
    }
    const tableSql = existing ? existing.sql : quoteTable(target);
    const columnsSql = plan.names.map((n, i) => `${quoteIdent(n)} ${PG_TYPES[plan.types[i] ?? 'text']}`);
    if (addedKey) columnsSql.unshift(`${quoteIdent(keyColumn)} bigint GENERATED BY DEFAULT AS IDENTITY`);
    await client.query(`CREATE TABLE ${tableSql} (${columnsSql.join(', ')})`);

    const loaded = await loadRows(client, tableSql, plan, opts, limits, format, addedKey);
    // The key constraint after the load: one index build instead of one insert each, and a duplicate or
    // missing key is reported once, with its value.
    await client.query(`ALTER TABLE ${tableSql} ADD PRIMARY KEY (${quoteIdent(keyColumn)})`);
    if (addedKey) {
      await client.query(
        `ALTER TABLE ${tableSql} ALTER COLUMN ${quoteIdent(keyColumn)} RESTART WITH ${loaded + 1}`,
      );
    }
    const created = await findRelation(
      client,
      existing ? `${existing.schema}.${existing.table}` : opts.table,
    );
    if (!created) throw new Error(`table "${opts.table}" not found after creating it`);
    // In the same transaction: a failed import records nothing.
    await recordImportedTable(client, created.schema, created.table, opts.file);
    await client.query('COMMIT');
    return {
      table: `${created.schema}.${created.table}`,
      rows: loaded,
      columns: plan.names.map((name, i) => ({
        name,
        header: plan.headers[i] ?? name,
        type: plan.types[i] ?? 'text',
      })),
      keyColumn,
      addedKey,
    };
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true;
    }
    throw pgErrorToImportError(err, opts.table, keyColumn);
  } finally {
    client.release(broken);
  }
}

async function loadRows(
  client: pg.PoolClient,
  tableSql: string,
  plan: Plan,
  opts: ImportOptions,
  limits: ImportLimits,
  format: Format,
  addedKey: boolean,
): Promise<number> {
  const cols = plan.names.map(quoteIdent);
  const casts = plan.types.map((t, i) => `$${i + 1}::${PG_TYPES[t]}[]`);
  if (addedKey) {
    cols.unshift(quoteIdent(opts.keyColumn ?? 'id'));
    casts.unshift(`$${plan.names.length + 1}::bigint[]`);
  }
  const sql = `INSERT INTO ${tableSql} (${cols.join(', ')}) SELECT * FROM unnest(${casts.join(', ')})`;
  let batch: (string | null)[][] = plan.names.map(() => []);
  let keys: string[] = [];
  let batchRows = 0;
  let batchChars = 0;
  let total = 0;
  const flush = async (): Promise<void> => {
    if (batchRows === 0) return;
    await client.query(sql, addedKey ? [...batch, keys] : batch);
    batch = plan.names.map(() => []);
    keys = [];
    batchRows = 0;
    batchChars = 0;
  };
  let header = true;
  for await (const rec of records(opts.file, format, opts, limits)) {
    if (header) {
      header = false;
      continue;
    }
    if (total >= limits.maxRows)
      throw new ImportError(`${opts.file}: more than ${limits.maxRows} rows, the import limit`);
    // The file may have changed since pass 1: every record is checked again.
    checkRecord(opts.file, rec, plan.headers, plan.names, limits);
    for (let i = 0; i < plan.names.length; i++) {
      const v = rec.values[i] ?? null;
      let value: string | null = null;
      if (v !== null && v !== '') {
        const c = convert(v, plan.types[i] ?? 'text');
        if (!c.ok) {
          throw new ImportError(
            `${opts.file}, line ${rec.line}, column ${i + 1} (${plan.names[i]}): ${shown(v)} ${c.why} (the file changed during the import?)`,
            rec.line,
            plan.names[i],
          );
        }
        value = c.value;
        batchChars += value.length;
      }
      batch[i]?.push(value);
    }
    total++;
    keys.push(String(total));
    batchRows++;
    if (batchRows >= BATCH_ROWS || batchChars >= BATCH_CHARS) await flush();
  }
  await flush();
  return total;
}
