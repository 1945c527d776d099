import pg from 'pg';

/** Options of the one PostgreSQL pool a process opens. */
export interface PoolOptions {
  url: string;
  max?: number;
  statementTimeoutMs?: number;
  applicationName?: string;
}

/**
 * Open a pool and prove the database answers; a failure names the host (never the password).
 * Bigint columns (counts, cents) come back as strings from pg: callers convert explicitly.
 */
export async function openPool(opts: PoolOptions): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    statement_timeout: opts.statementTimeoutMs,
    application_name: opts.applicationName ?? 'shipbatch',
    connectionTimeoutMillis: 10_000,
  });
  // Idle clients can die with the server; without a listener pg would crash the process.
  pool.on('error', () => undefined);
  // So can a client checked out of the pool (a transaction, the migration lock), which the pool's idle
  // listener no longer covers: pg then emits 'error' on the client itself, and with no listener the worker
  // crashed whenever PostgreSQL restarted mid-transaction. The query in progress (or the next one) fails
  // with that error all the same, and release() drops the broken client.
  pool.on('connect', (client) => client.on('error', () => undefined));
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(
      `PostgreSQL at ${describeDatabaseUrl(opts.url)} is unreachable: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return pool;
}

/** host:port/database of a connection URL, without credentials, for messages and logs. */
export function describeDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
