/**
 * XLSX records for `shipbatch import`, read with a bounded reader of our own (zip-reader + xml-scanner) instead
 * of exceljs, whose streaming reader inflates without bounds and spills a sheet stored before the shared strings
 * to a temporary file. The parts are read in the order the data needs, whatever their order in the zip: the
 * workbook and its relationships (to find the sheet by name), the shared strings (bounded in count, bytes and
 * length each), the styles (only which cell formats are dates), then the sheet's rows one at a time, each cell
 * bounded in characters as its text arrives and each row in columns and characters. Nothing is written to disk.
 *
 * Cell values: shared and inline strings (rich text joined, phonetic runs left out, `_xHHHH_`
 * escapes decoded), numbers, booleans, error codes, dates by their number format (and the workbook's 1904 date
 * system). A formula is never evaluated: its cached result is the data, and one without a cached result is
 * stored as its text (`=A1+1`). Parts the data does not need (external links, macros, drawings) are never read.
 */
import { StringDecoder } from 'node:string_decoder';
import { ImportError, type Cell, type ImportLimits, type RecordAt } from './import-limits';
import { XmlError, XmlScanner, type XmlAttributes, type XmlHandler } from './xml-scanner';
import { unreadable, UnpackBudget, ZipReader, type PartLabel, type ZipEntry } from './zip-reader';

/** Excel's own bounds of a sheet: XFD1048576. */
const MAX_SHEET_ROW = 1_048_576;
const MAX_SHEET_COLUMN = 16_384;
/** More sheets, or longer sheet names, than any workbook needs (Excel names are at most 31 characters). */
const MAX_SHEETS = 4096;
const MAX_SHEET_NAME_CHARS = 255;
/** More cell formats than Excel can hold (64,000). */
const MAX_CELL_FORMATS = 100_000;

/** The relationship types shipbatch follows, in the transitional and the strict namespace. */
const REL_PREFIXES = [
  'http://schemas.openxmlformats.org/officeDocument/2006/relationships/',
  'http://purl.oclc.org/ooxml/officeDocument/relationships/',
];

interface Part {
  file: string;
  zip: ZipReader;
  budget: UnpackBudget;
  limits: ImportLimits;
}

/** Every token of `entry` through `handler`; yields each time the handler pauses the scan. */
async function* scanPart(
  ctx: Part,
  entry: ZipEntry,
  label: PartLabel,
  handler: XmlHandler,
): AsyncGenerator<void> {
  const scanner = new XmlScanner(handler);
  let decoder: StringDecoder | undefined;
  try {
    for await (const bytes of ctx.zip.unpack(entry, label, ctx.budget)) {
      if (!decoder) {
        if (bytes[0] === 0xfe && bytes[1] === 0xff)
          throw new XmlError('UTF-16 big-endian text; save the workbook again');
        decoder = new StringDecoder(bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf16le' : 'utf8');
      }
      scanner.feed(decoder.write(bytes));
      while (scanner.scan()) yield;
    }
    scanner.feed(decoder?.end() ?? '');
    while (scanner.scan()) yield;
    scanner.finish();
  } catch (err) {
    if (err instanceof XmlError) {
      throw new ImportError(`${ctx.file}: ${label.text}: ${err.message}`, undefined, undefined, {
        cause: err,
      });
    }
    throw err;
  }
}

async function readPart(ctx: Part, entry: ZipEntry, label: PartLabel, handler: XmlHandler): Promise<void> {
  for await (const _ of scanPart(ctx, entry, label, handler));
}

/** The part `target` points at from the part `source` (relative to its folder, or absolute); undefined if outside. */
function resolveTarget(source: string, target: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(target);
  } catch {
    decoded = target;
  }
  const segments = decoded.startsWith('/') ? [] : source.split('/').slice(0, -1);
  for (const s of decoded.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (segments.length === 0) return undefined;
      segments.pop();
    } else segments.push(s);
  }
  return segments.join('/');
}

