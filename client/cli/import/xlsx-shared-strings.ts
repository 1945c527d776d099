/**
 * The shared strings of an XLSX file, and the text runs that a shared or inline string is made of (rich text
 * joined, phonetic runs left out, `_xHHHH_` escapes decoded): bounded in count, bytes and length each, every
 * limit checked before a string is stored.
 */
import { ImportError, type ImportLimits } from './import-limits';
import { readPart, type Part } from './xlsx-workbook';

/**
 * The workbook's shared strings, packed in one growing buffer (UTF-8) with their end offsets: no object per
 * string, and every limit checked before a string is stored.
 */
export class SharedStrings {
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
export class TextRuns {
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

/** The shared strings part at `path`, or undefined when the workbook has none. */
export async function readSharedStrings(
  ctx: Part,
  path: string | undefined,
): Promise<SharedStrings | undefined> {
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
