-- After the label (issue 25): one line per shipped package, its latest UPS tracking status, and when the
-- tracking workflow asks about it next (docs/design.md §3a). Row data stays here; the workflow sees counts.
CREATE TABLE IF NOT EXISTS package_tracking (
  batch_id         text NOT NULL,
  row_no           integer NOT NULL,
  tracking_number  text NOT NULL,
  status           text NOT NULL DEFAULT 'label_created' CHECK (status IN ('label_created', 'in_transit',
                     'out_for_delivery', 'delivered', 'exception', 'returned', 'voided', 'unknown')),
  description      text,
  status_at        timestamptz,
  location         text,
  delivered_on     date,
  next_check_at    timestamptz NOT NULL DEFAULT now(),
  checked_at       timestamptz,
  checks           integer NOT NULL DEFAULT 0,
  last_error       text,
  PRIMARY KEY (batch_id, tracking_number),
  FOREIGN KEY (batch_id, row_no) REFERENCES batch_rows (batch_id, row_no) ON DELETE CASCADE
);
-- The tracking workflow's pages: packages still moving, the most overdue first.
CREATE INDEX IF NOT EXISTS package_tracking_due_idx ON package_tracking (batch_id, next_check_at)
  WHERE status NOT IN ('delivered', 'returned', 'voided');
-- `shipbatch track` and the client page a batch's packages in row order, optionally of one status.
CREATE INDEX IF NOT EXISTS package_tracking_rows_idx ON package_tracking (batch_id, row_no, tracking_number);
CREATE INDEX IF NOT EXISTS package_tracking_status_idx ON package_tracking (batch_id, status, row_no, tracking_number);
