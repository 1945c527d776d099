/**
 * A zip reader (the container of an XLSX workbook) that bounds what it unpacks. It reads the central directory
 * from the end of the file through a file handle (never the whole file), looks parts up by name, and inflates
 * one part at a time as a stream, counting the bytes it produces: a part that unpacks to more than
 * `maxCompressionRatio` times its packed size, or a pass that unpacks more than `maxInflatedBytes` in all, stops
 * there with an ImportError. Nothing is written anywhere.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import { ImportError } from './import-limits';

/** One part as the central directory lists it. */
export interface ZipEntry {
  name: string;
  flags: number;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localOffset: number;
}

/** What one pass over a workbook may still unpack, shared by the parts it reads. */
export class UnpackBudget {
  private remaining: number;

  constructor(
    private readonly file: string,
    readonly total: number,
    /** Most bytes a part may unpack to per packed byte, once past RATIO_GRACE_BYTES. */
    readonly ratio: number,
  ) {
    this.remaining = total;
  }

  /** Take `bytes` from the budget for `label`; past the total, an ImportError naming the part and the limit. */
  spend(bytes: number, label: PartLabel): void {
    this.ensure(bytes, label);
    this.remaining -= bytes;
  }

  /** Fail as spend() would if `bytes` more do not fit, without taking them. */
  ensure(bytes: number, label: PartLabel): void {
    if (bytes > this.remaining) {
      throw new ImportError(
        `${this.file}: ${label.text} would take the workbook past ${this.total} unpacked bytes, the import limit`,
      );
    }
  }
}

/** A part as messages name it: `sheet "Orders" (xl/worksheets/sheet1.xml)`; plural for "the shared strings". */
export interface PartLabel {
  text: string;
  plural?: boolean;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_END = 0x06064b50;
const CENTRAL_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
/** A workbook's directory is a few KB; these only stop a hostile one from being read into memory. */
const MAX_CENTRAL_DIRECTORY_BYTES = 16 * 1024 * 1024;
const MAX_ENTRIES = 100_000;
/** The compression ratio is checked once a part has unpacked this much (small parts compress very well). */
const RATIO_GRACE_BYTES = 1024 * 1024;
const STORED = 0;
const DEFLATED = 8;

/** The ImportError of a file that is not a workbook this reader can read. */
export function unreadable(file: string, why: string, cause?: unknown): ImportError {
  return new ImportError(
    `${file}: not a readable XLSX workbook (${why})`,
    undefined,
    undefined,
    cause === undefined ? undefined : { cause },
  );
}

/** A zip file opened for reading parts; close() it when done. */
export class ZipReader {
  private constructor(
    readonly file: string,
    private readonly fh: FileHandle,
    private readonly size: number,
    private readonly entries: Map<string, ZipEntry>,
  ) {}

  /** Open `file` and read its central directory. */
  static async open(file: string): Promise<ZipReader> {
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new ImportError(`${file}: can't read it (${code})`, undefined, undefined, { cause: err });
    }
    try {
      const size = (await fh.stat()).size;
      const entries = await readCentralDirectory(file, fh, size);
      return new ZipReader(file, fh, size, entries);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** The part named `name` (part names are case-insensitive), if the zip holds it. */
  entry(name: string): ZipEntry | undefined {
    return this.entries.get(name.toLowerCase());
  }

  /** The unpacked bytes of `entry`, a chunk at a time, counted against `budget` and its ratio limit. */
  async *unpack(entry: ZipEntry, label: PartLabel, budget: UnpackBudget): AsyncGenerator<Buffer> {
    const { file } = this;
    const its = label.plural ? 'their' : 'its';
    if (entry.flags & 1) {
      throw new ImportError(`${file}: ${label.text} is encrypted; save the workbook without a password`);
    }
    if (entry.method !== STORED && entry.method !== DEFLATED) {
      throw unreadable(
        file,
        `${entry.name} is packed with zip method ${entry.method}; only stored and deflated parts are read`,
      );
    }
    // The declared size is not trusted (the count below is what holds), but one already too big fails at once.
    budget.ensure(entry.uncompressedSize, label);
    const header = Buffer.alloc(30);
    await this.fh.read(header, 0, 30, entry.localOffset);
    if (header.readUInt32LE(0) !== LOCAL_HEADER)
      throw unreadable(file, `${entry.name}: no local header where the directory says`);
    const start = entry.localOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    if (start + entry.compressedSize > this.size)
      throw unreadable(file, `${entry.name} runs past the end of the file`);
    if (entry.compressedSize === 0) {
      if (entry.method === STORED) return;
      throw unreadable(file, `${entry.name} is empty`);
    }
    const input = Readable.from(this.packed(entry, start));
    const source = entry.method === DEFLATED ? input.pipe(createInflateRaw()) : input;
    if (source !== input) input.on('error', (err) => source.destroy(err));
    const ratioCap = Math.max(RATIO_GRACE_BYTES, budget.ratio * entry.compressedSize);
    let produced = 0;
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        produced += chunk.length;
        if (produced > ratioCap) {
          throw new ImportError(
            `${file}: ${label.text} unpack${label.plural ? '' : 's'} to more than ${budget.ratio} times ${its} ` +
              `${entry.compressedSize} packed bytes, the compression-ratio limit (a zip bomb?)`,
          );
        }
        budget.spend(chunk.length, label);
        yield chunk;
      }
    } catch (err) {
      if (err instanceof ImportError) throw err;
      throw unreadable(file, `${entry.name} is damaged: ${(err as Error).message}`, err);
    } finally {
      input.destroy();
      source.destroy();
    }
  }

