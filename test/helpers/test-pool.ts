/**
 * A pool on the PostgreSQL that `npm test` started (DATABASE_URL), opened before the file's tests and ended
 * after them: for tests of the ledger and the source that need no Temporal.
 */
import { after, before } from 'node:test';
import type pg from 'pg';
import { openPool } from '../../db/pool';

/** Register the file's pool; `set` receives it once it is open. */
export function useTestPool(set: (pool: pg.Pool) => void, max = 4): void {
  let pool: pg.Pool | undefined;
  before(async () => {
    if (!process.env.DATABASE_URL) throw new Error('run through `npm test`, which starts PostgreSQL');
    pool = await openPool({ url: process.env.DATABASE_URL, max });
    set(pool);
  });
  after(async () => {
    await pool?.end();
  });
}
