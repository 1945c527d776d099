/** The public types of `shipbatch import`: what importFile takes and what it answers. */
import type { ImportLimits } from './import-limits';

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