  /** The packed bytes of `entry` (from `start`), read through the handle 64 KB at a time. */
  private async *packed(entry: ZipEntry, start: number): AsyncGenerator<Buffer> {
    const end = start + entry.compressedSize;
    for (let pos = start; pos < end;) {
      const buf = Buffer.allocUnsafe(Math.min(64 * 1024, end - pos));
      const { bytesRead } = await this.fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) throw unreadable(this.file, `${entry.name} runs past the end of the file`);
      pos += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

async function readAt(fh: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

async function readCentralDirectory(
  file: string,
  fh: FileHandle,
  size: number,
): Promise<Map<string, ZipEntry>> {
  // The end record is the last 22 bytes, after a comment of at most 64 KB.
  const tailStart = Math.max(0, size - (22 + 0xffff));
  const tail = await readAt(fh, size - tailStart, tailStart);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY) {
      at = i;
      break;
    }
  }
  if (at < 0) throw unreadable(file, 'not a zip file');
  if (tail.readUInt16LE(at + 4) !== 0 || tail.readUInt16LE(at + 6) !== 0) {
    throw unreadable(file, 'a zip split over several files');
  }
  let count = tail.readUInt16LE(at + 10);
  let cdSize = tail.readUInt32LE(at + 12);
  let cdOffset = tail.readUInt32LE(at + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = at - 20;
    if (loc < 0 || tail.readUInt32LE(loc) !== ZIP64_LOCATOR)
      throw unreadable(file, 'a damaged zip64 directory');
    const endAt = Number(tail.readBigUInt64LE(loc + 8));
    const end = endAt + 56 <= size ? await readAt(fh, 56, endAt) : Buffer.alloc(0);
    if (end.length < 56 || end.readUInt32LE(0) !== ZIP64_END)
      throw unreadable(file, 'a damaged zip64 directory');
    count = Number(end.readBigUInt64LE(32));
    cdSize = Number(end.readBigUInt64LE(40));
    cdOffset = Number(end.readBigUInt64LE(48));
  }
  if (count > MAX_ENTRIES || cdSize > MAX_CENTRAL_DIRECTORY_BYTES) {
    throw unreadable(
      file,
      `its zip directory lists ${count} parts in ${cdSize} bytes, more than a workbook needs`,
    );
  }
  if (cdOffset + cdSize > size) throw unreadable(file, 'the zip directory lies past the end of the file');
  const cd = await readAt(fh, cdSize, cdOffset);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL_HEADER)
      throw unreadable(file, 'a damaged zip directory');
    const flags = cd.readUInt16LE(p + 8);
    const nameLength = cd.readUInt16LE(p + 28);
    const extraLength = cd.readUInt16LE(p + 30);
    const next = p + 46 + nameLength + extraLength + cd.readUInt16LE(p + 32);
    if (next > cd.length) throw unreadable(file, 'a damaged zip directory');
    const name = cd.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLength);
    const entry: ZipEntry = {
      name,
      flags,
      method: cd.readUInt16LE(p + 10),
      compressedSize: cd.readUInt32LE(p + 20),
      uncompressedSize: cd.readUInt32LE(p + 24),
      localOffset: cd.readUInt32LE(p + 42),
    };
    readZip64Sizes(file, entry, cd.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength));
    const key = name.toLowerCase();
    // Two parts of one name: readers disagree on which holds the data, a known way to smuggle content.
    if (entries.has(key)) throw unreadable(file, `the zip holds ${name} twice`);
    entries.set(key, entry);
    p = next;
  }
  return entries;
}

/** Sizes and offset too big for 32 bits are in the zip64 extra field (id 1), in this order. */
function readZip64Sizes(file: string, entry: ZipEntry, extra: Buffer): void {
  const fields = (['uncompressedSize', 'compressedSize', 'localOffset'] as const).filter(
    (k) => entry[k] === 0xffffffff,
  );
  if (fields.length === 0) return;
  for (let q = 0; q + 4 <= extra.length;) {
    const id = extra.readUInt16LE(q);
    const len = extra.readUInt16LE(q + 2);
    if (id === 1) {
      if (len < fields.length * 8 || q + 4 + len > extra.length) break;
      fields.forEach((k, i) => (entry[k] = Number(extra.readBigUInt64LE(q + 4 + i * 8))));
      return;
    }
    q += 4 + len;
  }
  throw unreadable(file, `${entry.name}: a damaged zip64 entry`);
}
