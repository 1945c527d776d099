/**
 * Reading the user's source table (docs/design.md §3 step 1, §7): describe it, count it, read it page by page with
 * keyset pagination inside a READ ONLY transaction under a statement timeout, and write tracking numbers back.
 *
 * Values are made JSON-safe here, once, because rows go into the ledger as jsonb and into templates:
 * - int2/int4/float4/float8 → numbers; int8 → a number when it is a safe integer, else its exact text;
 * - numeric → its exact text ("12.50"): money and weights must not pass through a binary float;
 * - date → "YYYY-MM-DD"; timestamp → "YYYY-MM-DDTHH:MM:SS[.ffffff]"; timestamptz → ISO 8601 in UTC ("…Z");
 * - bool → boolean; json/jsonb → parsed; everything else (uuid, arrays, bytea, intervals…) → PostgreSQL's text.
 * The key is always returned as text (`key::text`, TimeZone UTC), which is also what the next page compares to.
 *
 * Every operator, function and type in the SQL built here is pinned to pg_catalog (`OPERATOR(pg_catalog.>)`),
 * so nothing a role put earlier in the reader's search_path can be called by a read; the filter's SQL is
 * emitted the same way (filter.ts). The settings that change how a value reads or prints (TimeZone,
 * DateStyle, IntervalStyle, extra_float_digits) are pinned for each transaction, so a retried read selects
 * the same rows whatever the role's or session's defaults say.
 */
import type pg from 'pg';
import { validateFilter, FilterError, type ValidatedFilter } from './filter';
import { quoteIdent, requireColumn, requireRelation, SourceError, type Relation } from './identifiers';

/** A pg.Pool, or one idle pg.PoolClient (not inside a transaction: these functions open their own). */
export type Db = pg.Pool | pg.PoolClient;

/** What describeSource tells about a source. */
export interface SourceDescription {
  /** `schema.table` as found in the catalog. */
  table: string;
  keyColumn: string;
  columns: { name: string; type: string }[];
}

/** One page of source rows. `lastKey` is null when the page is empty (the source is exhausted). */
export interface SourcePage {
  rows: { key: string; data: Record<string, unknown> }[];
  lastKey: string | null;
}

/** Default statement timeout of source reads (docs/design.md §7); overridable per call. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
/** Most rows one page may hold: a page is kept in memory and heartbeated as a unit. */
export const MAX_PAGE_SIZE = 10_000;

/** Key types keyset pagination works with (total order, stable text form). */
const KEY_TYPES =
  /^(smallint|integer|bigint|numeric(\(.*\))?|text|character varying(\(\d+\))?|character(\(\d+\))?|uuid|date|timestamp(\(\d\))? (with|without) time zone)$/;

const OID = {
  int8: 20,
  int2: 21,
  int4: 23,
  float4: 700,
  float8: 701,
  bool: 16,
  json: 114,
  jsonb: 3802,
  numeric: 1700,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  oid: 26,
} as const;

const identity = (s: string): string => s;

function parseInt8(s: string): number | string {
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : s;
}

function parseTimestamptz(s: string): string {
  // With TimeZone = UTC, PostgreSQL prints "2024-01-02 03:04:05.678+00"; infinity stays as text.
  const m = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)\+00$/.exec(s);
  return m ? `${m[1]}T${m[2]}Z` : s;
}

/** Type parsers for source reads: see the module comment for the choices. */
export const sourceTypes: pg.CustomTypesConfig = {
  getTypeParser(oid: number): (value: string) => unknown {
    switch (oid) {
      case OID.int2:
      case OID.int4:
      case OID.oid:
        return (s) => Number.parseInt(s, 10);
      case OID.float4:
      case OID.float8:
        // NaN and ±Infinity are not JSON: keep their text.
        return (s) => (Number.isFinite(Number(s)) ? Number(s) : s);
      case OID.int8:
        return parseInt8;
      case OID.bool:
        return (s) => s === 't';
      case OID.json:
      case OID.jsonb:
        return (s) => JSON.parse(s) as unknown;
      case OID.timestamp:
        return (s) => s.replace(' ', 'T');
      case OID.timestamptz:
        return parseTimestamptz;
      default:
        return identity;
    }
  },
};

function isPoolClient(db: Db): db is pg.PoolClient {
  return typeof (db as Partial<pg.PoolClient>).release === 'function';
}

/**
 * Settings pinned (locally) for every transaction of this module, with PostgreSQL's defaults except TimeZone:
 * a filter's `created::date`, `due = '03/04/2024'` or `amount::text` and the text of the values returned then
 * mean the same on every connection.
 */
