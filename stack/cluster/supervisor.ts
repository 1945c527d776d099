/**
 * The foreground of `cluster start` (run detached as `cluster run`): PostgreSQL, the Temporal schemas,
 * the four services as separate processes, the namespace and search attributes; then it keeps the
 * services running (a service that exits on its own is restarted after `restartDelayMs`) until SIGTERM
 * or SIGINT, when it stops them in reverse order. Its progress is in `<dataDir>/cluster.json`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import pg from 'pg';
import { EMBEDDED_PG_DATABASE, EMBEDDED_PG_USER } from '../../temporal.config';
import { openPool } from '../../db/pool';
import { migrate } from '../../db/migrate';
import { ensureSearchAttributes } from '../../client/search-attributes';
import { startEmbeddedPostgres, type RunningPostgres } from '../embedded-postgres';
import { StartupError, briefly, describeStartupError, oneLine } from '../errors';
import { isPortOpen, startProcess, waitFor, type ManagedProcess } from '../processes';
import { ensureTemporalServer, type TemporalServerBinaries } from './binaries';
import {
  PORT_NAMES,
  SERVICES,
  portProblem,
  writeServerConfig,
  type ClusterPorts,
  type Service,
} from './config';
import { commandLine, isAlive, readClusterState, writeClusterState, type ClusterState } from './state';

/** Temporal's own role and databases on the cluster's PostgreSQL. */
export const TEMPORAL_DB_USER = 'temporal';
export const TEMPORAL_DB = 'temporal';
export const TEMPORAL_VISIBILITY_DB = 'temporal_visibility';
/** Fixed for the life of a cluster (the shard count cannot change once history has run). */
const NUM_HISTORY_SHARDS = 4;

export interface SuperviseOptions {
  dataDir: string;
  ports: ClusterPorts;
  namespace: string;
  version: string;
  cacheDir: string;
  /** Pause before restarting a service that exited on its own. */
  restartDelayMs: number;
  /** Tests: remove the data dir (and PostgreSQL's cluster) on stop. */
  ephemeral: boolean;
  log?: (line: string) => void;
}

/** The first error a Temporal service logged since byte `since` (its JSON `msg`, or a plain line). */
async function reasonFromServerLog(logFile: string, since: number): Promise<string | undefined> {
  const text = (await readFile(logFile, 'utf8').catch(() => '')).slice(since);
  const lines = text.split('\n');
  const line =
    lines.find((l) => /"level":"(error|fatal|dpanic|panic)"/.test(l)) ??
    lines.find((l) => /^(Unable|ERROR|panic:)/.test(l));
  if (!line) return undefined;
  const msg = /"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
  const error = /"error":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
  return oneLine(msg ? `${msg}${error ? `: ${error}` : ''}` : line, 300);
}

async function logSize(file: string): Promise<number> {
  return (await stat(file).catch(() => undefined))?.size ?? 0;
}

/** The cluster's database password for the `temporal` role: generated once, kept 0600 under the data dir. */
async function dbPassword(configDir: string): Promise<string> {
  const file = path.join(configDir, 'db-password');
  const existing = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (existing) return existing;
  const fresh = randomBytes(18).toString('base64url');
  await writeFile(file, `${fresh}\n`, { mode: 0o600 });
  return fresh;
}

/**
 * Create (or re-password) the `temporal` role and its two databases; idempotent. `databaseUrl` is the
 * superuser's URL of shipbatch's database (the one {@link startEmbeddedPostgres} gives).
 */
