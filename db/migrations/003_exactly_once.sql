-- Exactly once under late UPS records, overlapping attempts, shared names and cancels (docs/exactly-once.md).
-- batches.reference_key: random per batch, the middle of every row reference, so references never repeat across
--   batches whatever their ids; batches.cancel_requested_at: set when a cancel is accepted, read by shipRow before
--   every create. batch_rows.claim: fencing token, bumped by each attempt that takes the row; its writes must match.
--   batch_rows.create_sent_at / creates_sent: when the latest create_shipment left for UPS (reconcile counts its
--   grace from there). cost_estimated: the cost comes from a rate quote, not from UPS's charges.
-- extra_shipments: a shipment a superseded attempt received anyway; voided, never lost.
ALTER TABLE batches ADD COLUMN IF NOT EXISTS reference_key text;
ALTER TABLE batches ADD COLUMN IF NOT EXISTS cancel_requested_at timestamptz;
CREATE UNIQUE INDEX IF NOT EXISTS batches_reference_key_idx ON batches (reference_key);
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS claim integer NOT NULL DEFAULT 0;
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS create_sent_at timestamptz;
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS creates_sent integer NOT NULL DEFAULT 0;
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS cost_estimated boolean NOT NULL DEFAULT false;
CREATE TABLE IF NOT EXISTS extra_shipments (
  batch_id          text NOT NULL,
  row_no            integer NOT NULL,
  shipment_id       text NOT NULL,
  tracking_numbers  text[] NOT NULL,
  cost_cents        bigint,
  currency          text,
  status            text NOT NULL CHECK (status IN ('to_void', 'voided', 'void_failed')),
  void_error        text,
  found_at          timestamptz NOT NULL DEFAULT now(),
  voided_at         timestamptz,
  PRIMARY KEY (batch_id, shipment_id),
  FOREIGN KEY (batch_id, row_no) REFERENCES batch_rows (batch_id, row_no) ON DELETE CASCADE
);
-- The preview's quote of each rated row, so a preview interrupted mid-way resumes instead of starting over.
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS estimate_cents bigint;
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS estimate_currency text;
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS estimate_warnings jsonb;
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS rated_at timestamptz;
CREATE INDEX IF NOT EXISTS extra_shipments_row_idx ON extra_shipments (batch_id, row_no);
