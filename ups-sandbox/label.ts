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
import type { StoredParty } from './store';

/** A party as printed on a label: the UPS Shipper / ShipTo fields the store keeps. */
export type LabelParty = StoredParty;

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

const RS = '\x1e';
const GS = '\x1d';
const EOT = '\x04';
/** Usable characters in a mode 2/3 MaxiCode secondary message (ISO/IEC 16023: 84 in code set A). */
const MAXI_SECONDARY_CAPACITY = 84;

/** The low-priority MaxiCode message: "[)>␞01␝96" + secondary fields + "␞␄". */
function maxiSecondary(fields: string[]): string {
  return `[)>${RS}01${GS}96${fields.join(GS)}${RS}${EOT}`;
}

/** bwip-js `parse` syntax (^NNN = byte NNN) for the whole message, primary fields first. */
function bwipParse(s: string): string {
  return s.replace(/[\p{Cc}^]/gu, (ch) => `^${String(ch.charCodeAt(0)).padStart(3, '0')}`);
}

/**
 * Draw the UPS MaxiCode (mode 2 for US ZIPs, mode 3 for alphanumeric postcodes), trying the
 * secondary messages longest first. Returns false when bwip-js rejects them all (the label is still
 * valid without it).
 */
function drawMaxiCode(r: Raster, m: NonNullable<Content['maxi']>, x: number, y: number, h: number): boolean {
  for (const fields of m.secondaries) {
    // bwip-js expects the structured carrier message with the primary fields inline after "96".
    const message = `[)>${RS}01${GS}96${m.postal}${GS}${m.country}${GS}${m.serviceClass}${GS}${fields.join(GS)}${RS}${EOT}`;
    // `mode` is a BWIPP option that bwip-js's RenderOptions typings do not list.
    const options: bwipjs.RenderOptions & { mode: number } = {
      bcid: 'maxicode',
      text: bwipParse(message),
      parse: true,
      mode: m.mode,
      scale: 2,
    };
    try {
      drawBarcode(r, options, (_w, sh) => [x, y + Math.floor((h - sh) / 2)]);
      return true;
    } catch {
      // too long for the symbol, or a postcode bwip-js rejects: try the next, then give up
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Layout (pixels = dots at 203 dpi), shared by the GIF and ZPL renderers. Sections sit at fixed
// heights, like on the real label.

const M = 16; // side margin
const RULE = 8; // thick rule
const THIN = 4;
const Y_SHIPTO = 206;
const Y_RULE1 = 478;
const Y_MAXI = Y_RULE1 + RULE;
const Y_RULE2 = 708;
const Y_SERVICE = Y_RULE2 + RULE;
const Y_RULE3 = 842;
const Y_BARCODE = Y_RULE3 + THIN;
const Y_RULE4 = 1088;
const Y_FOOTER = Y_RULE4 + RULE;
const RIGHT_COL = 560; // x where the top-right weight column starts
const TO_X = 110; // ship-to block indent
const MAXI_X = M + 8;
const MAXI_SLOT = 250; // MaxiCode column width (the symbol is ≈ 1.05 in = 210 dots at scale 2)
const ICON = 104; // service icon box
const BARCODE_HEIGHT = 203; // 1 in
const QUIET = 30; // ≥ 10 modules at 3 dots

type Item =
  | {
      kind: 'text';
      text: string;
      /** Anchor: left edge, centre or right edge per `align`. */
      x: number;
      /** Baseline. */
      y: number;
      font: FontId;
      size: number;
      align: Align;
      /** The width the text was fitted into (ZPL uses it as the ^FB block width). */
      maxWidth: number;
    }
  | {
      kind: 'box';
      x: number;
      y: number;
      w: number;
      h: number;
      /** Border; omitted = filled. */ border?: number;
    };

/** Every rule, box and text field of the label, text already fitted to its width. */
function layout(c: Content): Item[] {
  const items: Item[] = [];
  const text = (
    t: string,
    x: number,
    y: number,
    font: FontId,
    size: number,
    minSize: number,
    maxWidth: number,
    align: Align = 'left',
  ): void => {
    const [fitted, s] = fit(t, font, size, minSize, maxWidth);
    if (fitted) items.push({ kind: 'text', text: fitted, x, y, font, size: s, align, maxWidth });
  };
  const rule = (y: number, h: number): void => void items.push({ kind: 'box', x: 0, y, w: W, h });

  // Ship from (small), and the weight / piece / shipper column on the right.
  const fromWidth = RIGHT_COL - M - 10;
  text(c.fromName, M, M + 22, 'bold', 24, 18, fromWidth);
  c.from.slice(0, 6).forEach((line, i) => text(line, M, M + 48 + i * 26, 'regular', 22, 16, fromWidth));
  const colWidth = W - RIGHT_COL - M;
  text(c.weight, W - M, M + 30, 'bold', 32, 20, colWidth, 'right');
  text(c.pieces, W - M, M + 72, 'bold', 32, 20, colWidth, 'right');
  text(`SHP#: ${c.shipperNumber}`, W - M, M + 112, 'regular', 20, 14, colWidth, 'right');
  text(`SHP WT: ${c.weight}`, W - M, M + 138, 'regular', 20, 14, colWidth, 'right');
  text(`DATE: ${c.date}`, W - M, M + 164, 'regular', 20, 14, colWidth, 'right');

  // Ship to (big), the city line largest.
  text('SHIP', M, Y_SHIPTO + 30, 'bold', 26, 26, TO_X - M);
  text('TO:', M, Y_SHIPTO + 60, 'bold', 26, 26, TO_X - M);
  const toWidth = W - TO_X - M;
  text(c.toName, TO_X, Y_SHIPTO + 32, 'bold', 34, 22, toWidth);
  c.toLines
    .slice(0, 5)
    .forEach((line, i) => text(line, TO_X, Y_SHIPTO + 68 + i * 36, 'regular', 30, 20, toWidth));
  text(c.toCityLine, TO_X, Y_RULE1 - 22, 'bold', 52, 26, toWidth);
  rule(Y_RULE1, RULE);

  // MaxiCode column (drawn by the renderers) and the routing code.
  const routeLeft = c.maxi ? MAXI_X + MAXI_SLOT : M;
  if (c.maxi) items.push({ kind: 'box', x: routeLeft - THIN, y: Y_MAXI, w: THIN, h: Y_RULE2 - Y_MAXI });
  text(c.routing, (routeLeft + W) / 2, Y_MAXI + 138, 'bold', 84, 30, W - routeLeft - 2 * M, 'center');
  rule(Y_RULE2, RULE);

  // Service name, icon box, tracking number.
  const boxX = W - M - ICON;
  const boxY = Y_SERVICE + 10;
  if (c.serviceIcon) {
    items.push({ kind: 'box', x: boxX, y: boxY, w: ICON, h: ICON, border: 6 });
    text(c.serviceIcon, boxX + ICON / 2, boxY + ICON - 18, 'bold', 84, 84, ICON, 'center');
  } else {
    items.push({ kind: 'box', x: boxX, y: boxY, w: ICON, h: ICON });
  }
  text(c.service, M, Y_SERVICE + 58, 'bold', 52, 28, boxX - M - 16);
  text(`TRACKING #: ${c.trackingGrouped}`, M, Y_SERVICE + 104, 'bold', 28, 18, boxX - M - 16);
  rule(Y_RULE3, THIN);

  // (tracking barcode) then billing, reference, date.
  rule(Y_RULE4, RULE);
  text('BILLING: P/P', M, Y_FOOTER + 32, 'bold', 24, 24, W - 2 * M);
  if (c.reference) text(`REF 1: ${c.reference}`, M, Y_FOOTER + 64, 'regular', 22, 14, W - 2 * M);
  text(`SHIP DATE: ${c.date}`, M, H - 20, 'regular', 18, 14, W / 2);
  text('UPS SANDBOX', W - M, H - 20, 'regular', 18, 14, W / 2 - 2 * M, 'right');
  return items;
}

// ---------------------------------------------------------------------------------------------
// GIF

/**
 * Render a 4×6 in, 203 dpi, black-and-white UPS-style label as a GIF.
 *
 * @param input - what to print
 * @returns the GIF file (GIF89a, 812 × 1218, 2-colour palette)
 * @throws Error when the tracking number is not printable ASCII
 */
export function renderLabelGif(input: LabelInput): Buffer {
  const c = content(input);
  const r = new Raster();
  for (const it of layout(c)) {
    if (it.kind === 'text') r.text(it.text, it.x, it.y, it.font, it.size, it.align);
    else if (it.border) r.frame(it.x, it.y, it.w, it.h, it.border);
    else r.rect(it.x, it.y, it.w, it.h);
  }
  if (c.maxi) drawMaxiCode(r, c.maxi, MAXI_X, Y_MAXI, Y_RULE2 - Y_MAXI);

  // The tracking number in Code 128: 3-dot modules (≈ 2.8 in for a 1Z number), 1 in tall, centred
  // with quiet zones; narrower modules only if a long tracking number would not fit.
  const slot = Y_RULE4 - Y_BARCODE;
  for (const scale of [3, 2, 1]) {
    const options: bwipjs.RenderOptions = {
      bcid: 'code128',
      text: c.tracking,
      scaleX: scale,
      scaleY: scale,
      height: (BARCODE_HEIGHT / scale / 72) * 25.4, // bwip-js: mm at 72 dpi × scale
      includetext: false,
    };
    try {
      drawBarcode(r, options, (w, h) => {
        if (w + 2 * QUIET > W && scale > 1) throw new RangeError('code128: too wide at this scale');
        return [Math.floor((W - w) / 2), Y_BARCODE + Math.floor((slot - h) / 2)];
      });
      break;
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
    }
  }
  return encodeGif(r.px);
}

interface GifEncoder {
  writeFrame(index: Uint8Array, width: number, height: number, opts: { palette: number[][] }): void;
  finish(): void;
  bytesView(): Uint8Array;
}

interface GifencModule {
  GIFEncoder(opts?: { initialCapacity?: number }): GifEncoder;
}

let gifenc: GifencModule | undefined;

function encodeGif(index: Uint8Array): Buffer {
  // gifenc is CommonJS whose named exports Node's ESM loader cannot see; require it directly.
  gifenc ??= requireHere('gifenc') as GifencModule;
  const gif = gifenc.GIFEncoder({ initialCapacity: 64 * 1024 });
  gif.writeFrame(index, W, H, {
    palette: [
      [255, 255, 255],
      [0, 0, 0],
    ],
  });
  gif.finish();
  const bytes = gif.bytesView();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// ---------------------------------------------------------------------------------------------
// ZPL

/**
 * ^FH hex escapes: `^`, `~`, `_` (the escape character itself) and control characters become `_5E`,
 * `_7E`, `_5F`, `_1D`..., so user text can never start a ZPL command.
 */
function zplHex(s: string): string {
  return s.replace(
    /[\p{Cc}_^~]/gu,
    (ch) => `_${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

function zplItem(it: Item): string {
  if (it.kind === 'box') {
    const t = it.border ?? Math.min(it.w, it.h);
    return `^FO${Math.round(it.x)},${Math.round(it.y)}^GB${Math.round(it.w)},${Math.round(it.h)},${t}^FS`;
  }
  // ^A0 (scalable) cell height = font size; the cell top sits about 0.8 em above the baseline.
  const top = Math.max(0, Math.round(it.y - it.size * 0.8));
  const font = `^A0N,${it.size},${it.size}`;
  const data = `^FH_^FD${zplHex(it.text)}^FS`;
  if (it.align === 'left') return `^FO${Math.round(it.x)},${top}${font}${data}`;
  const left = it.align === 'right' ? it.x - it.maxWidth : it.x - it.maxWidth / 2;
  const justify = it.align === 'right' ? 'R' : 'C';
  return `^FO${Math.max(0, Math.round(left))},${top}^FB${Math.round(it.maxWidth)},1,0,${justify}${font}${data}`;
}

/**
 * Render the same label as ZPL II for a 4×6 in, 203 dpi printer (^A0 text, ^GB rules, ^BD MaxiCode,
 * ^BC Code 128). All user text goes through ^FH hex escapes.
 *
 * @param input - what to print
 * @returns `^XA ... ^XZ`
 * @throws Error when the tracking number is not printable ASCII
 */
export function renderLabelZpl(input: LabelInput): string {
  const c = content(input);
  const out: string[] = ['^XA', `^PW${W}`, `^LL${H}`, '^LH0,0', '^CI28'];
  for (const it of layout(c)) out.push(zplItem(it));

  if (c.maxi) {
    // ^BD mode 2/3: high-priority message = service class + country + postal code (mode 2: 9 digits,
    // zero-filled; mode 3: 6 characters, space-filled), then the low-priority message.
    const m = c.maxi;
    const postal = m.mode === 2 ? m.postal.padEnd(9, '0') : m.postal.padEnd(6, ' ');
    const secondaries = m.secondaries.map(maxiSecondary);
    const lpm = secondaries.find((s) => s.length <= MAXI_SECONDARY_CAPACITY) ?? secondaries.at(-1) ?? '';
    out.push(
      `^FO${MAXI_X},${Y_MAXI + 6}^BD${m.mode},1,1^FH_^FD${m.serviceClass}${m.country}${zplHex(postal + lpm)}^FS`,
    );
  }

  // Code 128 subset B (">:"): 11 modules per character + start, check and stop = 11n + 35 modules.
  const modules = 11 * c.tracking.length + 35;
  const dots = modules * 3 + 2 * QUIET <= W ? 3 : 2;
  const x = Math.max(0, Math.floor((W - modules * dots) / 2));
  const y = Y_BARCODE + Math.floor((Y_RULE4 - Y_BARCODE - BARCODE_HEIGHT) / 2);
  // The tracking number is printable ASCII (checked in content()); ^ and ~ would still be commands.
  const data = c.tracking.replace(/[\^~]/g, '');
  out.push(`^FO${x},${y}^BY${dots}^BCN,${BARCODE_HEIGHT},N,N,N^FD>:${data}^FS`);

  out.push('^XZ');
  return out.join('\n');
}
