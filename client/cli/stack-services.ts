/**
 * Starting the services the `dev` and `demo` commands run: the configuration, the embedded stack and a worker
 * (waited for until it polls), stopped again worker first. Start-up failures are one line naming the cause
 * and the fix (describeStartupError), never a trace.
 */
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
    return { stack, worker, config: stackConfig, stop };
  } catch (err) {
    await stop();
    throw new StartupFailed(describeStartupError(err), err instanceof ConfigError ? 2 : 1);
  }
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
