/** `import FILE --table T`: a CSV/TSV/XLSX file into a new PostgreSQL table (docs/design.md §7). */
import { BatchInputError } from '../errors';
import { printJson, say, type Io } from './io';
import { table } from './output';
import { withLedger } from './sessions';

/** The flags of `import`. */
export interface ImportFlags {
  table: string;
  replace?: boolean;
  keyColumn?: string;
  /** Column → type, overriding the inferred one (`--type COLUMN=TYPE`). */
  type?: Record<string, string>;
  sheet?: string;
  json?: boolean;
}

export async function importCommand(file: string, f: ImportFlags, io: Io): Promise<number> {
  const { importFile, ImportError } = await import('./import/import');
  return withLedger(async (pool) => {
    const res = await importFile(pool, {
      file,
      table: f.table,
      replace: f.replace,
      keyColumn: f.keyColumn,
      sheet: f.sheet,
      types: f.type as Record<string, 'text' | 'integer' | 'numeric' | 'boolean' | 'date'> | undefined,
    }).catch((err: unknown) => {
      if (err instanceof ImportError) throw new BatchInputError(err.message, { cause: err });
      throw err;
    });
    if (f.json) printJson(io, res);
    else {
      say(
        io,
        `imported ${res.rows} rows from ${file} into ${res.table}` +
          (res.addedKey
            ? ` (key column ${res.keyColumn} added, numbered 1…${res.rows})`
            : ` (key column ${res.keyColumn})`),
      );
      say(
        io,
        table(
          ['Column', 'Header', 'Type'],
          res.columns.map((col) => [col.name, col.header, col.type]),
        ),
      );
    }
    return 0;
  }, 'shipbatch-import');
}
