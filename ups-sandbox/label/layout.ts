/**
 * Where everything goes (pixels = dots at 203 dpi), shared by the GIF and ZPL renderers. Sections sit
 * at fixed heights, like on the real label; text is fitted to its width here, so both renderers print
 * the same strings at the same sizes.
 */
import type { LabelContent } from './content';
import { fit, type Align, type FontId } from './fonts';
import { LABEL_HEIGHT_PX as H, LABEL_WIDTH_PX as W } from './types';

const M = 16; // side margin
const RULE = 8; // thick rule
const THIN = 4;
const Y_SHIPTO = 206;
const Y_RULE1 = 478;
/** Top of the MaxiCode / routing-code section. */
export const Y_MAXI = Y_RULE1 + RULE;
/** Rule below the MaxiCode section (its bottom). */
export const Y_RULE2 = 708;
const Y_SERVICE = Y_RULE2 + RULE;
const Y_RULE3 = 842;
/** Top of the tracking-barcode slot. */
export const Y_BARCODE = Y_RULE3 + THIN;
/** Rule below the tracking-barcode slot (its bottom). */
export const Y_RULE4 = 1088;
const Y_FOOTER = Y_RULE4 + RULE;
const RIGHT_COL = 560; // x where the top-right weight column starts
const TO_X = 110; // ship-to block indent
/** Left edge of the MaxiCode. */
export const MAXI_X = M + 8;
const MAXI_SLOT = 250; // MaxiCode column width (the symbol is ≈ 1.05 in = 210 dots at scale 2)
const ICON = 104; // service icon box
/** Tracking barcode bar height: 1 in. */
export const BARCODE_HEIGHT = 203;
/** Minimum quiet zone each side of the tracking barcode: ≥ 10 modules at 3 dots. */
export const QUIET = 30;

/** One thing to print: a text field (already fitted) or a filled or outlined box (rules included). */
export type Item =
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

/** Every rule, box and text field of the label, text already fitted to its width (not the barcodes). */
export function layout(c: LabelContent): Item[] {
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
