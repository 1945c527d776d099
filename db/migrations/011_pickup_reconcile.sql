-- The pickup's reconcile (issue 25 review): the account's pending pickups on the batch's date seen before its
-- first request (never adopted as the batch's own after a lost answer), and the pickup place's time zone.
ALTER TABLE batch_pickups ADD COLUMN IF NOT EXISTS seen_before text[];
ALTER TABLE batch_pickups ADD COLUMN IF NOT EXISTS time_zone text;
