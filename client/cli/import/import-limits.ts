/**
 * What every reader of `shipbatch import` shares: the error it throws for a bad file, the limits that keep a
 * hostile file from exhausting memory, disk or time, and the record it yields (one row of cells).
 */

/** A bad file or bad import options; `line`/`column` point into the file when known. */
export class ImportError extends Error {
  override readonly name = 'ImportError';
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Limits that keep a hostile file from exhausting memory or the database. Each is checked while the file is
 * read, before the thing it bounds is built: a refused file costs at most about the limit.
 */
export interface ImportLimits {
  maxFileBytes: number;
  maxRows: number;
  maxColumns: number;
  /** Longest cell, in characters. */
  maxCellChars: number;
  /** Longest record (row), in characters, all its cells together. Default 4 × maxCellChars. */
  maxRecordChars: number;
  /** XLSX: most bytes the parts read may unpack to, all together; shared strings count again each time a cell uses them. */
  maxInflatedBytes: number;
  /** XLSX: most bytes a part may unpack to per byte stored, once past 1 MiB (a zip bomb's tell). */
  maxCompressionRatio: number;
  /** XLSX: most entries in the workbook's table of shared strings. */
  maxSharedStrings: number;
  /** XLSX: most bytes (UTF-8) of all shared strings together. */
  maxSharedStringBytes: number;
}

export const DEFAULT_IMPORT_LIMITS: ImportLimits = {
  maxFileBytes: 512 * 1024 * 1024,
  maxRows: 2_000_000,
  maxColumns: 500,
  maxCellChars: 4 * 1024 * 1024,
  maxRecordChars: 16 * 1024 * 1024,
  maxInflatedBytes: 2 * 1024 * 1024 * 1024,
  // Apache POI's default for the same check (ZipSecureFile's minimum inflate ratio of 0.01).
  maxCompressionRatio: 100,
  maxSharedStrings: 4_000_000,
  maxSharedStringBytes: 128 * 1024 * 1024,
};

/** The defaults overridden by `given`; a record holds 4 cells of the cell limit unless told otherwise. */
export function resolveLimits(given: Partial<ImportLimits> | undefined): ImportLimits {
  const limits = { ...DEFAULT_IMPORT_LIMITS, ...given };
  if (given?.maxRecordChars === undefined && given?.maxCellChars !== undefined) {
    limits.maxRecordChars = 4 * given.maxCellChars;
  }
  return limits;
}

/** A cell as read: its text, or null when empty. */
export type Cell = string | null;

/** One record of a file: its line (CSV) or row number (XLSX), and its cells from the first column. */
export interface RecordAt {
  line: number;
  values: Cell[];
}
