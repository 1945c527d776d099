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
import { convert, PG_TYPES, shown, validateFile, type Plan } from './infer';

export { sanitizeColumnName } from './infer';
export { DEFAULT_IMPORT_LIMITS, ImportError, type ImportLimits } from './import-limits';

/** Column types an import can create. `integer` is a PostgreSQL bigint. */
export type ImportColumnType = 'text' | 'integer' | 'numeric' | 'boolean' | 'date';

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
