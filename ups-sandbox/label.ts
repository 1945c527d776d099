/**
 * Shipping-label renderer for the local UPS sandbox: a 4×6 in thermal label at 203 dpi, as a 2-colour
 * GIF (what UPS returns in `ShippingLabel.GraphicImage` for `LabelImageFormat` GIF) and as ZPL II.
 *
 * Speed matters (one label per package, up to 100,000 per batch), so the GIF path never goes through
 * a per-label RGBA canvas:
 * - the label is composed directly in a 1-byte-per-pixel index buffer (0 white, 1 black) that
 *   gifenc encodes as is;
 * - text is drawn from a glyph cache: pureimage rasterizes each (font, size, character) once from
 *   the DejaVu TTFs, and the thresholded coverage is kept as horizontal runs that are blitted with
 *   `Uint8Array.fill`;
 * - barcodes come from bwip-js through a small synchronous drawing context that paints its bars,
 *   hexagons and bullseye rings straight into the index buffer at an integer scale (bwip-js's own
 *   PNG output is asynchronous in Node).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import bwipjs from 'bwip-js/node';
import * as PImage from 'pureimage';
import { formatTrackingNumber } from '../domain/tracking-number';

/** A party as printed on a label (UPS Shipper / ShipTo subset). */
export interface LabelParty {
  Name: string;
  AttentionName?: string;
  Phone?: { Number: string };
  Address: {
    AddressLine: string[];
    City: string;
    StateProvinceCode?: string;
    PostalCode?: string;
    CountryCode: string;
  };
}

/** Everything printed on one package's label. */
export interface LabelInput {
  /** e.g. `1ZA1B2C30312345678` (18 characters, no spaces; spaces are tolerated and dropped). */
  trackingNumber: string;
  /** UPS service code, e.g. "03". */
  serviceCode: string;
  /** e.g. "UPS Ground" (printed upper case). */
  serviceName: string;
  shipper: LabelParty & { ShipperNumber: string };
  shipTo: LabelParty;
  weight: string;
  weightUnit: 'LBS' | 'KGS';
  /** 1-based: printed as "1 OF 2". */
  packageIndex: number;
  packageCount: number;
  /** Our reference number, printed as "REF 1: ...". */
  reference?: string;
  /** YYYY-MM-DD. */
  shipDate: string;
}

/** 4 in at 203 dpi. */
export const LABEL_WIDTH_PX = 812;
/** 6 in at 203 dpi. */
export const LABEL_HEIGHT_PX = 1218;

const W = LABEL_WIDTH_PX;
const H = LABEL_HEIGHT_PX;
const WHITE = 0;
const BLACK = 1;

// ---------------------------------------------------------------------------------------------
// Fonts and the glyph cache

type FontId = 'regular' | 'bold';

/** The part of opentype.js's Font (pureimage's `RegisteredFont.font`) that we read. */
interface OpenTypeFont {
  unitsPerEm: number;
  charToGlyph(ch: string): { advanceWidth?: number };
}

interface Face {
  /** pureimage family name, as used in `ctx.font`. */
  family: string;
  font: OpenTypeFont;
}

/** One rasterized glyph: advance in px, and black runs relative to the pen (origin on the baseline). */
interface Glyph {
  advance: number;
  /** Triples: dy, x0, x1 (x1 exclusive). */
  runs: Int16Array;
}

const FONT_FILES: Record<FontId, string> = { regular: 'DejaVuSans.ttf', bold: 'DejaVuSans-Bold.ttf' };
/** Glyph pixels with at least this much coverage (0..255) print black. */
const COVERAGE_THRESHOLD = 110;
/** Bound on the glyph cache (arbitrary Unicode in names could otherwise grow it without limit). */
const MAX_CACHED_GLYPHS = 20_000;

const requireHere = createRequire(import.meta.url);
let faces: Record<FontId, Face> | undefined;
const glyphCache = new Map<string, Glyph>();

