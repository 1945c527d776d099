/**
 * `cluster start|stop|status` as functions: start runs the supervisor ({@link superviseCluster}) as a
 * detached process and waits until it reports ready or failed; stop signals it and waits; status reads
 * the state file and checks every process and the frontend.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { StartupError, briefly } from '../errors';
import { temporalIsServing } from '../temporal-dev-server';
import { ensureTemporalServer } from './binaries';
import { DEFAULT_PORTS, MAX_MEMBERSHIP_PORT, PORT_NAMES, type ClusterPorts } from './config';
import { commandLine, isAlive, readClusterState, rssMb, type ClusterState } from './state';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The Temporal server release the cluster runs. */
export const DEFAULT_TEMPORAL_SERVER_VERSION = 'v1.29.1';

export interface ClusterStartOptions {
  dataDir: string;
  cacheDir: string;
  version?: string;
  namespace?: string;
  /** Ports to use instead of the defaults (or of the free ones with `freePorts`). */
  ports?: Partial<ClusterPorts>;
  /** Pick free ports for every port not given (tests). */
  freePorts?: boolean;
  /** Pause before the supervisor restarts a service that exited on its own (default 1 s). */
  restartDelayMs?: number;
  /** Remove the data dir on stop (tests). */
  ephemeral?: boolean;
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

/** Can we listen on 127.0.0.1:`port` right now? */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free port below 32768. Temporal records membership ports in a SMALLINT column, and the kernel's
 * ephemeral range (where port 0 lands) starts above that, so free ports are picked by trial here.
 */
async function freeLowPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * (MAX_MEMBERSHIP_PORT - 20_000));
    if (await canListen(port)) return port;
  }
  throw new StartupError(
    'no free port found between 20000 and 32767 on 127.0.0.1',
    'free some ports, or pass --port NAME=PORT',
  );
}

/** The ports for a start: explicit ones, else the previous run's (same data dir), else defaults or free ones. */
async function choosePorts(
  opts: ClusterStartOptions,
  previous: ClusterState | undefined,
): Promise<ClusterPorts> {
  const ports = { ...DEFAULT_PORTS, ...(opts.freePorts ? {} : previous?.ports), ...opts.ports };
  if (opts.freePorts) {
    const taken = new Set<number>(Object.values(opts.ports ?? {}));
    for (const name of PORT_NAMES) {
      if (opts.ports?.[name] !== undefined) continue;
      let port = await freeLowPort();
      while (taken.has(port)) port = await freeLowPort();
      taken.add(port);
      ports[name] = port;
    }
  }
  return ports;
}

/** Is the supervisor recorded in `state` alive and really ours (not a reused pid)? */
async function supervisorRunning(state: ClusterState | undefined): Promise<boolean> {
  if (!state || !isAlive(state.supervisorPid)) return false;
  return /cluster/.test((await commandLine(state.supervisorPid)) ?? '');
}

/**
 * Bring the cluster up (idempotent: an already running one is returned as is). Builds the server on
 * first use in the foreground, so `go install`'s progress shows; then starts the supervisor detached
 * (its log: `<dataDir>/logs/supervisor.log`) and waits for `ready`. Throws a {@link StartupError}.
 */
