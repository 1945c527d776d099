import type pg from 'pg';

/** What the stackCheck workflow gets back: proof that a worker wrote to the ledger database. */
export interface StackCheckRecord {
  checkId: string;
  worker: string;
  checkedAt: string;
}

/** Activities that prove the worker → PostgreSQL path; idempotent so Temporal may retry them. */
export function createStackCheckActivities(deps: { pool: pg.Pool; workerIdentity: string }) {
  return {
    async recordStackCheck(checkId: string): Promise<StackCheckRecord> {
      const { rows } = await deps.pool.query<{ check_id: string; worker: string; checked_at: Date }>(
        `INSERT INTO stack_checks (check_id, worker) VALUES ($1, $2)
         ON CONFLICT (check_id) DO UPDATE SET check_id = EXCLUDED.check_id
         RETURNING check_id, worker, checked_at`,
        [checkId, deps.workerIdentity],
      );
      const row = rows[0]!;
      return { checkId: row.check_id, worker: row.worker, checkedAt: row.checked_at.toISOString() };
    },
  };
}
