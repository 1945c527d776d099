-- The batch ledger: one row per batch, one per source row, one per label (docs/design.md §3, §4).
CREATE TABLE IF NOT EXISTS batches (
  batch_id      text PRIMARY KEY,
  name          text,
  mode          text NOT NULL CHECK (mode IN ('confirm', 'auto')),
  phase         text NOT NULL CHECK (phase IN ('loading', 'previewing', 'awaiting_approval', 'executing',
                  'awaiting_action', 'completed', 'completed_with_errors', 'cancelled', 'rejected', 'expired')),
  source_table  text NOT NULL,
  key_column    text NOT NULL DEFAULT 'id',
  filter        text,
  template      text NOT NULL,
  shipper       jsonb NOT NULL,
  options       jsonb NOT NULL DEFAULT '{}'::jsonb,
  preview_hash  text,
  approved_by   text,
  approved_at   timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS batches_phase_idx ON batches (phase);

CREATE TABLE IF NOT EXISTS batch_rows (
  batch_id          text NOT NULL REFERENCES batches (batch_id) ON DELETE CASCADE,
  row_no            integer NOT NULL CHECK (row_no > 0),
  source_key        text NOT NULL,
  data              jsonb NOT NULL,
  checksum          text NOT NULL,
  status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'invalid', 'in_flight',
                      'shipped', 'failed', 'needs_review', 'cancelled', 'voided')),
  reference         text NOT NULL,
  errors            jsonb,
  attempts          integer NOT NULL DEFAULT 0,
  tracking_numbers  text[],
  shipment_id       text,
  cost_cents        bigint,
  currency          text,
  ups_error_code    text,
  ups_error_message text,
  in_flight_since   timestamptz,
  shipped_at        timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (batch_id, row_no)
);
-- Status lists and counts per batch; the reference is the UPS idempotency key, so it is unique.
CREATE INDEX IF NOT EXISTS batch_rows_status_idx ON batch_rows (batch_id, status);
CREATE UNIQUE INDEX IF NOT EXISTS batch_rows_reference_idx ON batch_rows (reference);
CREATE UNIQUE INDEX IF NOT EXISTS batch_rows_source_key_idx ON batch_rows (batch_id, source_key);

CREATE TABLE IF NOT EXISTS labels (
  batch_id         text NOT NULL,
  row_no           integer NOT NULL,
  package_index    integer NOT NULL,
  tracking_number  text NOT NULL,
  format           text NOT NULL CHECK (format IN ('GIF', 'ZPL', 'PNG', 'PDF')),
  image            bytea NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (batch_id, row_no, package_index),
  FOREIGN KEY (batch_id, row_no) REFERENCES batch_rows (batch_id, row_no) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS labels_tracking_idx ON labels (tracking_number);

-- Written by the stackCheck workflow: proves worker → PostgreSQL works end to end.
CREATE TABLE IF NOT EXISTS stack_checks (
  check_id    text PRIMARY KEY,
  worker      text NOT NULL,
  checked_at  timestamptz NOT NULL DEFAULT now()
);
