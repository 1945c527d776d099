-- What the batch workflow needs beyond the first ledger (docs/design.md §3, §4):
-- the rendered request of each valid row (shipRow sends it as stored, so a retry sends the same bytes),
-- the full preview (row data stays here, never in workflow history), and dispatch order by row number.
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS request jsonb;
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS review_reason text;
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS resolved_by text;
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS written_back_at timestamptz;
ALTER TABLE batches ADD COLUMN IF NOT EXISTS preview jsonb;
ALTER TABLE batches ADD COLUMN IF NOT EXISTS loaded_at timestamptz;
CREATE INDEX IF NOT EXISTS batch_rows_dispatch_idx ON batch_rows (batch_id, status, row_no);