const PINNED_SETTINGS: Record<string, string> = {
  TimeZone: 'UTC',
  DateStyle: 'ISO, MDY',
  IntervalStyle: 'postgres',
  extra_float_digits: '1',
};
const PIN_SQL =
  "SELECT pg_catalog.set_config('statement_timeout', $1, true), " +
  Object.entries(PINNED_SETTINGS)
    .map(([name, value]) => `pg_catalog.set_config('${name}', '${value}', true)`)
    .join(', ');

/** Run `fn` in one transaction on one connection, with a local statement timeout and the pinned settings. */
async function inTransaction<T>(
  db: Db,
  opts: { readOnly: boolean; statementTimeoutMs: number },
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = isPoolClient(db) ? db : await db.connect();
  let broken = false;
  try {
    await client.query(opts.readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
    await client.query(PIN_SQL, [String(Math.max(1, Math.floor(opts.statementTimeoutMs)))]);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true; // the connection is gone: don't hand it back to the pool
    }
    throw err;
  } finally {
    if (!isPoolClient(db)) client.release(broken);
  }
}

/** Map a PostgreSQL error raised by the user's filter or a timeout to a clear, typed error. */
function explain(err: unknown, ctx: { table: string; filter?: ValidatedFilter; timeoutMs: number }): unknown {
  const code = (err as { code?: unknown }).code;
  const message = (err as Error).message;
  if (code === '57014') {
    return new SourceError(
      `reading ${ctx.table} took longer than the statement timeout (${ctx.timeoutMs} ms)` +
        (ctx.filter ? ` with filter ${JSON.stringify(ctx.filter.text)}` : '') +
        `: narrow the filter, add an index, or raise SHIPBATCH_DB_STATEMENT_TIMEOUT`,
      { cause: err },
    );
  }
  // Type errors, bad literals, division by zero…: classes 22 (data exception) and 42 (syntax/semantics).
  // The filter ran as emitted, with pg_catalog. before each operator and function: the user wrote none.
  if (ctx.filter && typeof code === 'string' && /^(22|42)/.test(code)) {
    const said = message.replace(/\bpg_catalog\./g, '');
    return new FilterError(`the filter ${JSON.stringify(ctx.filter.text)} failed in PostgreSQL: ${said}`, {
      cause: err,
    });
  }
  return err;
}

async function resolve(
  db: Db,
  table: string,
  keyColumn: string | undefined,
  filter: string | undefined,
): Promise<{ rel: Relation; key?: string; filter?: ValidatedFilter }> {
  const rel = await requireRelation(db, table);
  let key: string | undefined;
  if (keyColumn !== undefined) {
    key = requireColumn(rel, keyColumn, 'key column');
    const type = rel.columns.find((c) => c.name === key)?.type ?? '';
    if (!KEY_TYPES.test(type)) {
      throw new SourceError(
        `key column "${key}" has type ${type}, which can't order rows: use an integer, text, uuid, date or timestamp column`,
      );
    }
  }
  const hasFilter = filter !== undefined && filter.trim() !== '';
  const validated = hasFilter
    ? await validateFilter(
        filter,
        rel.columns.map((c) => c.name),
      )
    : undefined;
  return { rel, key, filter: validated };
}

/**
 * Describe a source: its real columns and types, with the key column checked. Throws SourceError for an
 * unknown table or key column (naming the choices) or a key column whose type can't order rows.
 */
export async function describeSource(db: Db, table: string, keyColumn: string): Promise<SourceDescription> {
  const { rel, key } = await resolve(db, table, keyColumn, undefined);
  return { table: `${rel.schema}.${rel.table}`, keyColumn: key as string, columns: rel.columns };
}

/**
 * Check a filter against the source before any row is read: the allow-list (FilterError naming what was
 * refused), then PostgreSQL's own type checks via EXPLAIN (no rows are read). Returns the validated filter.
 */
export async function checkSourceFilter(
  db: Db,
  opts: { table: string; filter: string; statementTimeoutMs?: number },
): Promise<ValidatedFilter> {
  const { rel, filter } = await resolve(db, opts.table, undefined, opts.filter);
  if (!filter) throw new FilterError('the filter is empty');
  const timeoutMs = opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  try {
    await inTransaction(db, { readOnly: true, statementTimeoutMs: timeoutMs }, (c) =>
      c.query(`EXPLAIN SELECT 1 FROM ${rel.sql} WHERE ${filter.sql}`),
    );
  } catch (err) {
    throw explain(err, { table: opts.table, filter, timeoutMs });
  }
  return filter;
}

