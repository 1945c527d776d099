/**
 * Which tables an agent may name as `source_table`: an allow-list, by default the tables `shipbatch import`
 * made (a table the database role merely can read is not offered to an agent, whose preview would show
 * whatever the template puts in it). Names are compared on the relation they resolve to in the catalog, not
 * as text, so `orders`, `public.orders` and `"orders"` are one table, while a same-named table in another
 * schema, one found first on the search_path, or one differing only in case is another. The batch is then
 * started with the resolved `schema.table`, so the worker reads that very relation whatever its own
 * search_path.
 */
import type pg from 'pg';
import {
  IDENTIFIER,
  quoteTable,
  requireRelation,
  SourceError,
  type TableName,
} from '../inputs/source/identifiers';
import { importedTables } from '../inputs/source/imported-tables';
import { ToolError } from './errors';

/** How many allowed tables an error lists before "… and N more". */
const LISTED = 10;

/**
 * Split `table` / `schema.table` where each part is a plain identifier or one in double quotes (`"Orders"`,
 * `""` for a quote). Names are exact as given, quoted or not (shipbatch's convention: `Orders` is the
 * table named Orders). Null unless both parts are plain identifiers once unquoted.
 */
export function splitTableName(text: string): TableName | null {
  const parts: string[] = [];
  let i = 0;
  const s = text.trim();
  for (;;) {
    let part = '';
    if (s[i] === '"') {
      for (i++; ; i++) {
        if (i >= s.length) return null;
        if (s[i] === '"') {
          if (s[i + 1] !== '"') break;
          i++;
        }
        part += s[i];
      }
      i++;
    } else {
      while (i < s.length && s[i] !== '.') part += s[i++];
    }
    if (!IDENTIFIER.test(part)) return null;
    parts.push(part);
    if (i >= s.length) break;
    if (s[i] !== '.' || parts.length === 2) return null;
    i++;
  }
  return parts.length === 2 ? { schema: parts[0], table: parts[1]! } : { table: parts[0]! };
}

/** `schema.table` / `table`, unquoted (the form batch inputs take). */
export function tableText(t: TableName): string {
  return t.schema ? `${t.schema}.${t.table}` : t.table;
}

/**
 * A `--tables` value: names separated by commas or white space, each as {@link splitTableName} reads it.
 * Throws an Error naming the first bad entry.
 */
export function parseTableList(values: readonly string[]): TableName[] {
  const out: TableName[] = [];
  for (const entry of values.flatMap((v) => v.split(/[\s,]+/)).filter((e) => e !== '')) {
    const t = splitTableName(entry);
    if (!t) {
      throw new Error(
        `invalid table name ${JSON.stringify(entry)}: use table or schema.table, each a plain identifier (letters, digits, _) or one in double quotes`,
      );
    }
    out.push(t);
  }
  if (out.length === 0) throw new Error('no table given; name one or more, e.g. --tables public.orders');
  return out;
}

/** The allowed relations as `schema.table` (each resolved in the catalog; names that resolve to nothing left out). */
async function allowedRelations(pool: pg.Pool, tables: readonly TableName[] | undefined): Promise<string[]> {
  if (tables === undefined) return importedTables(pool);
  // to_regclass on our own quoted text: exact case, search_path for an unqualified name, null if absent.
  // Functions and operators pinned to pg_catalog: search_path must only find the tables.
  const { rows } = await pool.query<{ name: string }>(
    `SELECT DISTINCT pg_catalog.concat(n.nspname, '.', c.relname) AS name
       FROM pg_catalog.unnest(CAST($1 AS pg_catalog.text[])) AS e(name)
       JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(e.name)
       JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
      ORDER BY 1`,
    [tables.map(quoteTable)],
  );
  return rows.map((r) => r.name);
}

/**
 * Check `requested` (a `source_table`) against the allow-list (`tables`, or the imported tables when
 * undefined) and return the relation it resolves to as `schema.table`, the name the batch must be started
 * with. Throws a {@link ToolError} naming `source_table`, the table and how to allow it.
 */
export async function allowedSource(
  pool: pg.Pool,
  requested: string,
  tables: readonly TableName[] | undefined,
): Promise<string> {
  let rel;
  try {
    rel = await requireRelation(pool, requested);
  } catch (err) {
    if (err instanceof SourceError) throw new ToolError(`source_table: ${err.message}`);
    throw err;
  }
  const resolved = `${rel.schema}.${rel.table}`;
  // Both parts plain identifiers: then `schema.table` names one relation only, and a batch can read it.
  if (!IDENTIFIER.test(rel.schema)) {
    throw new ToolError(
      `source_table: "${requested}" resolves to a table in schema ${JSON.stringify(rel.schema)}, which a batch cannot name; give the table as schema.table`,
    );
  }
  const allowed = await allowedRelations(pool, tables);
  if (allowed.includes(resolved)) return resolved;
  const shown =
    allowed.length === 0
      ? 'none'
      : allowed.slice(0, LISTED).join(', ') +
        (allowed.length > LISTED ? ` and ${allowed.length - LISTED} more` : '');
  const which =
    tables === undefined ? 'the tables `shipbatch import` made' : 'the tables of shipbatch-mcp --tables';
  throw new ToolError(
    `source_table: "${requested}" (${resolved}) is not a table this server lets agents use (allowed: ${which}: ${shown}). ` +
      `Ask the user: the operator can allow it by starting shipbatch-mcp with --tables ${resolved} ` +
      `(a list that replaces the default of the imported tables), or import the orders with \`shipbatch import FILE --table T\`.`,
  );
}
