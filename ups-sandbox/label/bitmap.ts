/**
 * The label bitmap: one byte per pixel (0 white, 1 black), the palette-index buffer that the GIF encoder
 * (`./gif-encoder`) encodes as is, so the GIF path never goes through an RGBA canvas. Rectangles and frames are filled
 * with `Uint8Array.fill`, row by row.
 */
import { encodeTwoColourGif } from './gif-encoder';
import { LABEL_HEIGHT_PX, LABEL_WIDTH_PX } from './types';
// Plain constants: hot drawing loops read them per pixel row (an imported binding may be a getter).
const H = LABEL_HEIGHT_PX;
const W = LABEL_WIDTH_PX;

/** Palette index of white paper. */
export const WHITE = 0;
/** Palette index of black print. */
export const BLACK = 1;

/** The whole label as palette indices, row-major, {@link LABEL_WIDTH_PX} × {@link LABEL_HEIGHT_PX}. */
export class Raster {
  /** One byte per pixel: {@link WHITE} or {@link BLACK}. */
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
}

/** Encode a full-label index buffer (see {@link Raster.px}) as a 2-colour GIF89a. */
export function encodeGif(index: Uint8Array): Buffer {
  return encodeTwoColourGif(index, W, H);
}