/** Options of readSourcePage. */
export interface ReadPageOptions {
  table: string;
  keyColumn: string;
  filter?: string;
  /** The previous page's lastKey; null/undefined for the first page. */
  afterKey?: string | number | null;
  limit: number;
  statementTimeoutMs?: number;
}

/**
 * Read one page of the source: rows with key > afterKey matching the filter, in key order. Runs in a READ ONLY
 * transaction with a statement timeout. Rows whose key is NULL are never returned (see countSource).
 * A key that is not unique is detected (the page reads one row ahead) and refused: keyset paging would skip rows.
 */
export async function readSourcePage(db: Db, opts: ReadPageOptions): Promise<SourcePage> {
  if (!Number.isInteger(opts.limit) || opts.limit < 1 || opts.limit > MAX_PAGE_SIZE) {
    throw new SourceError(
      `page size must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${String(opts.limit)}`,
    );
  }
  const { rel, key, filter } = await resolve(db, opts.table, opts.keyColumn, opts.filter);
  // Qualified: the select list repeats the key column, so a bare name would be ambiguous in ORDER BY.
  const k = `t.${quoteIdent(key as string)}`;
  const params: unknown[] = [];
  const where = [`${k} IS NOT NULL`];
  if (filter) where.push(filter.sql);
  if (opts.afterKey !== undefined && opts.afterKey !== null) {
    params.push(String(opts.afterKey));
    where.push(`${k} OPERATOR(pg_catalog.>) $1`);
  }
  params.push(opts.limit + 1);
  const sql =
    `SELECT CAST(${k} AS pg_catalog.text), t.* FROM ${rel.sql} AS t WHERE ${where.join(' AND ')} ` +
    `ORDER BY ${k} LIMIT $${params.length}`;
  const timeoutMs = opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  let result: pg.QueryArrayResult;
  try {
    result = await inTransaction(db, { readOnly: true, statementTimeoutMs: timeoutMs }, (c) =>
      c.query({ text: sql, values: params, rowMode: 'array', types: sourceTypes }),
    );
  } catch (err) {
    throw explain(err, { table: opts.table, filter, timeoutMs });
  }
  const names = result.fields.slice(1).map((f) => f.name);
  const rows: SourcePage['rows'] = [];
  let previous: string | null = null;
  for (const values of result.rows) {
    const rowKey = values[0] as string;
    if (rowKey === previous) {
      throw new SourceError(
        `key column "${String(key)}" of ${opts.table} is not unique (value ${JSON.stringify(rowKey)} appears more than once): ` +
          `choose a unique key column`,
      );
    }
    previous = rowKey;
    if (rows.length === opts.limit) break; // the look-ahead row: only there to detect a duplicate key
    const data: Record<string, unknown> = {};
    names.forEach((name, i) => {
      data[name] = values[i + 1];
    });
    rows.push({ key: rowKey, data });
  }
  return { rows, lastKey: rows.length > 0 ? (rows[rows.length - 1] as { key: string }).key : null };
}

/**
 * Count the rows the filter selects. `nullKeys` counts those among them whose key is NULL (never read by
 * readSourcePage: a caller should refuse or report them); 0 when no keyColumn is given.
 */
export async function countSource(
  db: Db,
  opts: { table: string; keyColumn?: string; filter?: string; statementTimeoutMs?: number },
): Promise<{ total: number; nullKeys: number }> {
  const { rel, key, filter } = await resolve(db, opts.table, opts.keyColumn, opts.filter);
  const nulls = key ? `pg_catalog.count(*) FILTER (WHERE ${quoteIdent(key)} IS NULL)` : '0';
  const timeoutMs = opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  try {
    const r = await inTransaction(db, { readOnly: true, statementTimeoutMs: timeoutMs }, (c) =>
      c.query<{ total: string; nulls: string }>(
        `SELECT CAST(pg_catalog.count(*) AS pg_catalog.text) AS total, CAST(${nulls} AS pg_catalog.text) AS nulls ` +
          `FROM ${rel.sql} AS t` +
          (filter ? ` WHERE ${filter.sql}` : ''),
      ),
    );
    const row = r.rows[0];
    return { total: Number(row?.total ?? 0), nullKeys: Number(row?.nulls ?? 0) };
  } catch (err) {
    throw explain(err, { table: opts.table, filter, timeoutMs });
  }
}

