/**
 * Real `workers/main.ts` processes for the chaos runner and the chaos/cluster tests: started, SIGKILLed,
 * SIGTERMed, restarted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(import.meta.dirname, '..');

/**
 * Start a worker process on `taskQueue` whose sandbox keeps its record in `sandboxDir` (shared by every
 * worker of a run, so the record is the duplicate detector). Its stderr is appended to `logFile` when given,
 * else shown with SHIPBATCH_TEST_VERBOSE.
 */
export function startWorkerProcess(
  name: string,
  opts: {
    taskQueue: string;
    sandboxDir: string;
    knobs: object;
    maxActivities?: number;
    /** More configuration (e.g. SHIPBATCH_UPS_CALL_TIMEOUT, TEMPORAL_ADDRESS) for this worker. */
    env?: Record<string, string>;
    logFile?: string;
  },
): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'workers', 'main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      SHIPBATCH_TASK_QUEUE: opts.taskQueue,
      SHIPBATCH_UPS_SANDBOX_DATA_DIR: opts.sandboxDir,
      UPS_SANDBOX_KNOBS: JSON.stringify(opts.knobs),
      SHIPBATCH_WORKER_MAX_ACTIVITIES: String(opts.maxActivities ?? 8),
      ...opts.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (opts.logFile) {
    const log = createWriteStream(opts.logFile, { flags: 'a' });
    log.on('error', () => undefined);
    child.stderr?.pipe(log);
  } else {
    child.stderr?.on('data', (d: Buffer) => {
      if (process.env.SHIPBATCH_TEST_VERBOSE) process.stderr.write(`[${name}] ${d.toString()}`);
    });
  }
  return child;
}

/** Resolves once the process has exited (at once if it already has). */
export function processExited(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
  );
}
