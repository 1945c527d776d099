import { access, chmod, constants, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EMBEDDED_PG_DATABASE, EMBEDDED_PG_USER, type ShipbatchConfig } from '../temporal.config';
import { describeDatabaseUrl, openPool } from '../db/pool';
import { migrate } from '../db/migrate';
import { startEmbeddedPostgres } from './embedded-postgres';
import { StartupError, briefly } from './errors';
import { ensureTemporalCli } from './temporal-cli';
import { startTemporalDevServer } from './temporal-dev-server';
import { freePort } from './processes';

/** The services of a running stack, as other processes need them. */
export interface StackInfo {
  temporalAddress: string;
  namespace: string;
  /** Web UI, when this stack started the dev server. */
  uiUrl?: string;
  databaseUrl: string;
  dataDir: string;
  /** Embedded PostgreSQL's cluster directory (may be outside `dataDir` when root runs from a private clone). */
  postgresDir?: string;
  logDir: string;
}

export interface RunningStack extends StackInfo {
  /** Stop every process this stack started, in reverse order. */
  stop(): Promise<void>;
}

const log = (line: string) => process.stderr.write(`stack: ${line}\n`);

/**
 * Bring up what the configuration says is embedded: the Temporal dev server (SQLite under the data dir)
 * unless TEMPORAL_ADDRESS is set, PostgreSQL from embedded-postgres unless DATABASE_URL is set; then
 * apply the migrations. `ephemeral` (tests) uses free ports, an in-memory Temporal and a throw-away
 * PostgreSQL directory.
 */
