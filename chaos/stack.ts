/**
 * The stack a chaos run breaks: a Temporal dev server on a SQLite file and an embedded PostgreSQL, both in
 * one temporary directory, each of which can be stopped (Temporal with SIGKILL, PostgreSQL with its fast
 * shutdown) and started again on the same port with the same data — as an operator's restart would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EMBEDDED_PG_DATABASE, EMBEDDED_PG_USER, loadConfig } from '../temporal.config';
import { openPool } from '../db/pool';
import { migrate } from '../db/migrate';
import { startEmbeddedPostgres, type RunningPostgres } from '../stack/embedded-postgres';
import { ensureTemporalCli } from '../stack/temporal-cli';
import { startTemporalDevServer } from '../stack/temporal-dev-server';
import { freePort, type ManagedProcess } from '../stack/processes';

export interface ChaosStack {
  /** The run's temporary directory (logs, sandbox records, knobs files); removed by {@link close}. */
  dir: string;
  logDir: string;
  temporalAddress: string;
  namespace: string;
  databaseUrl: string;
  /** SIGKILL the Temporal dev server (its SQLite file stays). */
  killTemporal(): Promise<void>;
  /** Start the dev server again on the same port and file. */
  startTemporal(): Promise<void>;
  /** Stop PostgreSQL (fast shutdown: open connections are cut). */
  stopPostgres(): Promise<void>;
  /** Start PostgreSQL again on the same port and cluster. */
  startPostgres(): Promise<void>;
  /** Stop everything and remove the directory (unless `keep`). */
  close(keep?: boolean): Promise<void>;
}

const log = (line: string) => process.stderr.write(`chaos stack: ${line}\n`);

/** Start the stack in a new temporary directory and apply the migrations. */
export async function startChaosStack(): Promise<ChaosStack> {
  const config = loadConfig();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-chaos-'));
  const logDir = path.join(dir, 'logs');
  const cli = await ensureTemporalCli({
    cacheDir: config.temporal.devServer.cacheDir,
    version: config.temporal.devServer.cliVersion,
    log,
  });
  const [temporalPort, uiPort, pgPort] = [await freePort(), await freePort(), await freePort()];
  const namespace = config.temporal.namespace;
  let temporal: ManagedProcess | undefined;
  let postgres: RunningPostgres | undefined;
  let clusterDir: string | undefined;
  const pgDataDir = path.join(dir, 'pg');

  const startTemporal = async () => {
    temporal = await startTemporalDevServer({
      cli,
      port: temporalPort,
      uiPort,
      namespace,
      dbFile: path.join(dir, 'temporal.db'),
      logDir,
    });
  };
  const startPostgres = async () => {
    postgres = await startEmbeddedPostgres({
      dataDir: pgDataDir,
      port: pgPort,
      user: EMBEDDED_PG_USER,
      database: EMBEDDED_PG_DATABASE,
      logDir,
      log,
    });
    clusterDir = postgres.clusterDir;
  };
  const stack: ChaosStack = {
    dir,
    logDir,
    temporalAddress: `127.0.0.1:${temporalPort}`,
    namespace,
    databaseUrl: '',
    async killTemporal() {
      const proc = temporal;
      temporal = undefined;
      if (!proc) return;
      proc.child.kill('SIGKILL');
      await proc.exited;
    },
    startTemporal,
    async stopPostgres() {
      const pg = postgres;
      postgres = undefined;
      await pg?.stop();
    },
    startPostgres,
    async close(keep = false) {
      await stack.killTemporal().catch(() => undefined);
      await stack.stopPostgres().catch(() => undefined);
      if (keep) return;
      // As root the cluster may live outside `dir` (stack/embedded-postgres.ts): it is ours all the same.
      if (clusterDir && !clusterDir.startsWith(dir)) await rm(clusterDir, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await startTemporal();
    await startPostgres();
    stack.databaseUrl = postgres!.url;
    const pool = await openPool({ url: stack.databaseUrl, max: 1 });
    try {
      await migrate(pool);
    } finally {
      await pool.end();
    }
  } catch (err) {
    await stack.close();
    throw err;
  }
  return stack;
}

/** Environment for processes that use this stack (workers, the client). */
export function chaosStackEnv(stack: ChaosStack): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_NAMESPACE: stack.namespace,
    DATABASE_URL: stack.databaseUrl,
    SHIPBATCH_DATA_DIR: path.join(stack.dir, 'data'),
  };
}
