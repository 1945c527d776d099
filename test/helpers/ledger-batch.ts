/**
 * A closed batch written straight into the ledger (no workflow, no UPS): what `shipbatch rows` reads, at any
 * size in a second or two, for the pipe tests and the rows benchmark. Rows of every status, with two-package
 * shipments, costs, validation errors, UPS errors and review reasons holding the characters a CSV or a
 * terminal must survive (quotes, commas, newlines, formula triggers, non-ASCII).
 */
import type pg from 'pg';

/**
 * Insert batch `batchId` (phase completed_with_errors) with rows 1..`rows`; row n is
 * invalid when n % 20 = 1, failed at 0, needs_review at 2, cancelled at 3, else shipped.
 */
export async function insertLedgerBatch(pool: pg.Pool, batchId: string, rows: number): Promise<void> {
  await pool.query(
    `INSERT INTO batches (batch_id, name, mode, phase, source_table, template, shipper, options)
     VALUES ($1, $1, 'auto', 'completed_with_errors', 'synthetic_orders', '{}', '{}'::jsonb, '{}'::jsonb)`,
    [batchId],
  );
  await pool.query(
    `INSERT INTO batch_rows (batch_id, row_no, source_key, data, checksum, status, reference, errors,
                             tracking_numbers, cost_cents, currency, ups_error_code, ups_error_message, review_reason)
     SELECT $1, n, 'ORD-' || n, jsonb_build_object('order_id', 'ORD-' || n), md5(n::text), s.status,
            'SB' || $1 || '-' || n,
            CASE WHEN s.status = 'invalid' THEN jsonb_build_array(jsonb_build_object(
              'rowNo', n, 'path', 'ShipTo.Address.PostalCode', 'rule', 'zip', 'value', 'AB"C,' || n,
              'message', 'ZIP must be 5 digits (got "AB""C,' || n || '")', 'code', 'E-2001')) END,
            CASE WHEN s.status = 'shipped' THEN
              CASE WHEN n % 7 = 0 THEN ARRAY['1Z' || lpad(n::text, 16, '0'), '1Z' || lpad((n + 1)::text, 16, '9')]
                   ELSE ARRAY['1Z' || lpad(n::text, 16, '0')] END END,
            CASE WHEN s.status = 'shipped' THEN 500 + (n * 37) % 90000 END,
            CASE WHEN s.status = 'shipped' THEN 'USD' END,
            CASE WHEN s.status = 'failed' THEN '120100' END,
            CASE WHEN s.status = 'failed' THEN E'=HYPERLINK("x"), Zoë''s address\\nsecond line ' || n END,
            CASE WHEN s.status = 'needs_review' THEN '+ UPS said "maybe", row ' || n || ' — check' END
       FROM generate_series(1, $2::int) AS n,
            LATERAL (SELECT CASE n % 20 WHEN 1 THEN 'invalid' WHEN 0 THEN 'failed' WHEN 2 THEN 'needs_review'
                                        WHEN 3 THEN 'cancelled' ELSE 'shipped' END AS status) AS s`,
    [batchId, rows],
  );
}

/** Remove a batch inserted by {@link insertLedgerBatch} (its rows go with it). */
export async function deleteLedgerBatch(pool: pg.Pool, batchId: string): Promise<void> {
  await pool.query(`DELETE FROM batches WHERE batch_id = $1`, [batchId]);
}
