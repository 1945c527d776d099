/**
 * Shipping-label renderer for the local UPS sandbox: a 4×6 in thermal label at 203 dpi, as a 2-colour
 * GIF (what UPS returns in `ShippingLabel.GraphicImage` for `LabelImageFormat` GIF) and as ZPL II.
 *
 * Speed matters (one label per package, up to 100,000 per batch), so the GIF path never goes through
 * a per-label RGBA canvas:
 * - the label is composed directly in a 1-byte-per-pixel index buffer (0 white, 1 black) that
 *   `./label/gif-encoder` encodes as is (`./label/bitmap`);
 * - text is drawn from a glyph cache: pureimage rasterizes each (font, size, character) once from
 *   the DejaVu TTFs, and the thresholded coverage is kept as horizontal runs that are blitted with
 *   `Uint8Array.fill` (`./label/fonts`, `./label/glyphs`);
 * - barcodes come from bwip-js through a small synchronous drawing context that paints its bars,
 *   hexagons and bullseye rings straight into the index buffer at an integer scale (bwip-js's own
 *   PNG output is asynchronous in Node) (`./label/barcodes`).
 *
 * Both formats share the label's text fields (`./label/content`, `./label/maxicode`) and its layout
 * (`./label/layout`); `./label/gif` and `./label/zpl` only draw or print them.
 */
export { renderLabelGif } from './label/gif';
export { renderLabelZpl } from './label/zpl';
export { LABEL_HEIGHT_PX, LABEL_WIDTH_PX, type LabelInput, type LabelParty } from './label/types';
