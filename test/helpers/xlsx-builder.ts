/**
 * Builds XLSX files part by part, for tests of hostile workbooks: any part order, any XML (DOCTYPEs, deep
 * nesting, huge cells), parts streamed through deflate so a bomb of hundreds of MB is a file of a few hundred
 * KB written in about a second, without ever holding the inflated text in memory.
 */
import { writeFile } from 'node:fs/promises';
import zlib from 'node:zlib';

/** A part's content: text, bytes, or pieces produced one after another (streamed, never joined). */
export type PartData = string | Buffer | Iterable<string | Buffer>;

export interface ZipPart {
  name: string;
  data: PartData;
  /** Stored (method 0) instead of deflated. */
  store?: boolean;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 of `buf` continued from `crc` (zlib.crc32 where Node has it). */
function crc32(buf: Buffer, crc: number): number {
  const native = (zlib as { crc32?: (b: Buffer, v: number) => number }).crc32;
  if (native) return native(buf, crc);
  let c = ~crc >>> 0;
  for (const b of buf) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return ~c >>> 0;
}

function pieces(data: PartData): Iterable<Buffer> {
  if (typeof data === 'string') return [Buffer.from(data)];
  if (Buffer.isBuffer(data)) return [data];
  return (function* () {
    for (const p of data) yield typeof p === 'string' ? Buffer.from(p) : p;
  })();
}

async function compress(part: ZipPart): Promise<{ body: Buffer; crc: number; size: number; method: number }> {
  let crc = 0;
  let size = 0;
  if (part.store) {
    const chunks: Buffer[] = [];
    for (const p of pieces(part.data)) {
      crc = crc32(p, crc);
      size += p.length;
      chunks.push(p);
    }
    return { body: Buffer.concat(chunks), crc, size, method: 0 };
  }
  const deflate = zlib.createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  for (const p of pieces(part.data)) {
    crc = crc32(p, crc);
    size += p.length;
    if (!deflate.write(p)) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await ended;
  return { body: Buffer.concat(out), crc, size, method: 8 };
}

/** Write a zip of `parts`, in this order (local headers, then the central directory). */
export async function writeZip(file: string, parts: readonly ZipPart[]): Promise<void> {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const { body, crc, size, method } = await compress(part);
    const name = Buffer.from(part.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size >>> 0, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0x0800, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt16LE(0, 12);
    cd.writeUInt16LE(0x21, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(body.length, 20);
    cd.writeUInt32LE(size >>> 0, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    central.push(cd, name);
    chunks.push(local, name, body);
    offset += local.length + name.length + body.length;
  }
  const cdBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(cdBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  await writeFile(file, Buffer.concat([...chunks, cdBytes, end]));
}

const MAIN_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const REL_TYPE = `${REL_NS}/`;
const XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

/** A worksheet part around `rows` (the content of `<sheetData>`), streamed when `rows` is an iterable. */
export function worksheet(rows: PartData): PartData {
  const head = `${XML_DECL}<worksheet xmlns="${MAIN_NS}" xmlns:r="${REL_NS}"><sheetData>`;
  const tail = '</sheetData></worksheet>';
  if (typeof rows === 'string') return head + rows + tail;
  return (function* () {
    yield head;
    if (Buffer.isBuffer(rows)) yield rows;
    else yield* rows;
    yield tail;
  })();
}

/** A shared-strings part holding `strings` (already XML-escaped), streamed when an iterable. */
export function sharedStrings(strings: Iterable<string>): PartData {
  return (function* () {
    yield `${XML_DECL}<sst xmlns="${MAIN_NS}">`;
    for (const s of strings) yield `<si><t>${s}</t></si>`;
    yield '</sst>';
  })();
}

/** `<row>` of inline-string and number cells, columns A, B, … (strings must be XML-escaped). */
export function row(r: number, cells: (string | number)[]): string {
  const cs = cells.map((v, i) => {
    const ref = `${String.fromCharCode(65 + i)}${r}`;
    return typeof v === 'number'
      ? `<c r="${ref}"><v>${v}</v></c>`
      : `<c r="${ref}" t="inlineStr"><is><t>${v}</t></is></c>`;
  });
  return `<row r="${r}">${cs.join('')}</row>`;
}

export interface WorkbookSpec {
  sheets: { name: string; xml: PartData; kind?: 'worksheet' | 'chartsheet' }[];
  /** The xl/sharedStrings.xml part, if any. */
  sharedStrings?: PartData;
  /** The xl/styles.xml part, if any. */
  styles?: string;
  /** Extra elements of workbook.xml before `<sheets>` (e.g. `<workbookPr date1904="1"/>`). */
  workbookPr?: string;
  /** Extra elements of workbook.xml after `<sheets>` (e.g. `<externalReferences>`). */
  workbookTail?: string;
  /** Extra `<Relationship>` elements of the workbook's rels. */
  rels?: string;
  extraParts?: ZipPart[];
  /** Part order: `sheets-first` (as exceljs writes them, sheets before the shared strings) or `strings-first`. */
  order?: 'sheets-first' | 'strings-first';
}

/** The parts of a minimal XLSX workbook (content types, rels, workbook, sheets, shared strings, styles). */
export function workbookParts(spec: WorkbookSpec): ZipPart[] {
  const sheetParts: ZipPart[] = spec.sheets.map((s, i) => ({
    name: s.kind === 'chartsheet' ? `xl/chartsheets/sheet${i + 1}.xml` : `xl/worksheets/sheet${i + 1}.xml`,
    data: s.xml,
  }));
  const sheetRels = spec.sheets
    .map((s, i) =>
      s.kind === 'chartsheet'
        ? `<Relationship Id="rId${i + 1}" Type="${REL_TYPE}chartsheet" Target="chartsheets/sheet${i + 1}.xml"/>`
        : `<Relationship Id="rId${i + 1}" Type="${REL_TYPE}worksheet" Target="worksheets/sheet${i + 1}.xml"/>`,
    )
    .join('');
  const rels =
    `${XML_DECL}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
    sheetRels +
    (spec.sharedStrings !== undefined
      ? `<Relationship Id="rIdS" Type="${REL_TYPE}sharedStrings" Target="sharedStrings.xml"/>`
      : '') +
    (spec.styles !== undefined
      ? `<Relationship Id="rIdY" Type="${REL_TYPE}styles" Target="styles.xml"/>`
      : '') +
    (spec.rels ?? '') +
    '</Relationships>';
  const workbook =
    `${XML_DECL}<workbook xmlns="${MAIN_NS}" xmlns:r="${REL_NS}">${spec.workbookPr ?? ''}<sheets>` +
    spec.sheets.map((s, i) => `<sheet name="${s.name}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`).join('') +
    `</sheets>${spec.workbookTail ?? ''}</workbook>`;
  const head: ZipPart[] = [
    {
      name: '[Content_Types].xml',
      data:
        `${XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
        '<Default Extension="xml" ContentType="application/xml"/>' +
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
        '</Types>',
    },
    {
      name: '_rels/.rels',
      data:
        `${XML_DECL}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
        `<Relationship Id="rId1" Type="${REL_TYPE}officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    },
    { name: 'xl/_rels/workbook.xml.rels', data: rels },
    { name: 'xl/workbook.xml', data: workbook },
  ];
  const strings: ZipPart[] = [];
  if (spec.sharedStrings !== undefined)
    strings.push({ name: 'xl/sharedStrings.xml', data: spec.sharedStrings });
  if (spec.styles !== undefined) strings.push({ name: 'xl/styles.xml', data: spec.styles });
  const body = spec.order === 'strings-first' ? [...strings, ...sheetParts] : [...sheetParts, ...strings];
  return [...head, ...body, ...(spec.extraParts ?? [])];
}

/** Write a workbook of `spec` to `file`. */
export async function writeWorkbook(file: string, spec: WorkbookSpec): Promise<void> {
  await writeZip(file, workbookParts(spec));
}
