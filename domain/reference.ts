/**
 * Per-row idempotency reference, sent as every Package.ReferenceNumber.Value and as
 * Request.TransactionReference.CustomerContext, and used to find a shipment again (recover_label).
 *
 * Format: `SB<reference key>-<row_no>`, at most 35 characters (UPS limit). The reference key belongs to
 * one batch and is kept in the ledger (`batches.reference_key`): up to 10 letters or digits of the batch's
 * name, so a person reading a label can tell the batch, then a `-` and 8 random base-36 characters, so
 * two batches never share a reference — not when their ids differ only in punctuation
 * (`spring_sale` / `spring-sale`), not when long ids differ only at the start, not when an id comes
 * back after Temporal's retention deleted the old run, not across two ledgers on one UPS account.
 * A reference collision is still refused loudly by the ledger's unique index.
 */
export const REFERENCE_MAX = 35;
/** Longest row number a reference must hold (a batch has at most this many rows). */
const MAX_ROW_DIGITS = 9;
const NAME_CHARS = 10;
const RANDOM_CHARS = 8;
const KEY_PATTERN = /^[A-Za-z0-9]{0,10}-?[a-z0-9]{8}$/;

/**
 * A new reference key for a batch. `random` returns uniform values in [0, 1): the activity that creates
 * the batch record passes a cryptographic source; the key is stored, never recomputed.
 */
export function newReferenceKey(batchId: string, random: () => number): string {
  const name = batchId
    .replace(/^batch-/, '')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, NAME_CHARS);
  let suffix = '';
  for (let i = 0; i < RANDOM_CHARS; i++) suffix += Math.floor(random() * 36).toString(36);
  return name ? `${name}-${suffix}` : suffix;
}

export function isReferenceKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/** The reference of row `rowNo` of the batch whose reference key is `referenceKey`. */
export function rowReference(referenceKey: string, rowNo: number): string {
  if (!Number.isInteger(rowNo) || rowNo < 0 || String(rowNo).length > MAX_ROW_DIGITS)
    throw new Error(`invalid row number ${rowNo}`);
  if (!isReferenceKey(referenceKey)) throw new Error(`invalid reference key ${JSON.stringify(referenceKey)}`);
  const reference = `SB${referenceKey}-${rowNo}`;
  // 2 + 10 + 1 + 8 + 1 + 9 = 31: always within UPS's limit.
  if (reference.length > REFERENCE_MAX) throw new Error(`reference ${reference} is too long`);
  return reference;
}
