/**
 * The two DejaVu faces (registered with pureimage once per process) and text metrics: advance
 * widths, measuring and fitting text to a width. Metrics never rasterize, so the ZPL layout uses
 * them too; rasterizing lives in `./glyphs`.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as PImage from 'pureimage';

/** Which DejaVu face: DejaVu Sans or DejaVu Sans Bold. */
export type FontId = 'regular' | 'bold';

/** How a text's anchor x relates to the text: its left edge, centre or right edge. */
export type Align = 'left' | 'center' | 'right';

/** The part of opentype.js's Font (pureimage's `RegisteredFont.font`) that we read. */
interface OpenTypeFont {
  unitsPerEm: number;
  charToGlyph(ch: string): { advanceWidth?: number };
}

/** A registered face: its pureimage family name (as used in `ctx.font`) and parsed font. */
export interface Face {
  /** pureimage family name, as used in `ctx.font`. */
  family: string;
  font: OpenTypeFont;
}

const FONT_FILES: Record<FontId, string> = { regular: 'DejaVuSans.ttf', bold: 'DejaVuSans-Bold.ttf' };

/** Bound on the glyph and advance caches (arbitrary Unicode in names could otherwise grow them without limit). */
export const MAX_CACHED_GLYPHS = 20_000;

const requireHere = createRequire(import.meta.url);
let faces: Record<FontId, Face> | undefined;

/** Register and parse the two DejaVu faces, once per process. */
export function getFaces(): Record<FontId, Face> {
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

/** Advance widths in em, per font and character (cheap: no rasterizing, so ZPL layout can use it too). */
const advanceCache = new Map<string, number>();

/** Advance width of one character, in em. */
export function advanceEm(font: FontId, ch: string): number {
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

/** Width of `text` in px at `size` px. */
export function measure(text: string, font: FontId, size: number): number {
  let em = 0;
  for (const ch of text) em += advanceEm(font, ch);
  return em * size;
}

/**
 * The largest size from `size` down to `minSize` (in steps of 2 px, so the glyph cache stays small)
 * at which `text` fits `maxWidth` in DejaVu; at `minSize`, the text is cut to fit.
 */
export function fit(
  text: string,
  font: FontId,
  size: number,
  minSize: number,
  maxWidth: number,
): [string, number] {
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
