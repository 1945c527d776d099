-- The address pre-flight and rate shopping (docs/design.md §3, step 2): per row, what UPS Address Validation
-- answered and which service rate shopping chose. Each is set once (a page's rows are stored in one statement
-- and only where still unset), so a retried or resumed step never asks UPS about a settled row again.
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS address_check jsonb;
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS address_checked_at timestamptz;
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS service_choice jsonb;
ALTER TABLE batch_rows ADD COLUMN IF NOT EXISTS shopped_at timestamptz;
