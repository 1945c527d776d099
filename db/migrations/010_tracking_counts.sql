-- Packages per status of each tracked batch (issue 25, docs/design.md §3a), kept by the database itself: every
-- statement that adds, changes or removes package_tracking lines adds its difference per (batch, status) in the
-- same transaction (statement triggers over the transition tables: the lines as they were and as they are, so
-- the arithmetic is exact whatever wrote them, a worker of the previous version included). The tracking
-- workflow's page reads its counts here: a few lines instead of a GROUP BY over the whole batch.
CREATE TABLE IF NOT EXISTS tracking_counts (
  batch_id  text NOT NULL REFERENCES batches (batch_id) ON DELETE CASCADE,
  status    text NOT NULL,
  packages  integer NOT NULL,
  PRIMARY KEY (batch_id, status)
);

-- Inserts and updates add their differences in (batch, status) order, so two writers of one batch lock its
-- lines in the same order; a delete (its batch's rows going) only subtracts from lines that are still there.
CREATE OR REPLACE FUNCTION tracking_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO tracking_counts AS c (batch_id, status, packages)
    SELECT batch_id, status, count(*) FROM new_lines GROUP BY batch_id, status ORDER BY batch_id, status
    ON CONFLICT (batch_id, status) DO UPDATE SET packages = c.packages + EXCLUDED.packages;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO tracking_counts AS c (batch_id, status, packages)
    SELECT batch_id, status, sum(d) FROM (
        SELECT batch_id, status, 1 AS d FROM new_lines
        UNION ALL
        SELECT batch_id, status, -1 FROM old_lines) AS moves
     GROUP BY batch_id, status HAVING sum(d) <> 0 ORDER BY batch_id, status
    ON CONFLICT (batch_id, status) DO UPDATE SET packages = c.packages + EXCLUDED.packages;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE tracking_counts c SET packages = c.packages - gone.n
      FROM (SELECT batch_id, status, count(*) AS n FROM old_lines GROUP BY batch_id, status) AS gone
     WHERE c.batch_id = gone.batch_id AND c.status = gone.status;
  ELSE
    DELETE FROM tracking_counts;
  END IF;
  RETURN NULL;
END
$$;

-- No package_tracking writer may run between the count below and the triggers (they wait for this migration).
LOCK TABLE package_tracking IN SHARE ROW EXCLUSIVE MODE;
DROP TRIGGER IF EXISTS tracking_counts_insert ON package_tracking;
DROP TRIGGER IF EXISTS tracking_counts_update ON package_tracking;
DROP TRIGGER IF EXISTS tracking_counts_delete ON package_tracking;
DROP TRIGGER IF EXISTS tracking_counts_truncate ON package_tracking;
CREATE TRIGGER tracking_counts_insert AFTER INSERT ON package_tracking
  REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION tracking_counts_apply();
CREATE TRIGGER tracking_counts_update AFTER UPDATE ON package_tracking
  REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines FOR EACH STATEMENT
  EXECUTE FUNCTION tracking_counts_apply();
CREATE TRIGGER tracking_counts_delete AFTER DELETE ON package_tracking
  REFERENCING OLD TABLE AS old_lines FOR EACH STATEMENT EXECUTE FUNCTION tracking_counts_apply();
CREATE TRIGGER tracking_counts_truncate AFTER TRUNCATE ON package_tracking
  FOR EACH STATEMENT EXECUTE FUNCTION tracking_counts_apply();

-- The batches tracked before this migration: counted once, here.
DELETE FROM tracking_counts;
INSERT INTO tracking_counts (batch_id, status, packages)
SELECT batch_id, status, count(*) FROM package_tracking GROUP BY batch_id, status;
