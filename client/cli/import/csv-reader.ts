/**
 * CSV/TSV records for `shipbatch import`, streamed with csv-parse. Memory stays bounded whatever the file: a
 * field and a record are bounded in characters by the parser (`max_record_size`), and the number of fields of a
 * record by a counter in front of it (csv-parse counts no empty field, so a line of 50 M commas would otherwise
 * become 50 M empty strings before any check could see it).
 */
import { createReadStream } from 'node:fs';
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import { parse as parseCsv, type CsvError, type Options as CsvOptions, type Parser } from 'csv-parse';
import { ImportError, type ImportLimits, type RecordAt } from './import-limits';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Passes the bytes through, counting the fields of each record (delimiters outside double quotes), and fails
 * as soon as one has more than `max`. Its view of quoting matches the parser's on every well-formed prefix
 * (a quote opens a field, `""` inside one is a quote, a quote closes it); where they could differ the parser
 * has already failed on the stray quote.
 */
class FieldCounter extends Transform {
  private fields = 1;
  private quoted = false;
  private line = 1;

  constructor(
    private readonly file: string,
    private readonly delimiter: number,
    private readonly max: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const { delimiter, max } = this;
    let { fields, quoted, line } = this;
    const n = chunk.length;
    let quote = chunk.indexOf(QUOTE);
    if (quote < 0) quote = n;
    for (let i = 0; i < n;) {
      if (!quoted && quote > i) {
        // A whole line before the next quote, too short to hold more than `max` fields: skipped natively.
        const lf = chunk.indexOf(LF, i);
        if (lf >= 0 && lf < quote && fields + (lf - i) <= max) {
          fields = 1;
          line++;
          i = lf + 1;
          continue;
        }
      }
      const b = chunk[i];
      if (b === QUOTE) {
        quoted = !quoted;
        quote = chunk.indexOf(QUOTE, i + 1);
        if (quote < 0) quote = n;
      } else if (b === LF) {
        line++;
        if (!quoted) fields = 1;
      } else if (!quoted) {
        if (b === delimiter) {
          if (++fields > max) {
            done(
              new ImportError(`${this.file}, line ${line}: more than ${max} columns, the column limit`, line),
            );
            return;
          }
        } else if (b === CR) fields = 1;
      }
      i++;
    }
    this.fields = fields;
    this.quoted = quoted;
    this.line = line;
    done(null, chunk);
  }
}

/** The file through the field counter into csv-parse; any failure destroys all three. */
function parserOver(file: string, delimiter: string, limits: ImportLimits, options: CsvOptions): Parser {
  const parser = parseCsv({ bom: true, delimiter, max_record_size: limits.maxRecordChars, ...options });
  pipeline(
    createReadStream(file),
    new FieldCounter(file, delimiter.charCodeAt(0), limits.maxColumns),
    parser,
    () => {
      // Errors reach the reader through the parser, which pipeline destroys with them.
    },
  );
  return parser;
}

function csvErrorToImportError(
  file: string,
  err: CsvError,
  header: string[] | undefined,
  limits: ImportLimits,
): ImportError {
  const e = err as CsvError & { lines?: number; column?: number | string; index?: number };
  const line = e.lines;
  const colIndex = typeof e.index === 'number' ? e.index : undefined;
  const colName = colIndex !== undefined && header ? header[colIndex] : undefined;
  const where = `${file}, line ${line ?? '?'}`;
  switch (e.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return new ImportError(`${where}: a quoted field is never closed (unterminated quote)`, line);
    case 'CSV_INVALID_CLOSING_QUOTE':
      return new ImportError(
        `${where}, column ${colIndex !== undefined ? colIndex + 1 : '?'}${colName ? ` (${colName})` : ''}: ` +
          `unexpected character after a closing quote (a quote inside a quoted field must be doubled: "")`,
        line,
        colName,
      );
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH': {
      const got = (e as { record?: unknown[] }).record?.length;
      return new ImportError(
        `${where}: expected ${header?.length ?? '?'} fields like the header, got ${got ?? '?'}`,
        line,
      );
    }
    case 'CSV_MAX_RECORD_SIZE':
      return new ImportError(
        `${where}: the record is larger than the limit (cells of at most ${limits.maxCellChars} characters)`,
        line,
      );
    default:
      return new ImportError(`${where}: ${e.message}`, line);
  }
}

/** Just the first record of a CSV file. */
async function csvHeader(
  file: string,
  delimiter: string,
  limits: ImportLimits,
): Promise<string[] | undefined> {
  const parser = parserOver(file, delimiter, limits, { to: 1, relax_column_count: true });
  try {
    for await (const record of parser as AsyncIterable<string[]>) return record;
    return undefined;
  } finally {
    parser.destroy();
  }
}

/** The records of a CSV (`,`) or TSV (`\t`) file, with their line numbers. */
export async function* csvRecords(
  file: string,
  delimiter: string,
  limits: ImportLimits,
): AsyncGenerator<RecordAt> {
  const parser = parserOver(file, delimiter, limits, {
    info: true,
    relax_column_count: false,
    skip_empty_lines: true,
  });
  let header: string[] | undefined;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      header ??= item.record;
      yield { line: item.info.lines, values: item.record };
    }
  } catch (err) {
    if (err instanceof ImportError) throw err;
    if ((err as { code?: unknown }).code === 'ENOENT') throw new ImportError(`${file}: no such file`);
    if (
      typeof (err as { code?: unknown }).code === 'string' &&
      String((err as CsvError).code).startsWith('CSV_')
    ) {
      // A parse error can overtake records already parsed (the header among them): read it again to name columns.
      header ??= await csvHeader(file, delimiter, limits).catch(() => undefined);
      throw csvErrorToImportError(file, err as CsvError, header, limits);
    }
    throw err;
  } finally {
    // Stops the file and the counter too (pipeline), when the caller stopped reading early.
    parser.destroy();
  }
}
