/**
 * The record of tables `shipbatch import` made (`imported_tables`, migration 004): written in the import's own
 * transaction, so a failed import records nothing, and read by the agent server as its default allow-list of
 * batch sources.
 */
import path from 'node:path';
import type pg from 'pg';

/** Record `schema.table` as made by an import of `file` (its base name only: paths stay on the importer's machine). */
export async function recordImportedTable(
  client: pg.ClientBase,
  schema: string,
  table: string,
  file: string,
): Promise<void> {
  await client.query(
    `INSERT INTO imported_tables (schema_name, table_name, file_name) VALUES ($1, $2, $3)
     ON CONFLICT (schema_name, table_name) DO UPDATE SET file_name = EXCLUDED.file_name, imported_at = now()`,
    [schema, table, path.basename(file)],
  );
}

/** Tables imported by shipbatch that still exist, as `schema.table`, sorted. */
export async function importedTables(db: pg.Pool | pg.ClientBase): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    // Operators pinned to pg_catalog: a role able to create objects in a schema on the search_path must not be
    // able to redefine them for this read (CVE-2018-1058).
    `SELECT pg_catalog.concat(i.schema_name, '.', i.table_name) AS name
       FROM imported_tables i
       JOIN pg_catalog.pg_namespace n ON n.nspname OPERATOR(pg_catalog.=) i.schema_name
       JOIN pg_catalog.pg_class c ON c.relnamespace OPERATOR(pg_catalog.=) n.oid
            AND c.relname OPERATOR(pg_catalog.=) i.table_name
            AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p']::"char"[])
      ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}