async function prepareTemporalDatabases(databaseUrl: string, password: string): Promise<void> {
  const adminUrl = new URL(databaseUrl);
  adminUrl.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: adminUrl.href });
  await admin.connect();
  try {
    const role = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [TEMPORAL_DB_USER]);
    // A password is a literal in DDL (no bind parameters there): ours is base64url, quoted anyway.
    const literal = `'${password.replace(/'/g, "''")}'`;
    await admin.query(
      role.rowCount === 0
        ? `CREATE ROLE ${TEMPORAL_DB_USER} LOGIN PASSWORD ${literal}`
        : `ALTER ROLE ${TEMPORAL_DB_USER} LOGIN PASSWORD ${literal}`,
    );
    for (const db of [TEMPORAL_DB, TEMPORAL_VISIBILITY_DB]) {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${db} OWNER ${TEMPORAL_DB_USER}`);
    }
  } finally {
    await admin.end();
  }
}

/** `temporal-sql-tool … <args>` against `db`; a failure is one line with the tool's own last words. */
function sqlTool(
  bins: TemporalServerBinaries,
  port: number,
  password: string,
  db: string,
  args: string[],
): Promise<void> {
  const full = [
    '--plugin',
    'postgres12',
    '--ep',
    '127.0.0.1',
    '-p',
    String(port),
    '-u',
    TEMPORAL_DB_USER,
    '--db',
    db,
    ...args,
  ];
  return new Promise((resolve, reject) => {
    // The password goes through the environment, not argv (which `ps` shows to every user).
    execFile(
      bins.sqlTool,
      full,
      { env: { ...process.env, SQL_PASSWORD: password }, encoding: 'utf8', maxBuffer: 4 << 20 },
      (err, stdout, stderr) => {
        if (!err) return resolve();
        const lines = `${stdout}\n${stderr}`.split('\n').filter((l) => l.trim());
        const last = lines.find((l) => /error|fail/i.test(l)) ?? lines.at(-1) ?? briefly(err);
        reject(
          new StartupError(
            `setting up Temporal's ${db} schema failed (temporal-sql-tool ${args[0]}): ${oneLine(last, 300)}`,
            `check the cluster's PostgreSQL log in ${path.dirname(path.dirname(bins.server))}; to start afresh, stop the cluster and remove its data dir`,
            { cause: err },
          ),
        );
      },
    );
  });
}

/** Schema version 0.0 then every versioned step of the release; both steps are no-ops when up to date. */
async function setupSchemas(bins: TemporalServerBinaries, port: number, password: string): Promise<void> {
  for (const [db, dir] of [
    [TEMPORAL_DB, 'temporal'],
    [TEMPORAL_VISIBILITY_DB, 'visibility'],
  ] as const) {
    await sqlTool(bins, port, password, db, ['setup-schema', '-v', '0.0']);
    await sqlTool(bins, port, password, db, [
      'update-schema',
      '-d',
      path.join(bins.schemaDir, dir, 'versioned'),
    ]);
  }
}

const GRPC_ALREADY_EXISTS = 6;
const GRPC_NOT_FOUND = 5;
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_PERMISSION_DENIED = 7;

/**
 * Until the cluster does real work: the namespace registered (persistence), shipbatch's search
 * attributes added (visibility), a workflow lookup answered by history and a task queue by matching.
 * Frontend health alone says SERVING before history and matching answer.
 */
async function prepareNamespace(
  address: string,
  namespace: string,
  timeoutMs: number,
  log: (l: string) => void,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer';
  const attempt = async <T>(what: string, fn: (c: Connection) => Promise<T>): Promise<T> => {
    for (;;) {
      let connection: Connection | undefined;
      try {
        connection = await Connection.connect({ address, connectTimeout: 2000 });
        return await fn(connection);
      } catch (err) {
        lastError = `${what}: ${briefly(err)}`;
        // A refusal (bad name, no permission) will not change by waiting.
        const code = (err as { code?: unknown }).code;
        if (code === GRPC_INVALID_ARGUMENT || code === GRPC_PERMISSION_DENIED) {
          throw new StartupError(
            `Temporal refused to ${lastError}`,
            'fix the value it names (e.g. --namespace)',
            {
              cause: err,
            },
          );
        }
        if (Date.now() > deadline) {
          throw new StartupError(
            `the Temporal frontend on ${address} did not answer in ${Math.round(timeoutMs / 1000)} s (${lastError})`,
            'see the service logs under the cluster data dir (logs/temporal-*.log)',
            { cause: err },
          );
        }
        await new Promise((r) => setTimeout(r, 500));
      } finally {
        await connection?.close().catch(() => undefined);
      }
    }
  };
  await attempt('register the namespace', async (c) => {
    try {
      await c.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs('3 days'),
        description: 'shipbatch',
      });
      log(`registered the namespace ${namespace}`);
    } catch (err) {
      if ((err as { code?: unknown }).code !== GRPC_ALREADY_EXISTS) throw err;
    }
  });
  const added = await attempt('add the search attributes', (c) => ensureSearchAttributes(c, namespace));
  if (added.length > 0) log(`added the search attributes ${added.join(', ')}`);
  await attempt('ask history about a workflow', async (c) => {
    try {
      await c.workflowService.describeWorkflowExecution({
        namespace,
        execution: { workflowId: 'shipbatch-cluster-readiness-probe' },
      });
    } catch (err) {
      // "workflow not found" is history answering; "namespace not found" is a cache not yet refreshed.
      const e = err as { code?: unknown; details?: unknown; message?: unknown };
      if (e.code !== GRPC_NOT_FOUND || /namespace/i.test(String(e.details ?? e.message))) throw err;
    }
  });
  await attempt('ask matching about a task queue', (c) =>
    c.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: 'shipbatch-cluster-readiness-probe' },
      taskQueueType: 1,
    }),
  );
}

