/**
 * The client's pool on the ledger's PostgreSQL. No Temporal client here: commands that only read or write the
 * database (`rows`, `import`) open it without loading one.
 */
import type pg from 'pg';
import { openPool } from '../db/pool';
import type { ShipbatchConfig } from '../temporal.config';
import { ConnectionError, messageOf } from './errors';

/** Open a pool on the configured database; unreachable → ConnectionError saying what to start or set. */
export async function openLedgerPool(
  config: ShipbatchConfig,
  opts: { max: number; applicationName: string },
): Promise<pg.Pool> {
  try {
    return await openPool({ url: config.database.url, ...opts });
  } catch (err) {
    throw new ConnectionError(messageOf(err), {
      cause: err,
      fix: config.database.embedded
        ? 'start the embedded stack with `shipbatch dev`, or set DATABASE_URL'
        : 'check that PostgreSQL runs and DATABASE_URL is right',
    });
  }
}
