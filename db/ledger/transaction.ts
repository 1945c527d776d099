/**
 * What every ledger module (db/ledger/) shares: the database handle its statements run on, and the one way a
 * transaction is opened. The ledger (`batches`, `batch_rows`, `labels`, `extra_shipments`) holds the row data,
 * and only it; the workflow sees row numbers, counts and cents.
 */
import type pg from 'pg';

/** A pool, or a client of one inside a transaction. */
export type Db = pg.Pool | pg.PoolClient;

/** Run `fn` in one transaction on a client of `pool`. */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
