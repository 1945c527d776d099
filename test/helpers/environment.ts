import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type pg from 'pg';
import { loadConfig, type ShipbatchConfig } from '../../temporal.config';
import { openPool } from '../../db/pool';
import { createShipbatchWorker } from '../../workers/create-worker';
import type { UpsClient } from '../../activities/ups/client';
import { createUpsClient } from '../../activities/ups/from-config';

/**
 * The services `npm test` started (scripts/test.ts passes them as TEMPORAL_ADDRESS and DATABASE_URL),
 * opened once per test file. Each file gets its own task queue so files never steal each other's tasks.
 */
export interface TestEnvironment {
  config: ShipbatchConfig;
  client: Client;
  pool: pg.Pool;
  /** The UPS client the test's workers use: a sandbox with a data dir of this test file's own. */
  ups: UpsClient;
  taskQueue: string;
  /** Run a real worker on the test's task queue while `fn` runs (with another UPS client if given). */
  withWorker<T>(fn: (worker: Worker) => Promise<T>, opts?: { ups?: UpsClient }): Promise<T>;
  /**
   * A UPS client on a sandbox of its own: a fresh data dir, and a knobs file the test may rewrite. Closed by
   * `close()` if the test has not (its server processes would keep the test process alive).
   */
  sandboxClient(name: string): { ups: UpsClient; dataDir: string; knobsFile: string };
  close(): Promise<void>;
}

// Worker state changes at INFO drown the test report; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger('WARN') });

export async function openTestEnvironment(name: string): Promise<TestEnvironment> {
  if (!process.env.TEMPORAL_ADDRESS || !process.env.DATABASE_URL) {
    throw new Error(
      'run the workflow tests through `npm test`, which starts Temporal and PostgreSQL for them',
    );
  }
  const taskQueue = `test-${name}-${randomUUID().slice(0, 8)}`;
  const config = { ...loadConfig(), taskQueue };
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const pool = await openPool({ url: config.database.url, max: 5 });
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const ups = createUpsClient({
    ...config.ups,
    sandboxDataDir: mkdtempSync(path.join(os.tmpdir(), `shipbatch-${name}-ups-`)),
  });
  const sandboxClients: UpsClient[] = [];
  return {
    config,
    client,
    pool,
    ups,
    taskQueue,
    async withWorker(fn, opts) {
      const worker = await createShipbatchWorker({
        config,
        connection: nativeConnection,
        pool,
        ups: opts?.ups ?? ups,
      });
      return worker.runUntil(() => fn(worker));
    },
    sandboxClient(label) {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), `shipbatch-${name}-${label}-`));
      const knobsFile = path.join(dataDir, 'knobs.json');
      writeFileSync(knobsFile, '{}');
      const client = createUpsClient({
        ...config.ups,
        sandboxDataDir: dataDir,
        sandboxKnobsEnv: { UPS_SANDBOX_KNOBS_FILE: knobsFile },
      });
      sandboxClients.push(client);
      return { ups: client, dataDir, knobsFile };
    },
    async close() {
      // Closing a client twice is harmless: a test that closed its own loses nothing.
      for (const client of sandboxClients) await client.close();
      await ups.close();
      await nativeConnection.close();
      await connection.close();
      await pool.end();
    },
  };
}