/** Options of writeBackTracking. Keys are the text keys readSourcePage returned. */
export interface WriteBackOptions {
  table: string;
  keyColumn: string;
  column: string;
  rows: { key: string; trackingNumber: string }[];
  statementTimeoutMs?: number;
}

/** Options of writeBackColumn: one text value per key, and what the column and the values are (messages). */
export interface WriteBackColumnOptions {
  table: string;
  keyColumn: string;
  column: string;
  rows: { key: string; value: string }[];
  /** How messages name the column and the values: `write-back column`, `tracking numbers`. */
  names: { column: string; values: string };
  statementTimeoutMs?: number;
}

const TEXT_TYPES = /^(text|character varying(\(\d+\))?|character(\(\d+\))?)$/;
const WRITE_BACK_CHUNK = 5_000;

/**
 * Write tracking numbers back into `column` of the source, matched on the key's text form (the same form
 * readSourcePage returned). Idempotent: rows that already hold the value are not touched. One transaction.
 * Returns how many rows changed and how many keys matched no row.
 */
export function writeBackTracking(
  db: Db,
  opts: WriteBackOptions,
): Promise<{ updated: number; missing: number }> {
  return writeBackColumn(db, {
    ...opts,
    rows: opts.rows.map((r) => ({ key: r.key, value: r.trackingNumber })),
    names: { column: 'write-back column', values: 'tracking numbers' },
  });
}

/**
 * Write a text value per key into `column` of the source (a table, the column text or varchar, both checked
 * against the catalog first), matched on the key's text form. Idempotent: rows that already hold their value
 * are not touched. One transaction. Returns how many rows changed and how many keys matched no row.
 */
export async function writeBackColumn(
  db: Db,
  opts: WriteBackColumnOptions,
): Promise<{ updated: number; missing: number }> {
  const { rel, key } = await resolve(db, opts.table, opts.keyColumn, undefined);
  const column = requireColumn(rel, opts.column, opts.names.column);
  const type = rel.columns.find((c) => c.name === column)?.type ?? '';
  if (!TEXT_TYPES.test(type)) {
    throw new SourceError(`${opts.names.column} "${column}" has type ${type}; it must be text or varchar`);
  }
  if (rel.kind !== 'table' && rel.kind !== 'partitioned table') {
    throw new SourceError(
      `can't write ${opts.names.values} back into ${rel.kind} ${opts.table}: it is not a table`,
    );
  }
  const k = quoteIdent(key as string);
  const c = quoteIdent(column);
  const keyText = `CAST(t.${k} AS pg_catalog.text)`;
  let updated = 0;
  let matched = 0;
  await inTransaction(
    db,
    { readOnly: false, statementTimeoutMs: opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS },
    async (client) => {
      for (let i = 0; i < opts.rows.length; i += WRITE_BACK_CHUNK) {
        const chunk = opts.rows.slice(i, i + WRITE_BACK_CHUNK);
        const keys = chunk.map((r) => r.key);
        const values = chunk.map((r) => r.value);
        const r = await client.query<{ matched: string; updated: string }>(
          // v.val is never NULL (the values are strings): `= … IS NOT TRUE` is IS DISTINCT FROM.
          `WITH v AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]),
                                             pg_catalog.unnest($2::pg_catalog.text[])) AS v(k, val)),
                u AS (UPDATE ${rel.sql} AS t SET ${c} = v.val FROM v
                       WHERE ${keyText} OPERATOR(pg_catalog.=) v.k
                         AND (t.${c} OPERATOR(pg_catalog.=) v.val) IS NOT TRUE RETURNING 1)
           SELECT CAST((SELECT pg_catalog.count(*) FROM ${rel.sql} AS t JOIN v
                          ON ${keyText} OPERATOR(pg_catalog.=) v.k) AS pg_catalog.text) AS matched,
                  CAST((SELECT pg_catalog.count(*) FROM u) AS pg_catalog.text) AS updated`,
          [keys, values],
        );
        matched += Number(r.rows[0]?.matched ?? 0);
        updated += Number(r.rows[0]?.updated ?? 0);
      }
    },
  );
  return { updated, missing: opts.rows.length - matched };
}

/**
 * A write-back error no retry fixes: a bad column (SourceError), or PostgreSQL's data (22), constraint (23)
 * or schema (42) classes. Anything else (a timeout, a lost connection) may pass: retry.
 */
export function isDefinitiveWriteBackError(err: unknown): boolean {
  if (err instanceof SourceError) return true;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|42)/.test(code);
}
