/**
 * Text drawing for the GIF: pureimage rasterizes each (font, size, character) once from the DejaVu
 * TTFs, and the thresholded coverage is kept as horizontal runs that are blitted into the
 * {@link Raster} with `Uint8Array.fill`.
 */
import * as PImage from 'pureimage';
import { BLACK, type Raster } from './bitmap';
import { advanceEm, getFaces, MAX_CACHED_GLYPHS, measure, type Align, type FontId } from './fonts';
import { LABEL_HEIGHT_PX, LABEL_WIDTH_PX } from './types';
// Plain constants: hot drawing loops read them per pixel row (an imported binding may be a getter).
const H = LABEL_HEIGHT_PX;
const W = LABEL_WIDTH_PX;

/** One rasterized glyph: advance in px, and black runs relative to the pen (origin on the baseline). */
interface Glyph {
  advance: number;
  /** Triples: dy, x0, x1 (x1 exclusive). */
  runs: Int16Array;
}

/** Glyph pixels with at least this much coverage (0..255) print black. */
const COVERAGE_THRESHOLD = 110;

const glyphCache = new Map<string, Glyph>();

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

/** Draw `text` into `raster` with its baseline at `y` (clipped to the label); returns the drawn width. */
export function drawText(
  raster: Raster,
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
  const px = raster.px;
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
