/**
 * Barcodes for the GIF: bwip-js encodes them and a small synchronous drawing context paints its bars,
 * hexagons and bullseye rings straight into the {@link Raster} at an integer scale (bwip-js's own PNG
 * output is asynchronous in Node).
 */
import bwipjs from 'bwip-js/node';
import { BLACK, WHITE, type Raster } from './bitmap';
import { maxiFullMessage, type MaxiCodeData } from './maxicode';
import { LABEL_WIDTH_PX } from './types';
// Plain constants: hot drawing loops read them per pixel row (an imported binding may be a getter).
const W = LABEL_WIDTH_PX;

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

/** bwip-js `parse` syntax (^NNN = byte NNN) for the whole message, primary fields first. */
function bwipParse(s: string): string {
  return s.replace(/[\p{Cc}^]/gu, (ch) => `^${String(ch.charCodeAt(0)).padStart(3, '0')}`);
}

/**
 * Draw the UPS MaxiCode (mode 2 for US ZIPs, mode 3 for alphanumeric postcodes) with its left edge at
 * `x`, centred vertically in the `h` px below `y`, trying the secondary messages longest first.
 *
 * @returns false when bwip-js rejects them all (the label is still valid without it)
 */
export function drawMaxiCode(raster: Raster, m: MaxiCodeData, x: number, y: number, h: number): boolean {
  for (const fields of m.secondaries) {
    // bwip-js expects the structured carrier message with the primary fields inline after "96".
    const message = maxiFullMessage(m, fields);
    // `mode` is a BWIPP option that bwip-js's RenderOptions typings do not list.
    const options: bwipjs.RenderOptions & { mode: number } = {
      bcid: 'maxicode',
      text: bwipParse(message),
      parse: true,
      mode: m.mode,
      scale: 2,
    };
    try {
      drawBarcode(raster, options, (_w, sh) => [x, y + Math.floor((h - sh) / 2)]);
      return true;
    } catch {
      // too long for the symbol, or a postcode bwip-js rejects: try the next, then give up
    }
  }
  return false;
}

/**
 * Draw `text` as Code 128, centred on the label and vertically in the `slotHeight` px below `top`:
 * 3-dot modules (≈ 2.8 in for a 1Z number), `barHeight` px tall, with `quiet` px quiet zones;
 * narrower modules only if a long text would not fit (at 1 dot, it is drawn regardless).
 */
export function drawCode128(
  raster: Raster,
  text: string,
  top: number,
  slotHeight: number,
  barHeight: number,
  quiet: number,
): void {
  for (const scale of [3, 2, 1]) {
    const options: bwipjs.RenderOptions = {
      bcid: 'code128',
      text,
      scaleX: scale,
      scaleY: scale,
      height: (barHeight / scale / 72) * 25.4, // bwip-js: mm at 72 dpi × scale
      includetext: false,
    };
    try {
      drawBarcode(raster, options, (w, h) => {
        if (w + 2 * quiet > W && scale > 1) throw new RangeError('code128: too wide at this scale');
        return [Math.floor((W - w) / 2), top + Math.floor((slotHeight - h) / 2)];
      });
      break;
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
    }
  }
}