/** The relationships part of `part` (`xl/workbook.xml` → `xl/_rels/workbook.xml.rels`). */
function relsOf(part: string): string {
  const slash = part.lastIndexOf('/');
  return `${part.slice(0, slash + 1)}_rels/${part.slice(slash + 1)}.rels`;
}

interface Relationship {
  /** The last segment of a known relationship type (`worksheet`, `sharedStrings`…), else the whole type. */
  kind: string;
  target: string;
  external: boolean;
}

interface Relationships {
  /** Those whose id was asked for. */
  byId: Map<string, Relationship>;
  /** The first internal one of each kind asked for. */
  byKind: Map<string, Relationship>;
}

/**
 * The relationships of `source` with one of `ids`, and the first internal one of each of `kinds`: what is kept is
 * bounded by what was asked, however long the list.
 */
async function readRelationships(
  ctx: Part,
  source: string,
  ids: ReadonlySet<string>,
  kinds: readonly string[],
): Promise<Relationships> {
  const rels: Relationships = { byId: new Map(), byKind: new Map() };
  const path = relsOf(source);
  const entry = ctx.zip.entry(path);
  if (!entry) return rels;
  await readPart(
    ctx,
    entry,
    { text: `the relationships (${path})`, plural: true },
    {
      open(name, attrs) {
        if (name !== 'Relationship') return;
        const id = attrs.get('Id') ?? '';
        const type = attrs.get('Type') ?? '';
        const prefix = REL_PREFIXES.find((p) => type.startsWith(p));
        const rel: Relationship = {
          kind: prefix ? type.slice(prefix.length) : type,
          target: attrs.get('Target') ?? '',
          external: attrs.get('TargetMode') === 'External',
        };
        if (ids.has(id) && !rels.byId.has(id)) rels.byId.set(id, rel);
        if (kinds.includes(rel.kind) && !rel.external && !rels.byKind.has(rel.kind)) {
          rels.byKind.set(rel.kind, rel);
        }
      },
      close() {},
      text() {},
    },
  );
  return rels;
}

interface Workbook {
  path: string;
  sheets: { name: string; rid: string }[];
  date1904: boolean;
}

async function readWorkbook(ctx: Part): Promise<Workbook> {
  const pkg = await readRelationships(ctx, '', new Set(), ['officeDocument']);
  const main = pkg.byKind.get('officeDocument');
  const path = (main && resolveTarget('', main.target)) ?? 'xl/workbook.xml';
  const entry = ctx.zip.entry(path);
  if (!entry) throw unreadable(ctx.file, `no workbook part ${path}; is it an .xlsx file?`);
  const book: Workbook = { path, sheets: [], date1904: false };
  await readPart(
    ctx,
    entry,
    { text: `the workbook (${path})` },
    {
      open(name, attrs) {
        if (name === 'workbookPr') {
          const v = attrs.get('date1904');
          book.date1904 = v === '1' || v === 'true';
        } else if (name === 'sheet') {
          const sheetName = attrs.get('name') ?? '';
          if (book.sheets.length >= MAX_SHEETS) {
            throw new ImportError(`${ctx.file}: more than ${MAX_SHEETS} sheets, more than a workbook needs`);
          }
          if (sheetName.length > MAX_SHEET_NAME_CHARS) {
            throw new ImportError(`${ctx.file}: a sheet name longer than ${MAX_SHEET_NAME_CHARS} characters`);
          }
          book.sheets.push({ name: sheetName, rid: attrs.getLocal('id') ?? '' });
        }
      },
      close() {},
      text() {},
    },
  );
  return book;
}

/**
 * The workbook's shared strings, packed in one growing buffer (UTF-8) with their end offsets: no object per
 * string, and every limit checked before a string is stored.
 */
class SharedStrings {
  private bytes = Buffer.allocUnsafe(64 * 1024);
  private used = 0;
  private ends = new Uint32Array(1024);
  count = 0;

  constructor(
    private readonly file: string,
    private readonly path: string,
    private readonly limits: ImportLimits,
  ) {}

