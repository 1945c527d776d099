/**
 * A GIF89a encoder for the label's two-colour index buffer. LZW over an alphabet of four symbols (GIF's least
 * code size is 2 bits) keeps its dictionary as a direct table, `next[code * 4 + pixel]`, instead of the
 * general encoders' hashing: with labels mostly white paper, encoding was the larger half of drawing one
 * (gifenc: ~5 ms per 812 × 1218 label; this: well under 1 ms).
 */

const MIN_CODE_SIZE = 2;
const CLEAR = 1 << MIN_CODE_SIZE; // 4
const END = CLEAR + 1; // 5
const FIRST_FREE = CLEAR + 2; // 6
const MAX_CODES = 4096; // 12-bit codes

/** A growable byte buffer that packs LZW codes LSB-first into 255-byte GIF sub-blocks. */
class CodeWriter {
  private out: Uint8Array;
  private len = 0;
  private block = new Uint8Array(255);
  private blockLen = 0;
  private acc = 0;
  private bits = 0;

  constructor(capacity: number) {
    this.out = new Uint8Array(capacity);
  }

  bytes(values: ArrayLike<number>): void {
    this.ensure(values.length);
    for (let i = 0; i < values.length; i++) this.out[this.len++] = values[i]!;
  }

  code(code: number, size: number): void {
    this.acc |= code << this.bits;
    this.bits += size;
    while (this.bits >= 8) {
      this.byte(this.acc & 0xff);
      this.acc >>>= 8;
      this.bits -= 8;
    }
  }

  /** The last partial byte and sub-block, then the block terminator. */
  endCodes(): void {
    if (this.bits > 0) this.byte(this.acc & 0xff);
    this.acc = 0;
    this.bits = 0;
    this.flushBlock();
    this.bytes([0]);
  }

  result(): Buffer {
    return Buffer.from(this.out.buffer, this.out.byteOffset, this.len);
  }

  private byte(b: number): void {
    this.block[this.blockLen++] = b;
    if (this.blockLen === 255) this.flushBlock();
  }

  private flushBlock(): void {
    if (this.blockLen === 0) return;
    this.ensure(this.blockLen + 1);
    this.out[this.len++] = this.blockLen;
    this.out.set(this.block.subarray(0, this.blockLen), this.len);
    this.len += this.blockLen;
    this.blockLen = 0;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.out.length) return;
    const grown = new Uint8Array(Math.max(this.out.length * 2, this.len + n));
    grown.set(this.out.subarray(0, this.len));
    this.out = grown;
  }
}

/**
 * Encode `index` (one byte per pixel, 0 or 1, row-major, `width` × `height`) as a GIF89a with the palette
 * white (0) and black (1).
 */
export function encodeTwoColourGif(index: Uint8Array, width: number, height: number): Buffer {
  if (index.length !== width * height)
    throw new Error(`expected ${width * height} pixels, got ${index.length}`);
  const w = new CodeWriter(64 * 1024);
  const le16 = (n: number) => [n & 0xff, n >> 8];
  // Header, logical screen (global colour table of 2 entries), palette, image descriptor, LZW code size.
  w.bytes([0x47, 0x49, 0x46, 0x38, 0x39, 0x61]);
  w.bytes([...le16(width), ...le16(height), 0x80, 0, 0]);
  w.bytes([255, 255, 255, 0, 0, 0]);
  w.bytes([0x2c, 0, 0, 0, 0, ...le16(width), ...le16(height), 0]);
  w.bytes([MIN_CODE_SIZE]);

  // next[code * 4 + pixel]: the code for string(code) + pixel, 0 when not in the dictionary (no code is 0
  // once past the roots, so 0 can mean "none").
  const next = new Uint16Array(MAX_CODES * 4);
  let size = MIN_CODE_SIZE + 1;
  let free = FIRST_FREE;
  w.code(CLEAR, size);
  if (index.length === 0) {
    w.code(END, size);
  } else {
    let prefix = index[0]! & 3;
    for (let i = 1; i < index.length; i++) {
      const p = index[i]! & 3;
      const known = next[prefix * 4 + p]!;
      if (known !== 0) {
        prefix = known;
        continue;
      }
      w.code(prefix, size);
      if (free < MAX_CODES) {
        next[prefix * 4 + p] = free;
        // The decoder widens its codes once its table reaches the current size: do so in step.
        if (free === 1 << size && size < 12) size++;
        free++;
      } else {
        w.code(CLEAR, size);
        next.fill(0);
        size = MIN_CODE_SIZE + 1;
        free = FIRST_FREE;
      }
      prefix = p;
    }
    w.code(prefix, size);
    w.code(END, size);
  }
  w.endCodes();
  w.bytes([0x3b]);
  return w.result();
}
