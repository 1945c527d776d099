/**
 * Starting the services the `dev` and `demo` commands run: the configuration, the embedded stack and a worker
 * (waited for until it polls), stopped again worker first. Start-up failures are one line naming the cause
 * and the fix (describeStartupError), never a trace.
 */
import net from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ConfigError, describeConfig, loadConfig, type ShipbatchConfig } from '../../temporal.config';
import { startStack, stackEnv, type RunningStack } from '../../stack/stack';
import { startProcess, waitFor, type ManagedProcess } from '../../stack/processes';
import { describeStartupError } from '../../stack/errors';
import { ShipbatchClient } from '../batches';
import { readDevState, writeDevState } from '../config';
import type { Io } from './io';

export const ROOT = path.join(import.meta.dirname, '..', '..');
export const WORKER_MAIN = path.join(ROOT, 'workers', 'main.ts');
/** tsx's loader by absolute URL: `--import tsx` would resolve from the cwd, which may be any directory. */
export const TSX = import.meta.resolve('tsx');

/** A failure already explained on one line; the exit code says whether it was the user's input. */
export class StartupFailed extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

export interface Services {
  stack: RunningStack;
  worker?: ManagedProcess;
  /** host:port of the worker's Prometheus endpoint, when it serves one. */
  metricsAddress?: string;
  config: ShipbatchConfig;
  /** Stop the worker first, then the stack (idempotent). */
  stop(): Promise<void>;
}

/** The configuration to start services with; a bad variable is a StartupFailed (exit 2) on one line. */
export function startupConfig(): ShipbatchConfig {
  try {
    return loadConfig();
  } catch (err) {
    // Every bad variable, on one line (describeStartupError keeps only an error's first line).
    const text = err instanceof ConfigError ? oneLineConfigError(err) : describeStartupError(err);
    throw new StartupFailed(text, err instanceof ConfigError ? 2 : 1);
  }
}

/** Start the embedded stack (what the config says is embedded) and, unless told not to, a worker; wait until it polls. */
export async function bringUp(
  io: Io,
  opts: { worker: boolean; log: (line: string) => void; config?: ShipbatchConfig },
): Promise<Services> {
  const config = opts.config ?? startupConfig();
  const running = readDevState();
  if (running) {
    throw new StartupFailed(
      `shipbatch dev already runs in this directory (pid ${running.pid}). Fix: use it (other commands find it), or stop it first`,
      1,
    );
  }
  opts.log(`starting the embedded stack (${JSON.stringify(describeConfig(config).temporal)})`);
  let stack: RunningStack | undefined;
  let worker: ManagedProcess | undefined;
  let metricsAddress: string | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await worker?.stop(15_000);
    await stack?.stop();
  };
  try {
    stack = await startStack(config);
    const env = { ...process.env, ...stackEnv(stack) };
    const stackConfig = loadConfig(env);
    if (opts.worker) {
      metricsAddress = await devMetricsAddress(stackConfig, opts.log);
      env.SHIPBATCH_METRICS_ADDRESS = metricsAddress ?? 'off';
      worker = await startProcess('worker', process.execPath, ['--import', TSX, WORKER_MAIN], {
        logDir: stack.logDir,
        env,
        cwd: process.cwd(),
      });
      const connection = await Connection.connect({ ...stackConfig.temporal.connection });
      try {
        const client = new Client({ connection, namespace: stack.namespace });
        const w = worker;
        await waitFor(
          `a worker polling task queue ${config.taskQueue}`,
          async () => {
            if (w.child.exitCode !== null || w.spawnError) {
              throw new Error(`the worker exited at start-up; see ${w.logFile}`);
            }
            return (await ShipbatchClient.pollers(client, stack!.namespace, config.taskQueue)) > 0;
          },
          90_000,
        );
      } finally {
        await connection.close();
      }
    }
    if (metricsAddress) opts.log(`worker metrics (Prometheus) at http://${metricsAddress}/metrics`);
    return { stack, worker, config: stackConfig, stop, ...(metricsAddress ? { metricsAddress } : {}) };
  } catch (err) {
    await stop();
    throw new StartupFailed(describeStartupError(err), err instanceof ConfigError ? 2 : 1);
  }
}

/** Where `shipbatch dev` and `npm start` serve the worker's metrics unless SHIPBATCH_METRICS_ADDRESS says. */
export const DEV_METRICS_HOST = '127.0.0.1';
export const DEV_METRICS_PORT = 9464;
/** Ports tried after {@link DEV_METRICS_PORT} when it is taken (another dev, a Prometheus exporter). */
const DEV_METRICS_TRIES = 10;

/**
 * The metrics address of the dev worker: SHIPBATCH_METRICS_ADDRESS when the environment sets it (`off`: none),
 * else 127.0.0.1:9464, or the next free port of the ten after it (said on `log`), or none when all are taken.
 */
async function devMetricsAddress(
  config: ShipbatchConfig,
  log: (line: string) => void,
): Promise<string | undefined> {
  if (process.env.SHIPBATCH_METRICS_ADDRESS?.trim()) return config.worker.metricsAddress;
  for (let port = DEV_METRICS_PORT; port < DEV_METRICS_PORT + DEV_METRICS_TRIES; port++) {
    if (await canListen(DEV_METRICS_HOST, port)) {
      if (port !== DEV_METRICS_PORT) {
        log(
          `${DEV_METRICS_HOST}:${DEV_METRICS_PORT} is taken: the worker's metrics go to port ${port} instead`,
        );
      }
      return `${DEV_METRICS_HOST}:${port}`;
    }
  }
  log(
    `no worker metrics: ports ${DEV_METRICS_PORT}-${DEV_METRICS_PORT + DEV_METRICS_TRIES - 1} on ${DEV_METRICS_HOST} ` +
      'are taken; set SHIPBATCH_METRICS_ADDRESS=host:port',
  );
  return undefined;
}

/** True when a TCP server can listen on host:port right now. */
function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** `invalid configuration:\n  A\n  B` → `invalid configuration: A; B`. */
function oneLineConfigError(err: ConfigError): string {
  const [head, ...problems] = err.message.split('\n').map((l) => l.trim());
  return problems.length ? `${head!.replace(/:$/, '')}: ${problems.join('; ')}` : head!;
}

export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/** Report a start-up failure on one line; its exit code (a StartupFailed's own, else 1). */
export function reportStartupFailure(io: Io, err: unknown): number {
  io.err(`shipbatch: ${err instanceof Error ? err.message : String(err)}\n`);
  return err instanceof StartupFailed ? err.code : 1;
}

/** Record the running stack in the data dir, for the other commands run here; returns the state file. */
export function recordDevState(stack: RunningStack): Promise<string> {
  return writeDevState({
    pid: process.pid,
    temporalAddress: stack.temporalAddress,
    namespace: stack.namespace,
    databaseUrl: stack.databaseUrl,
    uiUrl: stack.uiUrl,
    dataDir: stack.dataDir,
    startedAt: new Date().toISOString(),
  });
}
