/**
 * Table and column names: a strict shape check first (so nothing odd ever reaches SQL text), then existence in
 * the catalog, then double-quoted when SQL is built. Names are case-sensitive as PostgreSQL stores them:
 * an unquoted `Orders` in psql is `orders`; here the name is used exactly as given.
 */
import type pg from 'pg';

/** A source or import problem: unknown table or column, bad name, non-unique key… (shown to the user as is). */
export class SourceError extends Error {
  override readonly name = 'SourceError';
}

/** Letters, digits and `_`, not starting with a digit, at most 63 bytes (PostgreSQL's NAMEDATALEN - 1). */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Double-quote an identifier for SQL text (doubling any `"`, though validated names have none). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Throw unless `name` is a plain identifier; `what` names it in the message ("column", "key column"…). */
export function checkIdentifier(name: unknown, what: string): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new SourceError(
      `invalid ${what} name ${JSON.stringify(name)}: use letters, digits and _ (not starting with a digit, at most 63)`,
    );
  }
  return name;
}

/** A table name as given: `table` or `schema.table`. */
export interface TableName {
  schema?: string;
  table: string;
}

/** Split and check `table` / `schema.table`. */
export function parseTableName(name: unknown): TableName {
  if (typeof name !== 'string') throw new SourceError(`invalid table name ${JSON.stringify(name)}`);
  const parts = name.split('.');
  if (parts.length > 2 || parts.some((p) => !IDENTIFIER.test(p))) {
    throw new SourceError(
      `invalid table name ${JSON.stringify(name)}: use table or schema.table with letters, digits and _`,
    );
  }
  return parts.length === 2 ? { schema: parts[0], table: parts[1] as string } : { table: parts[0] as string };
}

/** `"schema"."table"` or `"table"`. */
export function quoteTable(t: TableName): string {
  return t.schema ? `${quoteIdent(t.schema)}.${quoteIdent(t.table)}` : quoteIdent(t.table);
}

/** A relation found in the catalog: its real schema (resolved through search_path) and columns. */
export interface Relation {
  schema: string;
  table: string;
  kind: 'table' | 'view' | 'materialized view' | 'foreign table' | 'partitioned table';
  /** `"schema"."table"`, for SQL text. */
  sql: string;
  columns: { name: string; type: string }[];
}

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

const KINDS: Record<string, Relation['kind']> = {
  r: 'table',
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
  p: 'partitioned table',
};

/** Look a table or view up in the catalog; null when there is none (or it is not readable as rows). */
export async function findRelation(db: Queryable, name: string): Promise<Relation | null> {
  const t = parseTableName(name);
  // to_regclass on our own quoted text: exact case, search_path honoured for an unqualified name, null if absent.
  // Operators and types pinned to pg_catalog: search_path must only find the table, never an operator.
  const rel = await db.query<{ oid: string; schema: string; table: string; kind: string }>(
    `SELECT CAST(c.oid AS pg_catalog.text) AS oid, n.nspname AS schema, c.relname AS table, c.relkind AS kind
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
      WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass($1)`,
    [quoteTable(t)],
  );
  const row = rel.rows[0];
  const kind = row ? KINDS[row.kind] : undefined;
  if (!row || !kind) return null;
  const cols = await db.query<{ name: string; type: string }>(
    `SELECT a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_catalog.pg_attribute a
      WHERE a.attrelid OPERATOR(pg_catalog.=) CAST($1 AS pg_catalog.oid) AND a.attnum OPERATOR(pg_catalog.>) 0
        AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [row.oid],
  );
  return {
    schema: row.schema,
    table: row.table,
    kind,
    sql: `${quoteIdent(row.schema)}.${quoteIdent(row.table)}`,
    columns: cols.rows,
  };
}

/** Like findRelation, but a missing table is a SourceError naming it. */
export async function requireRelation(db: Queryable, name: string): Promise<Relation> {
  const rel = await findRelation(db, name);
  if (!rel) throw new SourceError(`table or view "${name}" does not exist`);
  return rel;
}

/** Check that `column` is one of the relation's columns; the error lists the choices. */
export function requireColumn(rel: Relation, column: unknown, what = 'column'): string {
  const name = checkIdentifier(column, what);
  if (!rel.columns.some((c) => c.name === name)) {
    throw new SourceError(
      `unknown ${what} "${name}" in ${rel.schema}.${rel.table} (columns: ${rel.columns.map((c) => c.name).join(', ')})`,
    );
  }
  return name;
}
