/**
 * What a command talks to, opened for the command and closed after it: the client (Temporal and the ledger)
 * or the ledger's PostgreSQL alone (commands that need no Temporal).
 */
import type pg from 'pg';
import type { ShipbatchClient } from '../batches';

/** Run `fn` with a connected client, closed afterwards (the Temporal connection and the ledger's pool). */
export async function withClient<T>(fn: (c: ShipbatchClient) => Promise<T>): Promise<T> {
  // Loaded here, not at the top: the Temporal client and its protobufs are a third of the CLI's memory,
  // which `--help`, `import` and `rows` do without.
  const { ShipbatchClient } = await import('../batches');
  const client = await ShipbatchClient.connect();
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/**
 * Run `fn` with a pool on the ledger's PostgreSQL alone, closed afterwards: for commands that read or write
 * only the database (`rows`, `import`), which then need no Temporal.
 */
export async function withLedger<T>(
  fn: (pool: pg.Pool) => Promise<T>,
  applicationName = 'shipbatch-client',
): Promise<T> {
  const { loadClientConfig } = await import('../config');
  const { openLedgerPool } = await import('../ledger-pool');
  const pool = await openLedgerPool(loadClientConfig(), { max: 2, applicationName });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}