  add(s: string): void {
    const { file, path, limits } = this;
    if (this.count >= limits.maxSharedStrings) {
      throw new ImportError(
        `${file}: ${path} holds more than ${limits.maxSharedStrings} shared strings, the limit`,
      );
    }
    const len = Buffer.byteLength(s);
    if (this.used + len > limits.maxSharedStringBytes) {
      throw new ImportError(
        `${file}: the shared strings of ${path} add up to more than ${limits.maxSharedStringBytes} bytes, the limit`,
      );
    }
    if (this.used + len > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + len));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    if (this.count === this.ends.length) {
      const grown = new Uint32Array(this.ends.length * 2);
      grown.set(this.ends);
      this.ends = grown;
    }
    this.used += this.bytes.write(s, this.used, 'utf8');
    this.ends[this.count++] = this.used;
  }

  /** Bytes of string `i` (as stored, UTF-8). */
  size(i: number): number {
    return (this.ends[i] ?? 0) - (i === 0 ? 0 : (this.ends[i - 1] ?? 0));
  }

  get(i: number): string {
    return this.bytes.toString('utf8', i === 0 ? 0 : this.ends[i - 1], this.ends[i]);
  }
}

/** `_xHHHH_` escapes of OOXML strings (control characters Excel cannot put in XML) → the character. */
function unescapeOoxml(s: string): string {
  return s.includes('_x')
    ? s.replace(/_x([0-9A-Fa-f]{4})_/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    : s;
}

/** Collects the text of `<t>` elements (not those of phonetic runs) up to `max` characters, then fails. */
class TextRuns {
  private parts: string[] = [];
  private chars = 0;
  private phonetic = 0;
  private inT = 0;
  seen = false;

  constructor(private readonly tooLong: () => ImportError) {}

  reset(): void {
    this.parts = [];
    this.chars = 0;
    this.phonetic = 0;
    this.inT = 0;
    this.seen = false;
  }

  open(name: string, depth: number): void {
    if (name === 'rPh') this.phonetic++;
    else if (name === 't' && this.phonetic === 0) {
      this.inT = depth;
      this.seen = true;
    }
  }

  close(name: string, depth: number): void {
    if (name === 'rPh') this.phonetic--;
    else if (depth === this.inT) this.inT = 0;
  }

  text(s: string, max: number): void {
    if (this.inT === 0) return;
    this.chars += s.length;
    if (this.chars > max) throw this.tooLong();
    this.parts.push(s);
  }

  value(): string {
    return unescapeOoxml(this.parts.length === 1 ? (this.parts[0] ?? '') : this.parts.join(''));
  }
}

async function readSharedStrings(ctx: Part, path: string | undefined): Promise<SharedStrings | undefined> {
  const entry = path === undefined ? undefined : ctx.zip.entry(path);
  if (!entry || path === undefined) return undefined;
  const strings = new SharedStrings(ctx.file, path, ctx.limits);
  const max = ctx.limits.maxCellChars;
  const runs = new TextRuns(
    () =>
      new ImportError(
        `${ctx.file}: shared string ${strings.count + 1} in ${path} is longer than ${max} characters, the cell limit`,
      ),
  );
  let si = 0;
  await readPart(
    ctx,
    entry,
    { text: `the shared strings (${path})`, plural: true },
    {
      open(name, _attrs, depth) {
        if (name === 'si' && si === 0) {
          si = depth;
          runs.reset();
        } else if (si !== 0) runs.open(name, depth);
      },
      close(name, depth) {
        if (depth === si) {
          strings.add(runs.value());
          si = 0;
        } else if (si !== 0) runs.close(name, depth);
      },
      text(s) {
        runs.text(s, max);
      },
    },
  );
  return strings;
}

/** Number formats Excel predefines that show dates or times (ids 14–22 and 45–47). */
const BUILTIN_DATE_FORMATS = new Set([14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47]);

/** A format code shows a date or time when, outside quotes and brackets, it has y, m, d, h, s or b. */
function isDateFormat(code: string): boolean {
  return /[ymdhMsb]/.test(code.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, ''));
}

