/** The ledger's `batches` records: the batch's input, its load mark, its accepted cancel, its stored preview. */
import { randomInt } from 'node:crypto';
import { newReferenceKey } from '../../domain/reference';
import type { BatchInput } from '../../domain/batch';
import type { Db } from './transaction';

/**
 * The batch record; idempotent (a retried load finds it). A new record gets a random reference key
 * (domain/reference.ts); an existing one keeps its key (a record from before keys existed gets one).
 */
export async function upsertBatch(db: Db, batchId: string, input: BatchInput): Promise<void> {
  const referenceKey = newReferenceKey(batchId, () => randomInt(0, 2 ** 32) / 2 ** 32);
  await db.query(
    `INSERT INTO batches (batch_id, name, mode, phase, source_table, key_column, filter, template, shipper, options,
                          reference_key)
     VALUES ($1, $2, $3, 'loading', $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (batch_id) DO UPDATE
       SET updated_at = now(), reference_key = COALESCE(batches.reference_key, EXCLUDED.reference_key)`,
    [
      batchId,
      input.name ?? null,
      input.mode,
      input.source.table,
      input.source.keyColumn,
      input.source.filter ?? null,
      input.template,
      JSON.stringify(input.shipper),
      JSON.stringify(input.options),
      referenceKey,
    ],
  );
}

export interface BatchRecord {
  batchId: string;
  input: BatchInput;
  loadedAt: Date | null;
  /** The middle of every row reference of this batch. */
  referenceKey: string;
}

export async function getBatch(db: Db, batchId: string): Promise<BatchRecord | undefined> {
  const { rows } = await db.query<{
    name: string | null;
    mode: 'confirm' | 'auto';
    source_table: string;
    key_column: string;
    filter: string | null;
    template: string;
    shipper: BatchInput['shipper'];
    options: BatchInput['options'];
    loaded_at: Date | null;
    reference_key: string;
  }>(`SELECT * FROM batches WHERE batch_id = $1`, [batchId]);
  const r = rows[0];
  if (!r) return undefined;
  return {
    batchId,
    loadedAt: r.loaded_at,
    referenceKey: r.reference_key,
    input: {
      ...(r.name ? { name: r.name } : {}),
      source: { table: r.source_table, keyColumn: r.key_column, ...(r.filter ? { filter: r.filter } : {}) },
      template: r.template,
      shipper: r.shipper,
      mode: r.mode,
      options: r.options,
    },
  };
}

export async function markLoaded(db: Db, batchId: string): Promise<void> {
  await db.query(`UPDATE batches SET loaded_at = now(), updated_at = now() WHERE batch_id = $1`, [batchId]);
}

/** Accept a cancel in the ledger: from now on shipRow sends no create for this batch. Idempotent. */
export async function requestCancel(db: Db, batchId: string): Promise<void> {
  await db.query(
    `UPDATE batches SET cancel_requested_at = COALESCE(cancel_requested_at, now()), updated_at = now()
      WHERE batch_id = $1`,
    [batchId],
  );
}

export async function storePreview(db: Db, batchId: string, preview: unknown): Promise<void> {
  await db.query(`UPDATE batches SET preview = $2, updated_at = now() WHERE batch_id = $1`, [
    batchId,
    JSON.stringify(preview),
  ]);
}

export async function getPreview(db: Db, batchId: string): Promise<unknown> {
  const { rows } = await db.query<{ preview: unknown }>(`SELECT preview FROM batches WHERE batch_id = $1`, [
    batchId,
  ]);
  return rows[0]?.preview ?? null;
}

/** Whether the ledger holds a record of the batch. */
export async function batchExists(db: Db, batchId: string): Promise<boolean> {
  const { rowCount } = await db.query(`SELECT 1 FROM batches WHERE batch_id = $1`, [batchId]);
  return (rowCount ?? 0) > 0;
}
