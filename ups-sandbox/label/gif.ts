/**
 * The GIF renderer: lays the label out, draws text, boxes and barcodes into a {@link Raster}, and
 * encodes it.
 */
import { drawCode128, drawMaxiCode } from './barcodes';
import { encodeGif, Raster } from './bitmap';
import { labelContent } from './content';
import { drawText } from './glyphs';
import { BARCODE_HEIGHT, layout, MAXI_X, QUIET, Y_BARCODE, Y_MAXI, Y_RULE2, Y_RULE4 } from './layout';
import type { LabelInput } from './types';

/**
 * Render a 4×6 in, 203 dpi, black-and-white UPS-style label as a GIF.
 *
 * @param input - what to print
 * @returns the GIF file (GIF89a, 812 × 1218, 2-colour palette)
 * @throws Error when the tracking number is not printable ASCII
 */
export function renderLabelGif(input: LabelInput): Buffer {
  const c = labelContent(input);
  const r = new Raster();
  for (const it of layout(c)) {
    if (it.kind === 'text') drawText(r, it.text, it.x, it.y, it.font, it.size, it.align);
    else if (it.border) r.frame(it.x, it.y, it.w, it.h, it.border);
    else r.rect(it.x, it.y, it.w, it.h);
  }
  if (c.maxi) drawMaxiCode(r, c.maxi, MAXI_X, Y_MAXI, Y_RULE2 - Y_MAXI);
  drawCode128(r, c.tracking, Y_BARCODE, Y_RULE4 - Y_BARCODE, BARCODE_HEIGHT, QUIET);
  return encodeGif(r.px);
}