/** For each cell format (a cell's `s`), whether its number format is a date. */
async function readDateStyles(ctx: Part, path: string | undefined): Promise<Uint8Array | undefined> {
  const entry = path === undefined ? undefined : ctx.zip.entry(path);
  if (!entry || path === undefined) return undefined;
  const custom = new Map<number, boolean>();
  const formats: number[] = [];
  let inCellXfs = 0;
  const tooMany = (): ImportError =>
    new ImportError(
      `${ctx.file}: ${path} defines more than ${MAX_CELL_FORMATS} formats, more than Excel can hold`,
    );
  await readPart(
    ctx,
    entry,
    { text: `the styles (${path})`, plural: true },
    {
      open(name, attrs, depth) {
        if (name === 'numFmt') {
          if (custom.size >= MAX_CELL_FORMATS) throw tooMany();
          custom.set(Number(attrs.get('numFmtId')), isDateFormat(attrs.get('formatCode') ?? ''));
        } else if (name === 'cellXfs') inCellXfs = depth;
        else if (name === 'xf' && inCellXfs !== 0 && depth === inCellXfs + 1) {
          if (formats.length >= MAX_CELL_FORMATS) throw tooMany();
          formats.push(Number(attrs.get('numFmtId') ?? 0));
        }
      },
      close(_name, depth) {
        if (depth === inCellXfs) inCellXfs = 0;
      },
      text() {},
    },
  );
  return Uint8Array.from(formats, (id) => ((custom.get(id) ?? BUILTIN_DATE_FORMATS.has(id)) ? 1 : 0));
}

/** The column of a cell reference (`C7` → 3), or undefined when it is not A1 … XFD1048576. */
function columnOf(ref: string): number | undefined {
  let col = 0;
  let i = 0;
  for (; i < ref.length && i < 4; i++) {
    const c = ref.charCodeAt(i);
    if (c < 65 || c > 90) break;
    col = col * 26 + (c - 64);
  }
  if (i === 0 || col > MAX_SHEET_COLUMN || !/^[1-9][0-9]{0,6}$/.test(ref.slice(i))) return undefined;
  return col;
}

/** An Excel serial date → `YYYY-MM-DD` at midnight, else the ISO timestamp; null when out of range. */
function serialDate(serial: number, date1904: boolean): string | null {
  const d = new Date(Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000));
  if (Number.isNaN(d.getTime())) return null;
  const iso = d.toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
}

const CELL_TYPES = new Set(['n', 's', 'str', 'inlineStr', 'b', 'e', 'd']);

interface SheetSource {
  name: string;
  path: string;
  entry: ZipEntry;
}

