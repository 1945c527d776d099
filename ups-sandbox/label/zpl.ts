/**
 * The ZPL II renderer: the same layout as the GIF, as ^A0 text, ^GB boxes, a ^BD MaxiCode and a ^BC
 * Code 128, with all user text behind ^FH hex escapes.
 */
import { labelContent } from './content';
import { BARCODE_HEIGHT, layout, MAXI_X, QUIET, Y_BARCODE, Y_MAXI, Y_RULE4, type Item } from './layout';
import { MAXI_SECONDARY_CAPACITY, maxiSecondary } from './maxicode';
import { LABEL_HEIGHT_PX as H, LABEL_WIDTH_PX as W, type LabelInput } from './types';

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
  const c = labelContent(input);
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
  // The tracking number is printable ASCII (checked in labelContent()); ^ and ~ would still be commands.
  const data = c.tracking.replace(/[\^~]/g, '');
  out.push(`^FO${x},${y}^BY${dots}^BCN,${BARCODE_HEIGHT},N,N,N^FD>:${data}^FS`);

  out.push('^XZ');
  return out.join('\n');
}
