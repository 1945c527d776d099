/**
 * The process's one pool (db/pool.ts) when PostgreSQL goes away under a client checked out of it (a
 * transaction, the migration lock): pg emits 'error' on that client, which crashed the worker when nothing
 * listened (found by `npm run chaos -- --scenario pg-restart`). The client's next query fails instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openPool } from '../../db/pool';
import { startEmbeddedPostgres } from '../../stack/embedded-postgres';
import { freePort } from '../../stack/processes';
import { EMBEDDED_PG_DATABASE, EMBEDDED_PG_USER } from '../../temporal.config';

test('PostgreSQL stopping under a transaction fails its next query, and the process lives on', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-pool-restart-'));
  const server = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg'),
    port: await freePort(),
    user: EMBEDDED_PG_USER,
    database: EMBEDDED_PG_DATABASE,
    logDir: path.join(dir, 'logs'),
    ephemeral: true,
    log: () => undefined,
  });
  const pool = await openPool({ url: server.url, max: 2 });
  try {
    const client = await pool.connect();
    await client.query('BEGIN');
    await server.stop();
    // The connection ends with the client checked out (no listener of ours: the pool's must catch it);
    // before the fix this was an uncaught 'error' event.
    await new Promise((r) => setTimeout(r, 1000));
    await assert.rejects(client.query('SELECT 1'));
    client.release();
  } finally {
    await pool.end().catch(() => undefined);
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