export async function startStack(
  config: ShipbatchConfig,
  opts: { ephemeral?: boolean } = {},
): Promise<RunningStack> {
  const dataDir = opts.ephemeral ? await mkdtemp(path.join(os.tmpdir(), 'shipbatch-test-')) : config.dataDir;
  await prepareDataDir(dataDir);
  const logDir = path.join(dataDir, 'logs');
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch((err: unknown) => log(`stop: ${String(err)}`));
    stoppers.length = 0;
    if (opts.ephemeral) await rm(dataDir, { recursive: true, force: true });
  };
  try {
    let temporalAddress = config.temporal.address;
    let uiUrl: string | undefined;
    if (config.temporal.embedded) {
      const cli = await ensureTemporalCli({
        cacheDir: config.temporal.devServer.cacheDir,
        version: config.temporal.devServer.cliVersion,
        log,
      });
      const port = opts.ephemeral ? await freePort() : config.temporal.devServer.port;
      const uiPort = opts.ephemeral ? await freePort() : config.temporal.devServer.uiPort;
      log(`starting the Temporal dev server on 127.0.0.1:${port} (Web UI :${uiPort})`);
      const server = await startTemporalDevServer({
        cli,
        port,
        uiPort,
        namespace: config.temporal.namespace,
        dbFile: opts.ephemeral ? undefined : path.join(dataDir, 'temporal.db'),
        logDir,
      });
      stoppers.push(() => server.stop());
      temporalAddress = `127.0.0.1:${port}`;
      uiUrl = `http://127.0.0.1:${uiPort}`;
    } else {
      log(`using Temporal at ${temporalAddress} (TEMPORAL_ADDRESS / profile)`);
    }

    let databaseUrl = config.database.url;
    let postgresDir: string | undefined;
    if (config.database.embedded) {
      const port = opts.ephemeral ? await freePort() : config.database.embeddedPort;
      log(`starting embedded PostgreSQL on 127.0.0.1:${port}`);
      const pg = await startEmbeddedPostgres({
        dataDir: path.join(dataDir, 'pg'),
        port,
        user: EMBEDDED_PG_USER,
        database: EMBEDDED_PG_DATABASE,
        logDir,
        ephemeral: opts.ephemeral,
        log,
      });
      stoppers.push(() => pg.stop());
      databaseUrl = pg.url;
      postgresDir = pg.clusterDir;
    } else {
      log(`using PostgreSQL at ${describeDatabaseUrl(databaseUrl)} (DATABASE_URL)`);
    }

    try {
      const pool = await openPool({ url: databaseUrl, max: 1 });
      try {
        const applied = await migrate(pool);
        if (applied.length > 0) log(`applied migrations ${applied.join(', ')}`);
      } finally {
        await pool.end();
      }
    } catch (err) {
      if (err instanceof StartupError) throw err;
      throw new StartupError(
        `could not prepare the database at ${describeDatabaseUrl(databaseUrl)}: ${briefly(err)}`,
        config.database.embedded
          ? `see ${path.join(logDir, 'postgres.log')}; to start afresh, stop shipbatch and remove ${path.join(dataDir, 'pg')}`
          : 'check that this PostgreSQL runs and DATABASE_URL (host, port, user, password, database) is right',
        { cause: err },
      );
    }

    const info: StackInfo = {
      temporalAddress,
      namespace: config.temporal.namespace,
      uiUrl,
      databaseUrl,
      dataDir,
      postgresDir,
      logDir,
    };
    // Earlier versions wrote the services, database URL included, to a world-readable stack.json.
    if (!opts.ephemeral) await rm(path.join(dataDir, 'stack.json'), { force: true });
    return { ...info, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Create the data dir if needed and check it is a writable directory of this user, so a bad
 * SHIPBATCH_DATA_DIR is one clear line rather than an error deep inside PostgreSQL or Temporal. It is made
 * private (0700): it holds the databases, the logs and dev.json, which tells commands where to send
 * orders. A directory of another user, or one everyone may write (a shared one like /tmp), is refused
 * and left as it is. (As root, PostgreSQL's `postgres` user then cannot enter it: the embedded
 * PostgreSQL keeps its cluster outside, linked from the data dir.)
 */
async function prepareDataDir(dataDir: string): Promise<void> {
  const fix = `set SHIPBATCH_DATA_DIR to a directory this user can write, or fix the permissions of ${dataDir}`;
  let st;
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await access(dataDir, constants.R_OK | constants.W_OK | constants.X_OK);
    st = await stat(dataDir);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why =
      code === 'ENOTDIR' || code === 'EEXIST'
        ? 'is not a directory (a file is in the way)'
        : code === 'EROFS'
          ? 'is on a read-only file system'
          : code === 'EACCES' || code === 'EPERM'
            ? 'cannot be created, read or written by this user'
            : `cannot be used (${briefly(err)})`;
    throw new StartupError(`the data directory ${dataDir} ${why}`, fix, { cause: err });
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new StartupError(
      `the data directory ${dataDir} belongs to uid ${st.uid}, not to this user (uid ${uid})`,
      `set SHIPBATCH_DATA_DIR to a directory of your own (its owner could change what shipbatch reads there)`,
    );
  }
  if (st.mode & 0o002) {
    throw new StartupError(
      `the data directory ${dataDir} is writable by other users (mode ${(st.mode & 0o7777).toString(8)}: a shared directory)`,
      `set SHIPBATCH_DATA_DIR to a directory of its own, e.g. ${path.join(dataDir, 'shipbatch')}`,
    );
  }
  // Group and others lose every right; the owner's stay as they are (a read-only dir stays read-only).
  if (st.mode & 0o077) {
    try {
      await chmod(dataDir, st.mode & 0o700);
    } catch (err) {
      throw new StartupError(
        `the data directory ${dataDir} cannot be made private (mode 700): ${briefly(err)}`,
        fix,
        {
          cause: err,
        },
      );
    }
  }
}

/** Environment for child processes (worker, tests) so they reach this stack's services. */
export function stackEnv(stack: StackInfo): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_NAMESPACE: stack.namespace,
    DATABASE_URL: stack.databaseUrl,
    SHIPBATCH_DATA_DIR: stack.dataDir,
  };
}
