-- The delivery-status write-back (issue 25, docs/design.md §3a): with options.writeBack.statusColumn the tracking
-- workflow writes each tracked row's delivery status into the source table as tracking learns it.
-- Per row: the status last written to the source, and whether its packages' statuses changed since (set with the
-- change in the same statement, cleared once the source holds the row's status). Per batch: the problem that
-- stopped the status write-back for good (a column that is not there, a value that does not fit), kept once.
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS delivery_status_written text;
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS delivery_status_pending boolean NOT NULL DEFAULT false;
ALTER TABLE batches ADD COLUMN IF NOT EXISTS delivery_write_back_error text;
-- The rows whose status is to be written, in row order: few at a time, out of batches of any size.
CREATE INDEX IF NOT EXISTS batch_rows_delivery_pending_idx ON batch_rows (batch_id, row_no)
  WHERE delivery_status_pending;