/** The rows of the sheet, each as soon as it closes. */
async function* readSheet(
  ctx: Part,
  sheet: SheetSource,
  strings: SharedStrings | undefined,
  dateStyles: Uint8Array | undefined,
  date1904: boolean,
): AsyncGenerator<RecordAt> {
  const { file, limits, budget } = ctx;
  const at = (line: number, col?: number): string =>
    `${file}, sheet "${sheet.name}", line ${line}${col !== undefined ? `, column ${col}` : ''}`;
  const label: PartLabel = { text: `sheet "${sheet.name}" (${sheet.path})` };
  const done: RecordAt[] = [];
  let inSheetData = 0;
  // The open row and cell (0: none), by depth.
  let rowDepth = 0;
  let line = 0;
  let values: Cell[] = [];
  let rowChars = 0;
  let cellDepth = 0;
  let col = 0;
  let type = 'n';
  let style = 0;
  let valueDepth = 0; // the open <v>
  let formulaDepth = 0; // the open <f>
  let inlineDepth = 0; // the open <is>
  let sawValue = false;
  let sawFormula = false;
  let valueText: string[] = [];
  let formulaText: string[] = [];
  let cellChars = 0;
  const tooLong = (): ImportError =>
    new ImportError(`${at(line, col)}: longer than ${limits.maxCellChars} characters, the cell limit`, line);
  const inline = new TextRuns(tooLong);

  const cellValue = (): Cell => {
    const v = valueText.join('');
    let value: Cell = null;
    switch (type) {
      case 's': {
        if (!sawValue) break;
        const i = /^\s*\d+\s*$/.test(v) ? Number(v) : -1;
        if (!strings || i < 0 || i >= strings.count) {
          throw new ImportError(
            `${at(line, col)}: shared string ${v.trim().slice(0, 20)} does not exist (the workbook has ${strings?.count ?? 0})`,
            line,
          );
        }
        // A shared string costs its size again each time a cell uses it: the same budget as unpacking.
        budget.spend(strings.size(i), label);
        value = strings.get(i);
        break;
      }
      case 'inlineStr':
        value = inline.seen ? inline.value() : sawValue ? v : null;
        break;
      case 'str':
      case 'e':
        value = sawValue ? v : null;
        break;
      case 'b':
        value = sawValue ? (parseInt(v, 10) !== 0 ? 'true' : 'false') : null;
        break;
      case 'd': {
        if (!sawValue) break;
        const m = /^(\d{4}-\d{2}-\d{2})(?:T00:00(?::00(?:\.0+)?)?Z?)?$/.exec(v.trim());
        value = m ? (m[1] ?? v) : v;
        break;
      }
      default: {
        if (!sawValue) break;
        const num = parseFloat(v);
        if (!Number.isFinite(num)) break;
        value = dateStyles?.[style] === 1 ? serialDate(num, date1904) : String(num);
      }
    }
    if (value === null && sawFormula) {
      const formula = formulaText.join('');
      // Never evaluated: the formula's text is the data when Excel left no result.
      if (formula !== '') value = `=${formula}`;
    }
    return value;
  };

  const handler: XmlHandler = {
    open(name, attrs: XmlAttributes, depth) {
      if (cellDepth !== 0) {
        if (name === 'v' && valueDepth === 0) {
          valueDepth = depth;
          sawValue = true;
        } else if (name === 'f' && formulaDepth === 0) {
          formulaDepth = depth;
          sawFormula = true;
        } else if (name === 'is' && inlineDepth === 0) inlineDepth = depth;
        else if (inlineDepth !== 0) inline.open(name, depth);
        return;
      }
      if (rowDepth !== 0) {
        if (name !== 'c') return;
        const ref = attrs.get('r');
        if (ref === undefined) col++;
        else {
          const c = columnOf(ref);
          if (c === undefined) {
            throw new ImportError(
              `${at(line)}: a cell reference ${JSON.stringify(ref.slice(0, 20))} that is not between A1 and XFD1048576`,
              line,
            );
          }
          col = c;
        }
        type = attrs.get('t') ?? 'n';
        if (!CELL_TYPES.has(type)) {
          throw new ImportError(
            `${at(line, col)}: a cell type ${JSON.stringify(type.slice(0, 20))} that XLSX does not define`,
            line,
          );
        }
        style = Number(attrs.get('s') ?? 0);
        cellDepth = depth;
        sawValue = false;
        sawFormula = false;
        valueText = [];
        formulaText = [];
        cellChars = 0;
        inline.reset();
        return;
      }
      if (name === 'sheetData') inSheetData = depth;
      else if (name === 'row' && inSheetData !== 0) {
        const r = attrs.get('r');
        const n = r === undefined ? line + 1 : /^\d{1,7}$/.test(r) ? Number(r) : 0;
        if (n < 1 || n > MAX_SHEET_ROW) {
          throw new ImportError(
            `${file}, sheet "${sheet.name}": a row number ${JSON.stringify((r ?? '').slice(0, 20))} outside 1…${MAX_SHEET_ROW}`,
          );
        }
        line = n;
        rowDepth = depth;
        values = [];
        rowChars = 0;
        col = 0;
      }
    },
    close(name, depth) {
      if (cellDepth !== 0) {
        if (depth === valueDepth) valueDepth = 0;
        else if (depth === formulaDepth) formulaDepth = 0;
        else if (depth === inlineDepth) inlineDepth = 0;
        else if (inlineDepth !== 0) inline.close(name, depth);
        else if (depth === cellDepth) {
          cellDepth = 0;
          const value = cellValue();
          if (value === null) return;
          if (col > limits.maxColumns) {
            if (value === '') return;
            throw new ImportError(
              `${at(line, col)}: a value past column ${limits.maxColumns}, the column limit`,
              line,
            );
          }
          rowChars += value.length;
          if (rowChars > limits.maxRecordChars) {
            throw new ImportError(
              `${at(line)}: the row is longer than ${limits.maxRecordChars} characters, the record limit`,
              line,
            );
          }
          while (values.length < col - 1) values.push(null);
          values[col - 1] = value;
        }
        return;
      }
      if (depth === rowDepth) {
        rowDepth = 0;
        done.push({ line, values });
        return true; // hand the row over before reading on
      }
      if (depth === inSheetData) inSheetData = 0;
    },
    text(s) {
      if (valueDepth !== 0 || formulaDepth !== 0) {
        cellChars += s.length;
        if (cellChars > limits.maxCellChars) throw tooLong();
        (valueDepth !== 0 ? valueText : formulaText).push(s);
      } else if (inlineDepth !== 0) inline.text(s, limits.maxCellChars);
    },
  };

  for await (const _ of scanPart(ctx, sheet.entry, label, handler)) {
    yield* done.splice(0);
  }
  yield* done.splice(0);
}

