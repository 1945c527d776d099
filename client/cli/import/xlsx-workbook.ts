/**
 * The parts of an XLSX file that say where the data is, read with the bounded zip-reader and xml-scanner: the
 * package and workbook relationships (to find the sheet by name, the shared strings and the styles), the workbook
 * (its sheets and date system) and the styles (only which cell formats are dates). Every part is scanned as it
 * inflates, within the unpack budget; a part's XML error becomes an ImportError naming the part.
 */
import { StringDecoder } from 'node:string_decoder';
import { ImportError, type ImportLimits } from './import-limits';
import { XmlError, XmlScanner, type XmlHandler } from './xml-scanner';
import { unreadable, type UnpackBudget, type ZipReader, type PartLabel, type ZipEntry } from './zip-reader';

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

/** What reading a part of the workbook needs: the file, its zip, the unpack budget and the limits. */
export interface Part {
  file: string;
  zip: ZipReader;
  budget: UnpackBudget;
  limits: ImportLimits;
}

/** Every token of `entry` through `handler`; yields each time the handler pauses the scan. */
export async function* scanPart(
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

export async function readPart(
  ctx: Part,
  entry: ZipEntry,
  label: PartLabel,
  handler: XmlHandler,
): Promise<void> {
  for await (const _ of scanPart(ctx, entry, label, handler));
}

/** The part `target` points at from the part `source` (relative to its folder, or absolute); undefined if outside. */
export function resolveTarget(source: string, target: string): string | undefined {
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
export async function readRelationships(
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

/** The workbook part: its path, its sheets (name and relationship id) in order, and its date system. */
export interface Workbook {
  path: string;
  sheets: { name: string; rid: string }[];
  date1904: boolean;
}

export async function readWorkbook(ctx: Part): Promise<Workbook> {
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

/** Number formats Excel predefines that show dates or times (ids 14–22 and 45–47). */
const BUILTIN_DATE_FORMATS = new Set([14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47]);

/** A format code shows a date or time when, outside quotes and brackets, it has y, m, d, h, s or b. */
function isDateFormat(code: string): boolean {
  return /[ymdhMsb]/.test(code.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, ''));
}

/** For each cell format (a cell's `s`), whether its number format is a date. */
export async function readDateStyles(ctx: Part, path: string | undefined): Promise<Uint8Array | undefined> {
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
