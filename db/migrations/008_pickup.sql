-- One UPS on-call pickup per batch (issue 25, docs/design.md §3 step 4b). UPS gives a second request for the
-- same address and date the same PRN, so batches may share one: `prn` is indexed to find who else holds it
-- before a cancel. `requests_sent` counts schedule_pickup calls that may have reached UPS: once it is above
-- zero, the pickup is looked for at UPS (get_pickup_status) before it is asked for again.
CREATE TABLE IF NOT EXISTS batch_pickups (
  batch_id       text PRIMARY KEY REFERENCES batches (batch_id) ON DELETE CASCADE,
  state          text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'scheduled', 'failed', 'cancelled',
                   'released')),
  pickup_date    date NOT NULL,
  ready_time     text NOT NULL,
  close_time     text NOT NULL,
  address_key    text NOT NULL,
  account        text NOT NULL,
  quantity       integer,
  weight         text,
  prn            text,
  cost_cents     bigint,
  currency       text,
  requests_sent  integer NOT NULL DEFAULT 0,
  reconciled     boolean NOT NULL DEFAULT false,
  last_error     text,
  scheduled_at   timestamptz,
  cancelled_at   timestamptz,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS batch_pickups_prn_idx ON batch_pickups (prn) WHERE prn IS NOT NULL;