/**
 * The rows of worksheet `sheetName` of an XLSX file (default: the first worksheet), cells from column A.
 * Every limit of `limits` holds while reading; a file past one fails with an ImportError naming it.
 */
export async function* xlsxRecords(
  file: string,
  sheetName: string | undefined,
  limits: ImportLimits,
): AsyncGenerator<RecordAt> {
  const zip = await ZipReader.open(file);
  try {
    const ctx: Part = {
      file,
      zip,
      limits,
      budget: new UnpackBudget(file, limits.maxInflatedBytes, limits.maxCompressionRatio),
    };
    const book = await readWorkbook(ctx);
    const rels = await readRelationships(ctx, book.path, new Set(book.sheets.map((s) => s.rid)), [
      'sharedStrings',
      'styles',
    ]);
    const worksheets = book.sheets.filter((s) => rels.byId.get(s.rid)?.kind === 'worksheet');
    const chosen = sheetName === undefined ? worksheets[0] : book.sheets.find((s) => s.name === sheetName);
    if (!chosen) {
      const names = worksheets.map((s) => s.name);
      throw new ImportError(
        sheetName !== undefined
          ? `${file}: no worksheet named "${sheetName}" (worksheets: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''})`
          : `${file}: the workbook has no worksheet`,
      );
    }
    const rel = rels.byId.get(chosen.rid);
    if (!rel || rel.kind !== 'worksheet') {
      throw new ImportError(
        `${file}: sheet "${chosen.name}" is not a worksheet of rows (${rel?.kind ?? 'no part'})`,
      );
    }
    const path = rel.external ? undefined : resolveTarget(book.path, rel.target);
    const entry = path === undefined ? undefined : zip.entry(path);
    if (!entry || path === undefined) {
      // An external target is never fetched: the sheet's data must be in the file.
      throw unreadable(file, `sheet "${chosen.name}" has no part in the file (${rel.target.slice(0, 200)})`);
    }
    // The shared strings and styles by relationship, or where Excel puts them.
    const partOf = (kind: string, fallback: string): string | undefined => {
      const r = rels.byKind.get(kind);
      return resolveTarget(book.path, r ? r.target : fallback);
    };
    const strings = await readSharedStrings(ctx, partOf('sharedStrings', 'sharedStrings.xml'));
    const dates = await readDateStyles(ctx, partOf('styles', 'styles.xml'));
    yield* readSheet(ctx, { name: chosen.name, path, entry }, strings, dates, book.date1904);
  } finally {
    await zip.close();
  }
}