export async function startCluster(opts: ClusterStartOptions): Promise<ClusterState> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`cluster: ${line}\n`));
  const dataDir = path.resolve(opts.dataDir);
  const version = opts.version ?? DEFAULT_TEMPORAL_SERVER_VERSION;
  const previous = await readClusterState(dataDir);
  if (previous && (await supervisorRunning(previous))) {
    if (previous.phase === 'ready') {
      log(`already running (supervisor pid ${previous.supervisorPid}) at ${previous.frontendAddress}`);
      return previous;
    }
    throw new StartupError(
      `a cluster supervisor (pid ${previous.supervisorPid}) on ${dataDir} is ${previous.phase}`,
      'wait for it and check `cluster status`, or run `cluster stop` first',
    );
  }
  const leftovers = Object.entries(previous?.processes ?? {}).filter(([, p]) => isAlive(p.pid));
  if (leftovers.length > 0) {
    throw new StartupError(
      `processes of an earlier cluster on ${dataDir} still run without their supervisor: ${leftovers
        .map(([name, p]) => `${name} (pid ${p.pid})`)
        .join(', ')}`,
      '`cluster stop` stops them',
    );
  }
  await ensureTemporalServer({ cacheDir: opts.cacheDir, version, log });
  const ports = await choosePorts(opts, previous);
  const logDir = path.join(dataDir, 'logs');
  try {
    await mkdir(logDir, { recursive: true });
  } catch (err) {
    throw new StartupError(
      `the cluster data dir ${dataDir} cannot be created (${briefly(err)})`,
      'pass --data-dir a directory this user can write',
      { cause: err },
    );
  }
  const args = [
    path.join(ROOT, 'scripts', 'run.mjs'),
    'cluster',
    'run',
    '--data-dir',
    dataDir,
    '--cache-dir',
    opts.cacheDir,
    '--version',
    version,
    '--namespace',
    opts.namespace ?? 'default',
    '--restart-delay-ms',
    String(opts.restartDelayMs ?? 1000),
    ...PORT_NAMES.flatMap((name) => ['--port', `${name}=${ports[name]}`]),
    ...(opts.ephemeral ? ['--ephemeral'] : []),
  ];
  const out = openSync(path.join(logDir, 'supervisor.log'), 'a');
  const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  child.unref();
  let exitCode: number | string | undefined;
  child.on('exit', (code, signal) => (exitCode = code ?? signal ?? 'unknown'));
  log(`supervisor pid ${child.pid}; log ${path.join(logDir, 'supervisor.log')}`);
  const deadline = Date.now() + (opts.startTimeoutMs ?? 240_000);
  for (;;) {
    const state = await readClusterState(dataDir);
    const ours = state?.supervisorPid === child.pid ? state : undefined;
    if (ours?.phase === 'ready') return ours;
    if (ours?.phase === 'failed' || exitCode !== undefined) {
      // The supervisor records the failure, then stops what it started: start returns once it is gone,
      // so nothing of a failed start is left running.
      const exitDeadline = Date.now() + 30_000;
      while (
        exitCode === undefined &&
        child.pid !== undefined &&
        isAlive(child.pid) &&
        Date.now() < exitDeadline
      ) {
        await sleep(100);
      }
      const error = ours?.error;
      throw new StartupError(
        `the cluster did not start: ${error ? error.replace(/\. Fix: .*$/, '') : `its supervisor exited with ${exitCode}`}`,
        error && / Fix: /.test(error)
          ? error.replace(/^.*\. Fix: /, '')
          : `see ${path.join(logDir, 'supervisor.log')}`,
      );
    }
    if (Date.now() > deadline) {
      throw new StartupError(
        `the cluster did not become ready in ${Math.round((opts.startTimeoutMs ?? 240_000) / 1000)} s (supervisor pid ${child.pid} still running)`,
        `see ${path.join(logDir, 'supervisor.log')}, then run \`cluster stop\``,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Is `pid` alive and still the cluster's `name` process (not an unrelated one that reused the pid)? */
async function isOurs(name: string, pid: number | undefined): Promise<boolean> {
  if (!pid || !isAlive(pid)) return false;
  const expected = name === 'postgres' ? /postgres/ : /server.* start --service/;
  return expected.test((await commandLine(pid)) ?? '');
}

/** Signal the cluster's `name` process if it still runs (a reused pid is never touched). */
async function killIfOurs(name: string, pid: number | undefined, signal: NodeJS.Signals): Promise<boolean> {
  if (!pid || !(await isOurs(name, pid))) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stop the cluster on `dataDir` (idempotent). SIGTERM to the supervisor, which stops the services then
 * PostgreSQL; if it is gone or does not finish in `timeoutMs`, the recorded processes are stopped directly.
 * Returns what it did, as a line to print.
 */
export async function stopCluster(dataDir: string, timeoutMs = 60_000): Promise<string> {
  const state = await readClusterState(path.resolve(dataDir));
  if (!state) return `no cluster was started in ${path.resolve(dataDir)}`;
  if (await supervisorRunning(state)) {
    process.kill(state.supervisorPid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (isAlive(state.supervisorPid) && Date.now() < deadline) await sleep(200);
    if (!isAlive(state.supervisorPid)) return `stopped (supervisor pid ${state.supervisorPid})`;
    process.kill(state.supervisorPid, 'SIGKILL');
  }
  // No supervisor (it was killed): stop what it left behind, services first.
  const left: string[] = [];
  for (const [name, proc] of Object.entries(state.processes).reverse()) {
    if (await killIfOurs(name, proc.pid, name === 'postgres' ? 'SIGINT' : 'SIGTERM'))
      left.push(`${name} (pid ${proc.pid})`);
  }
  const deadline = Date.now() + 20_000;
  while (Object.values(state.processes).some((p) => isAlive(p.pid)) && Date.now() < deadline)
    await sleep(200);
  for (const [name, proc] of Object.entries(state.processes)) await killIfOurs(name, proc.pid, 'SIGKILL');
  return left.length > 0 ? `stopped processes left by a dead supervisor: ${left.join(', ')}` : 'not running';
}

/** One line per process, for `cluster status`. */
export interface ProcessStatus {
  name: string;
  pid?: number;
  alive: boolean;
  port?: number;
  rssMb?: number;
  restarts: number;
}

export interface ClusterStatus {
  running: boolean;
  state?: ClusterState;
  frontendServing: boolean;
  processes: ProcessStatus[];
}

/** The cluster's processes (alive? RSS?) and whether the frontend answers a real call. */
export async function clusterStatus(dataDir: string): Promise<ClusterStatus> {
  const state = await readClusterState(path.resolve(dataDir));
  if (!state) return { running: false, frontendServing: false, processes: [] };
  const supervisorAlive = await supervisorRunning(state);
  const processes: ProcessStatus[] = [
    {
      name: 'supervisor',
      pid: state.supervisorPid,
      alive: supervisorAlive,
      rssMb: supervisorAlive ? await rssMb(state.supervisorPid) : undefined,
      restarts: 0,
    },
  ];
  for (const [name, proc] of Object.entries(state.processes)) {
    const alive = isAlive(proc.pid);
    processes.push({
      name,
      pid: proc.pid,
      alive,
      port: name === 'worker' ? state.ports.workerMembership : state.ports[name as keyof ClusterPorts],
      rssMb: alive ? await rssMb(proc.pid) : undefined,
      restarts: proc.restarts,
    });
  }
  const frontendServing = supervisorAlive && (await temporalIsServing(state.frontendAddress));
  return { running: supervisorAlive && state.phase === 'ready', state, frontendServing, processes };
}
