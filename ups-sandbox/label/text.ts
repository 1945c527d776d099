/**
 * Normalization of user text before it is printed (GIF and ZPL alike) or encoded in the MaxiCode.
 */

/** Printable text: NFC, control characters to spaces, runs of whitespace collapsed, trimmed. */
export function clean(s: string | undefined): string {
  return (s ?? '')
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** {@link clean}, then upper case: how most label fields are printed. */
export function upper(s: string | undefined): string {
  return clean(s).toUpperCase();
}
