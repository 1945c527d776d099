/**
 * Per-row idempotency reference, sent as every Package.ReferenceNumber.Value and as
 * Request.TransactionReference.CustomerContext, and used to find a shipment again (recover_label).
 * Format: `SB<batch short id>-<row_no>`, at most 35 characters (UPS limit). The batch short id is the
 * batch id without its `batch-` prefix, restricted to [A-Za-z0-9], cut so the whole fits 35 chars.
 * Pure and deterministic: the same (batchId, rowNo) always gives the same reference.
 */
export const REFERENCE_MAX = 35;

export function rowReference(batchId: string, rowNo: number): string {
  if (!Number.isInteger(rowNo) || rowNo < 0) throw new Error(`invalid row number ${rowNo}`);
  const short = batchId.replace(/^batch-/, '').replace(/[^A-Za-z0-9]/g, '');
  const suffix = `-${rowNo}`;
  const room = REFERENCE_MAX - 2 - suffix.length;
  // keep the END of long ids (their random part) when cutting
  const id = short.length > room ? short.slice(short.length - room) : short;
  return `SB${id}${suffix}`;
}