/** Register and parse the two DejaVu faces, once per process. */
function getFaces(): Record<FontId, Face> {
  if (faces) return faces;
  const dir = path.join(path.dirname(requireHere.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  const load = (id: FontId): Face => {
    const family = `shipbatch-label-${id}`;
    const registered = PImage.registerFont(path.join(dir, FONT_FILES[id]), family).loadSync();
    return { family, font: registered.font as OpenTypeFont };
  };
  faces = { regular: load('regular'), bold: load('bold') };
  return faces;
}

/** Rasterize one character with pureimage and keep its thresholded coverage as runs. */
function rasterizeGlyph(font: FontId, ch: string, size: number): Glyph {
  const face = getFaces()[font];
  const advance = advanceEm(font, ch) * size;
  const pad = Math.ceil(size * 0.5);
  const baseline = Math.ceil(size * 1.2) + 1;
  const bw = Math.ceil(advance) + 2 * pad;
  const bh = baseline + Math.ceil(size * 0.5) + 1;
  const bitmap = PImage.make(bw, bh);
  const ctx = bitmap.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, bw, bh);
  ctx.fillStyle = '#000000';
  ctx.font = `${size} ${face.family}`;
  ctx.fillText(ch, pad, baseline);

  const data = bitmap.data;
  const limit = 255 - COVERAGE_THRESHOLD;
  const runs: number[] = [];
  for (let y = 0; y < bh; y++) {
    let x = 0;
    while (x < bw) {
      while (x < bw && (data[(y * bw + x) * 4] ?? 255) > limit) x++;
      if (x >= bw) break;
      const x0 = x;
      while (x < bw && (data[(y * bw + x) * 4] ?? 255) <= limit) x++;
      runs.push(y - baseline, x0 - pad, x - pad);
    }
  }
  return { advance, runs: Int16Array.from(runs) };
}

function glyph(font: FontId, size: number, ch: string): Glyph {
  const key = `${font}\u0000${size}\u0000${ch}`;
  let g = glyphCache.get(key);
  if (!g) {
    if (glyphCache.size >= MAX_CACHED_GLYPHS) glyphCache.clear();
    g = rasterizeGlyph(font, ch, size);
    glyphCache.set(key, g);
  }
  return g;
}

/** Printable text: NFC, control characters to spaces, runs of whitespace collapsed, trimmed. */
function clean(s: string | undefined): string {
  return (s ?? '')
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Advance widths in em, per font and character (cheap: no rasterizing, so ZPL layout can use it too). */
const advanceCache = new Map<string, number>();

function advanceEm(font: FontId, ch: string): number {
  const key = `${font}\u0000${ch}`;
  let em = advanceCache.get(key);
  if (em === undefined) {
    if (advanceCache.size >= MAX_CACHED_GLYPHS) advanceCache.clear();
    const f = getFaces()[font].font;
    em = (f.charToGlyph(ch).advanceWidth ?? 0) / f.unitsPerEm;
    advanceCache.set(key, em);
  }
  return em;
}

function measure(text: string, font: FontId, size: number): number {
  let em = 0;
  for (const ch of text) em += advanceEm(font, ch);
  return em * size;
}

/**
 * The largest size from `size` down to `minSize` (in steps of 2 px, so the glyph cache stays small)
 * at which `text` fits `maxWidth` in DejaVu; at `minSize`, the text is cut to fit.
 */
function fit(text: string, font: FontId, size: number, minSize: number, maxWidth: number): [string, number] {
  let s = size;
  while (s > minSize && measure(text, font, s) > maxWidth) s = Math.max(minSize, s - 2);
  if (measure(text, font, s) <= maxWidth) return [text, s];
  let width = 0;
  let cut = '';
  for (const ch of text) {
    width += advanceEm(font, ch) * s;
    if (width > maxWidth) break;
    cut += ch;
  }
  return [cut.trimEnd(), s];
}

// ---------------------------------------------------------------------------------------------
// The 1-bit raster

type Align = 'left' | 'center' | 'right';

class Raster {
  readonly px = new Uint8Array(W * H);

  /** Fill a rectangle (clipped to the label). */
  rect(x: number, y: number, w: number, h: number, color = BLACK): void {
    const x0 = Math.max(0, Math.round(x));
    const x1 = Math.min(W, Math.round(x + w));
    const y0 = Math.max(0, Math.round(y));
    const y1 = Math.min(H, Math.round(y + h));
    if (x1 <= x0) return;
    for (let row = y0; row < y1; row++) this.px.fill(color, row * W + x0, row * W + x1);
  }

  /** Outline of a rectangle, `t` px thick, inside the given bounds. */
  frame(x: number, y: number, w: number, h: number, t: number): void {
    this.rect(x, y, w, t);
    this.rect(x, y + h - t, w, t);
    this.rect(x, y, t, h);
    this.rect(x + w - t, y, t, h);
  }

  /** Draw `text` with its baseline at `y`; returns the drawn width. */
  text(
    text: string,
    x: number,
    y: number,
    font: FontId,
    size: number,
    align: Align = 'left',
    color = BLACK,
  ): number {
    const width = measure(text, font, size);
    let pen = align === 'left' ? x : align === 'right' ? x - width : x - width / 2;
    const px = this.px;
    for (const ch of text) {
      const g = glyph(font, size, ch);
      const ox = Math.round(pen);
      const oy = Math.round(y);
      const runs = g.runs;
      for (let i = 0; i < runs.length; i += 3) {
        const row = oy + (runs[i] ?? 0);
        if (row < 0 || row >= H) continue;
        const x0 = Math.max(0, ox + (runs[i + 1] ?? 0));
        const x1 = Math.min(W, ox + (runs[i + 2] ?? 0));
        if (x1 > x0) px.fill(color, row * W + x0, row * W + x1);
      }
      pen += g.advance;
    }
    return width;
  }

  /** `text` fitted into `maxWidth` (shrinking down to `minSize`, then cutting). */
  fitText(
    text: string,
    x: number,
    y: number,
    font: FontId,
    size: number,
    minSize: number,
    maxWidth: number,
    align: Align = 'left',
  ): number {
    const [t, s] = fit(text, font, size, minSize, maxWidth);
    return this.text(t, x, y, font, s, align);
  }
}

// ---------------------------------------------------------------------------------------------
// bwip-js → raster

type Point = [number, number];

function isDark(rgb: string): boolean {
  const n = parseInt(rgb.slice(0, 6), 16);
  if (Number.isNaN(n)) return true;
  return ((n >> 16) & 255) * 0.299 + ((n >> 8) & 255) * 0.587 + (n & 255) * 0.114 < 128;
}

/**
 * A synchronous bwip-js drawing context that paints into a {@link Raster}. Integer scaling only (no
 * smoothing). Bars (`line`) and hexagons follow bwip-js's built-in rasterizer; polygons and ellipses
 * are filled even-odd on `fill()`, sampling pixel centres. `place(w, h)` picks the top-left corner
 * once bwip-js knows the symbol's size, and may throw to reject it.
 */
class RasterDrawing implements bwipjs.DrawingContext<void> {
  width = 0;
  height = 0;
  private ox = 0;
  private oy = 0;
  private polys: Point[][] = [];
  private ellipses: Array<[number, number, number, number]> = [];

  constructor(
    private readonly raster: Raster,
    private readonly place: (w: number, h: number) => Point,
  ) {}

  scale(sx: number, sy: number): [number, number] {
    return [Math.floor(sx) || 1, Math.floor(sy) || 1];
  }

  measure(): { width: number; ascent: number; descent: number } {
    return { width: 0, ascent: 0, descent: 0 }; // we never ask bwip-js for human-readable text
  }

  init(width: number, height: number): void {
    this.width = width;
    this.height = height;
    [this.ox, this.oy] = this.place(width, height);
  }

  private span(x0: number, x1: number, y: number, color: number): void {
    this.raster.rect(this.ox + x0, this.oy + y, x1 - x0 + 1, 1, color);
  }

  line(x0: number, y0: number, x1: number, y1: number, lw: number, rgb: string): void {
    x0 |= 0;
    y0 |= 0;
    x1 |= 0;
    y1 |= 0;
    const w = Math.round(lw) || 1;
    if (y1 < y0) [y0, y1] = [y1, y0];
    if (x1 < x0) [x0, x1] = [x1, x0];
    const half = (w / 2) | 0;
    if (x0 === x1) {
      x0 = x0 - w + half;
      x1 = x1 + half - 1;
    } else {
      y0 = y0 - half;
      y1 = y1 + w - half - 1;
    }
    const color = isDark(rgb) ? BLACK : WHITE;
    this.raster.rect(this.ox + x0, this.oy + y0, x1 - x0 + 1, y1 - y0 + 1, color);
  }

  polygon(pts: Point[]): void {
    this.polys.push(pts.map(([x, y]) => [x, y]));
  }

  /**
   * MaxiCode hexagons: the top point is at a half pixel, the rest on integers, listed from the top
   * counter-clockwise (bwip-js passes 6 points; its typings say 5).
   */
  hexagon(pts: Point[], rgb?: string): void {
    const [p0, p1, p2, , p4] = pts;
    if (!p0 || !p1 || !p2 || !p4) return;
    const color = rgb === undefined || isDark(rgb) ? BLACK : WHITE;
    const x = p0[0] | 0;
    let y = p0[1] | 0;
    const qh = (p1[1] - p0[1]) | 0;
    const vh = (p2[1] - p1[1] - 1) | 0;
    const xl = p2[0] | 0;
    const xr = p4[0] | 0;
    this.span(x, x + 1, y++, color);
    for (let k = 1; k < qh; k++) this.span(x - 2 * k, x + 1 + 2 * k, y++, color);
    for (let k = 0; k <= vh; k++) this.span(xl, xr, y++, color);
    for (let k = qh - 1; k >= 1; k--) this.span(x - 2 * k, x + 1 + 2 * k, y++, color);
    this.span(x, x + 1, y, color);
  }

  ellipse(x: number, y: number, rx: number, ry: number): void {
    this.ellipses.push([x, y, rx, ry]);
  }

  fill(rgb: string): void {
    const color = isDark(rgb) ? BLACK : WHITE;
    let minY = Infinity;
    let maxY = -Infinity;
    for (const p of this.polys) {
      for (const [, y] of p) {
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
    }
    for (const [, cy, , ry] of this.ellipses) {
      minY = Math.min(minY, cy - ry);
      maxY = Math.max(maxY, cy + ry);
    }
    const xs: number[] = [];
    for (let row = Math.floor(minY); row <= Math.ceil(maxY); row++) {
      const yc = row + 0.5;
      xs.length = 0;
      for (const p of this.polys) {
        for (let i = 0, j = p.length - 1; i < p.length; j = i++) {
          const a = p[i];
          const b = p[j];
          if (!a || !b || a[1] <= yc === b[1] <= yc) continue;
          xs.push(a[0] + ((yc - a[1]) * (b[0] - a[0])) / (b[1] - a[1]));
        }
      }
      for (const [cx, cy, rx, ry] of this.ellipses) {
        const t = (yc - cy) / ry;
        if (t <= -1 || t >= 1) continue;
        const dx = rx * Math.sqrt(1 - t * t);
        xs.push(cx - dx, cx + dx);
      }
      xs.sort((p, q) => p - q);
      for (let i = 0; i + 1 < xs.length; i += 2) {
        const x0 = Math.ceil((xs[i] ?? 0) - 0.5);
        const x1 = Math.ceil((xs[i + 1] ?? 0) - 0.5) - 1;
        if (x1 >= x0) this.span(x0, x1, row, color);
      }
    }
    this.polys = [];
    this.ellipses = [];
  }

  text(): void {}

  end(): void {}
}

/** Draws a bwip-js symbol at `place(w, h)`; returns its pixel size. */
function drawBarcode(
  raster: Raster,
  options: Parameters<typeof bwipjs.render>[0],
  place: (w: number, h: number) => Point,
): { width: number; height: number } {
  const drawing = new RasterDrawing(raster, place);
  bwipjs.render({ ...options, padding: 0 }, drawing);
  return { width: drawing.width, height: drawing.height };
}

// ---------------------------------------------------------------------------------------------
// Label content shared by the GIF and ZPL renderers

/** ISO 3166 numeric codes, for the MaxiCode primary message. Other countries get no MaxiCode. */
const ISO_NUMERIC: Readonly<Record<string, string>> = {
  US: '840',
  PR: '630',
  CA: '124',
  MX: '484',
  GB: '826',
  DE: '276',
  FR: '250',
  IT: '380',
  ES: '724',
  NL: '528',
  BE: '056',
  IE: '372',
  AT: '040',
  CH: '756',
  SE: '752',
  DK: '208',
  NO: '578',
  PL: '616',
  AU: '036',
  NZ: '554',
  JP: '392',
  CN: '156',
  HK: '344',
  SG: '702',
  KR: '410',
  IN: '356',
  BR: '076',
};

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

interface Content {
  tracking: string;
  trackingGrouped: string;
  service: string;
  /** Character printed in the service icon box ("1", "2", "3"), '' for a solid box (Ground). */
  serviceIcon: string;
  from: string[];
  fromName: string;
  toName: string;
  toLines: string[];
  toCityLine: string;
  /** "GA 300": destination state (or country) and the first 3 postal characters. */
  routing: string;
  weight: string;
  pieces: string;
  shipperNumber: string;
  date: string;
  reference: string;
  /** UPS MaxiCode structured carrier message pieces, when the destination allows one. */
  maxi?: {
    mode: 2 | 3;
    postal: string;
    /** ISO 3166 numeric. */
    country: string;
    serviceClass: string;
    /** Secondary message fields, longest first: renderers use the first that fits the symbol. */
    secondaries: string[][];
  };
}

function upper(s: string | undefined): string {
  return clean(s).toUpperCase();
}

function cityLine(a: LabelParty['Address']): string {
  const city = upper(a.City);
  const rest = [upper(a.StateProvinceCode), upper(a.PostalCode)].filter(Boolean).join(' ');
  const line = [city, rest].filter(Boolean).join(' ');
  return upper(a.CountryCode) === 'US' || !a.CountryCode ? line : `${line} ${upper(a.CountryCode)}`.trim();
}

function serviceIcon(code: string): string {
  switch (code) {
    case '01':
    case '13':
    case '14':
      return '1';
    case '02':
    case '59':
      return '2';
    case '12':
      return '3';
    default:
      return ''; // Ground, Standard, Worldwide: solid box
  }
}

/** "2024-05-01" → "01 MAY 2024"; anything else printed as given. */
function formatDate(d: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d.trim());
  const month = m ? MONTHS[Number(m[2]) - 1] : undefined;
  return m && month ? `${m[3]} ${month} ${m[1]}` : upper(d);
}

/** Day of the year, 001..366, for the MaxiCode secondary message. */
function julianDay(d: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d.trim());
  if (!m) return '001';
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const day = Math.floor((t - Date.UTC(Number(m[1]), 0, 1)) / 86_400_000) + 1;
  return Number.isFinite(day) && day >= 1 && day <= 366 ? String(day).padStart(3, '0') : '001';
}

/** MaxiCode field text: upper-case letters, digits and a little punctuation, no separators. */
function maxiField(s: string | undefined, max: number): string {
  return upper(s)
    .normalize('NFD')
    .replace(/[^A-Z0-9 ./-]/g, '')
    .trim()
    .slice(0, max);
}

function content(input: LabelInput): Content {
  const tracking = input.trackingNumber.replace(/\s+/g, '').toUpperCase();
  if (!/^[\x20-\x7e]+$/.test(tracking)) {
    throw new Error(`label: tracking number must be printable ASCII, got "${input.trackingNumber}"`);
  }
  const from = input.shipper;
  const to = input.shipTo;
  const fromLines = [
    upper(from.AttentionName),
    upper(from.Phone?.Number),
    ...from.Address.AddressLine.map(upper),
    cityLine(from.Address),
  ].filter(Boolean);
  const toLines = [
    upper(to.AttentionName),
    upper(to.Phone?.Number),
    ...to.Address.AddressLine.map(upper),
  ].filter(Boolean);
  const toCountry = upper(to.Address.CountryCode);
  const toPostal = upper(to.Address.PostalCode).replace(/[^A-Z0-9]/g, '');
  const weight = `${clean(input.weight) || '0'} ${input.weightUnit}`;

  let maxi: Content['maxi'];
  const country = ISO_NUMERIC[toCountry];
  const serviceClass = /^\d{2}$/.test(input.serviceCode) ? `0${input.serviceCode}` : '000';
  if (country) {
    const head = [
      // UPS prints "1Z" + package id + check digit here (the shipper number has its own field).
      /^1Z[0-9A-Z]{16}$/.test(tracking) ? `1Z${tracking.slice(10)}` : maxiField(tracking, 10),
      'UPSN',
      maxiField(from.ShipperNumber, 10),
      julianDay(input.shipDate),
      '',
      `${input.packageIndex}/${input.packageCount}`,
      maxiField(input.weight, 6),
      'N',
    ];
    const street = maxiField(to.Address.AddressLine[0], 30);
    const city = maxiField(to.Address.City, 20);
    const state = maxiField(to.Address.StateProvinceCode, 3);
    // The secondary message holds roughly 84 characters: drop the street, then the city, if need be.
    const secondaries = [
      [...head, street, city, state],
      [...head, '', city, state],
      [...head, '', '', state],
    ];
    if ((toCountry === 'US' || toCountry === 'PR') && /^\d{5}(\d{4})?$/.test(toPostal)) {
      maxi = { mode: 2, postal: toPostal, country, serviceClass, secondaries };
    } else if (toPostal.length > 0 && toCountry !== 'US') {
      maxi = { mode: 3, postal: toPostal.slice(0, 6), country, serviceClass, secondaries };
    }
  }

  return {
    tracking,
    trackingGrouped: formatTrackingNumber(tracking),
    service: upper(input.serviceName) || `SERVICE ${upper(input.serviceCode)}`,
    serviceIcon: serviceIcon(input.serviceCode),
    fromName: upper(from.Name),
    from: fromLines,
    toName: upper(to.Name),
    toLines,
    toCityLine: cityLine(to.Address),
    routing: [upper(to.Address.StateProvinceCode) || toCountry, toPostal.slice(0, 3)]
      .filter(Boolean)
      .join(' '),
    weight,
    pieces: `${input.packageIndex} OF ${input.packageCount}`,
    shipperNumber: upper(from.ShipperNumber),
    date: formatDate(input.shipDate),
    reference: clean(input.reference),
    maxi,
  };
}

