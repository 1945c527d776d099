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
import { IDENTIFIER, parseTableName, type TableName } from '../../../inputs/source/identifiers';
import { migrate } from '../../../db/migrate';
import { ImportError, resolveLimits } from './import-limits';
import type { ImportOptions, ImportResult } from './import-options';
import { validateFile } from './infer';
import { loadTable } from './load';
import { checkFileSize, formatOf } from './read';

export { sanitizeColumnName } from './infer';
export { DEFAULT_IMPORT_LIMITS, ImportError, type ImportLimits } from './import-limits';
export type { ImportColumnType, ImportOptions, ImportResult } from './import-options';

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
  return loadTable(pool, opts, target, keyColumn, plan, format, limits);
}
