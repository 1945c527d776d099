/**
 * The reading side of `shipbatch import`: the file's format from its name, its size against the limit, the
 * record stream over csv-reader / xlsx-reader, and the checks every record passes (field count, NUL bytes, cell
 * length) in both passes.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { csvRecords } from './csv-reader';
import { ImportError, type ImportLimits, type RecordAt } from './import-limits';
import type { ImportOptions } from './import-options';
import { xlsxRecords } from './xlsx-reader';

/** The formats an import reads: `.csv`/`.txt`, `.tsv`/`.tab`, `.xlsx`. */
export type Format = 'csv' | 'tsv' | 'xlsx';

/** The format of `file` by its extension; an ImportError for `.xls` and anything else. */
export function formatOf(file: string): Format {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv' || ext === '.txt') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.xlsx') return 'xlsx';
  if (ext === '.xls')
    throw new ImportError(`${file}: old .xls files are not supported; save it as .xlsx or .csv`);
  throw new ImportError(`${file}: unsupported file type "${ext || '(none)'}"; use .csv, .tsv or .xlsx`);
}

/** Refuses a path that is not a readable regular file, or one larger than the import limit. */
export async function checkFileSize(file: string, limits: ImportLimits): Promise<void> {
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new ImportError(`${file}: not a regular file`);
    size = st.size;
  } catch (err) {
    if (err instanceof ImportError) throw err;
    throw new ImportError(
      `${file}: can't read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  if (size > limits.maxFileBytes) {
    throw new ImportError(`${file}: ${size} bytes, more than the import limit of ${limits.maxFileBytes}`);
  }
}

/** The records of the file, header first, each with its line. */
export function records(
  file: string,
  format: Format,
  opts: ImportOptions,
  limits: ImportLimits,
): AsyncGenerator<RecordAt> {
  if (format === 'xlsx') return xlsxRecords(file, opts.sheet, limits);
  return csvRecords(file, format === 'tsv' ? '\t' : ',', limits);
}

/** One data record against the header: nothing right of the last header column, no NUL byte, no cell over the limit. */
export function checkRecord(
  file: string,
  rec: RecordAt,
  headers: string[],
  names: string[],
  limits: ImportLimits,
): void {
  if (rec.values.length > headers.length) {
    // CSV field counts are checked by the parser; XLSX rows may carry cells right of the header.
    const extra = rec.values.findIndex((v, i) => i >= headers.length && v !== null && v !== '');
    if (extra >= 0) {
      throw new ImportError(
        `${file}, line ${rec.line}, column ${extra + 1}: a value right of the last header column (${headers.length} columns)`,
        rec.line,
      );
    }
  }
  rec.values.forEach((v, i) => {
    if (v === null) return;
    if (v.includes('\0')) {
      throw new ImportError(
        `${file}, line ${rec.line}, column ${i + 1} (${names[i]}): contains a NUL byte, which PostgreSQL text cannot store`,
        rec.line,
        names[i],
      );
    }
    if (v.length > limits.maxCellChars) {
      throw new ImportError(
        `${file}, line ${rec.line}, column ${i + 1} (${names[i]}): ${v.length} characters, more than the limit of ${limits.maxCellChars}`,
        rec.line,
        names[i],
      );
    }
  });
}