/**
 * Run the cluster in this process until SIGTERM/SIGINT. Throws a {@link StartupError} (after stopping
 * what it started and recording `failed` in the state file) when it cannot come up.
 */
export async function superviseCluster(opts: SuperviseOptions): Promise<void> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`cluster: ${line}\n`));
  const started = Date.now();
  const dataDir = path.resolve(opts.dataDir);
  const logDir = path.join(dataDir, 'logs');
  const configDir = path.join(dataDir, 'config');
  const address = `127.0.0.1:${opts.ports.frontend}`;
  const state: ClusterState = {
    phase: 'starting',
    supervisorPid: process.pid,
    temporalVersion: opts.version,
    dataDir,
    ports: opts.ports,
    frontendAddress: address,
    namespace: opts.namespace,
    // Without the password until PostgreSQL has started (its password is made or read then).
    databaseUrl: `postgres://${EMBEDDED_PG_USER}@127.0.0.1:${opts.ports.postgres}/${EMBEDDED_PG_DATABASE}`,
    processes: {},
    startedAt: new Date(started).toISOString(),
    ephemeral: opts.ephemeral,
  };
  const services = new Map<Service, ManagedProcess>();
  let postgres: RunningPostgres | undefined;
  let stopping = false;
  // Registered before anything starts: a stop asked for mid-start is honoured once start-up settles,
  // instead of Node's default (exit at once, leaving PostgreSQL killed rather than shut down).
  let onStop: () => void = () => undefined;
  let stopRequested = false;
  const stopAsked = new Promise<void>((resolve) => (onStop = resolve));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping the cluster`);
      stopRequested = true;
      onStop();
    });
  }
  const save = () =>
    writeClusterState(state).catch((err: unknown) => log(`cannot write the state file: ${briefly(err)}`));

  const stopAll = async () => {
    stopping = true;
    for (const service of [...SERVICES].reverse()) {
      const proc = services.get(service);
      if (proc) await proc.stop(15_000);
      const entry = state.processes[service];
      if (entry) entry.pid = undefined;
    }
    if (postgres) await postgres.stop();
    if (state.processes.postgres) state.processes.postgres.pid = undefined;
  };

  try {
    await mkdir(dataDir, { recursive: true });
    const previous = await readClusterState(dataDir);
    if (previous && previous.supervisorPid !== process.pid && isAlive(previous.supervisorPid)) {
      const cmd = (await commandLine(previous.supervisorPid)) ?? '';
      if (/cluster/.test(cmd)) {
        throw new StartupError(
          `a cluster supervisor (pid ${previous.supervisorPid}) is already running on ${dataDir}`,
          'use `cluster status`, or `cluster stop` first',
        );
      }
    }
    const problem = portProblem(opts.ports);
    if (problem) {
      throw new StartupError(
        problem,
        'choose other ports with --port NAME=PORT (membership ports up to 32767)',
      );
    }
    for (const name of PORT_NAMES) {
      if (await isPortOpen(opts.ports[name])) {
        throw new StartupError(
          `port ${opts.ports[name]} on 127.0.0.1 (the cluster's ${name} port) is already in use`,
          `stop what listens there, or choose another with --port ${name}=<port>`,
        );
      }
    }
    await save();

    const bins = await ensureTemporalServer({ cacheDir: opts.cacheDir, version: opts.version, log });

    log(`starting PostgreSQL on 127.0.0.1:${opts.ports.postgres}`);
    postgres = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'pg'),
      port: opts.ports.postgres,
      user: EMBEDDED_PG_USER,
      database: EMBEDDED_PG_DATABASE,
      logDir,
      ephemeral: opts.ephemeral,
      log,
    });
    state.databaseUrl = postgres.url;
    const pgPid = Number.parseInt(
      (await readFile(path.join(postgres.clusterDir, 'postmaster.pid'), 'utf8').catch(() => '')).split(
        '\n',
      )[0] ?? '',
      10,
    );
    state.processes.postgres = {
      pid: Number.isInteger(pgPid) ? pgPid : undefined,
      startedAt: new Date().toISOString(),
      restarts: 0,
      logFile: path.join(logDir, 'postgres.log'),
    };

    await mkdir(configDir, { recursive: true, mode: 0o700 });
    const password = await dbPassword(configDir);
    try {
      await prepareTemporalDatabases(state.databaseUrl, password);
    } catch (err) {
      throw new StartupError(
        `could not create Temporal's role and databases on the cluster's PostgreSQL: ${briefly(err)}`,
        `see ${path.join(logDir, 'postgres.log')}`,
        { cause: err },
      );
    }
    log('setting up the temporal and temporal_visibility schemas');
    await setupSchemas(bins, opts.ports.postgres, password);
    const pool = await openPool({ url: state.databaseUrl, max: 1 });
    try {
      await migrate(pool);
    } finally {
      await pool.end();
    }
    await writeServerConfig(configDir, {
      ports: opts.ports,
      dbUser: TEMPORAL_DB_USER,
      dbPassword: password,
      dbName: TEMPORAL_DB,
      visibilityDbName: TEMPORAL_VISIBILITY_DB,
      numHistoryShards: NUM_HISTORY_SHARDS,
    });

    /** Start one service and wait for its gRPC port; a process that exits first is a one-line error. */
    const startService = async (service: Service): Promise<void> => {
      const logFile = path.join(logDir, `temporal-${service}.log`);
      const since = await logSize(logFile);
      const proc = await startProcess(
        `temporal-${service}`,
        bins.server,
        [
          '--root',
          dataDir,
          '--config',
          'config',
          '--env',
          service,
          '--allow-no-auth',
          'start',
          '--service',
          service,
        ],
        { logDir, cwd: dataDir },
      );
      services.set(service, proc);
      const entry = (state.processes[service] ??= { restarts: 0, logFile });
      entry.pid = proc.child.pid;
      entry.startedAt = new Date().toISOString();
      await save();
      let exitCode: number | string | undefined;
      void proc.exited.then((code) => {
        exitCode = code;
        if (entry.pid === proc.child.pid) entry.pid = undefined;
        if (stopping || state.phase !== 'ready' || services.get(service) !== proc) return;
        // Crashed or killed while the cluster runs: restart it, as a service manager would.
        log(`${service} exited (${code}); restarting it in ${opts.restartDelayMs} ms`);
        void save();
        setTimeout(() => {
          if (stopping) return;
          entry.restarts += 1;
          startService(service).then(
            () => log(`${service} is back (restart ${entry.restarts})`),
            (err: unknown) => log(`${service} did not come back: ${describeStartupError(err)}`),
          );
        }, opts.restartDelayMs);
      });
      // The worker service serves no gRPC of its own (it runs system workflows): its membership
      // port opening is the sign it is up.
      const port = service === 'worker' ? opts.ports.workerMembership : opts.ports[service];
      try {
        await waitFor(
          `the ${service} service on 127.0.0.1:${port}`,
          async () => {
            if (exitCode !== undefined) throw new Error(`exited with ${exitCode}`);
            return isPortOpen(port);
          },
          90_000,
        );
      } catch (err) {
        if (proc.spawnError) {
          throw new StartupError(
            `the Temporal server ${bins.server} could not be run (${briefly(proc.spawnError)})`,
            `remove ${path.dirname(path.dirname(bins.server))} so the next start builds it again`,
            { cause: proc.spawnError },
          );
        }
        const reason = (await reasonFromServerLog(logFile, since)) ?? briefly(err);
        throw new StartupError(`the Temporal ${service} service did not start: ${reason}`, `see ${logFile}`, {
          cause: err,
        });
      }
    };

    for (const service of SERVICES) {
      log(`starting the ${service} service`);
      await startService(service);
    }
    await prepareNamespace(address, opts.namespace, 120_000, log);
    state.phase = 'ready';
    state.readyAfterMs = Date.now() - started;
    await save();
    log(
      `ready in ${(state.readyAfterMs / 1000).toFixed(1)} s: Temporal at ${address}, namespace ${opts.namespace}`,
    );
  } catch (err) {
    state.phase = 'failed';
    state.error = describeStartupError(err);
    await stopAll().catch(() => undefined);
    // Kept even when ephemeral: its logs and state say why (the caller removes it after reporting).
    await save();
    throw err;
  }

  if (!stopRequested) await stopAsked;
  state.phase = 'stopping';
  await save();
  await stopAll();
  state.phase = 'stopped';
  await save();
  if (opts.ephemeral) await rm(dataDir, { recursive: true, force: true });
  log('stopped');
}
