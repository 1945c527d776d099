import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import type pg from 'pg';
import type { ShipbatchConfig } from '../temporal.config';
import { createActivities } from '../activities';
import type { UpsClient } from '../activities/ups/client';
import type { ShipbatchMetrics } from '../activities/metrics';
import { activityLogContext } from './log';

const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

let bundle: Promise<WorkflowBundle> | undefined;

/** Bundle the workflow code once per process; every worker this process creates reuses it. */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
  return bundle;
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => process.stderr.write(`bundler: ${message}\n`),
  error: (message: string) => process.stderr.write(`bundler: ${message}\n`),
};

/** Connect to Temporal; an unreachable server is an error that names the address and what to do. */
export async function connectWorker(config: ShipbatchConfig): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(config.temporal.connection);
  } catch (err) {
    throw new Error(
      `Temporal at ${config.temporal.address} is unreachable (${(err as Error).message}); ` +
        'start the embedded stack with `npm start`, or set TEMPORAL_ADDRESS',
      { cause: err },
    );
  }
}

/** A worker on the shipbatch task queue with the workflows and the activities bound to `pool`. */
export async function createShipbatchWorker(opts: {
  config: ShipbatchConfig;
  connection: NativeConnection;
  pool: pg.Pool;
  ups: UpsClient;
  identity?: string;
  /** shipbatch's metrics (workers/main.ts, when SHIPBATCH_METRICS_ADDRESS is set); default: none. */
  metrics?: ShipbatchMetrics;
}): Promise<Worker> {
  const identity = opts.identity ?? `shipbatch-worker@${os.hostname()}:${process.pid}`;
  return Worker.create({
    connection: opts.connection,
    namespace: opts.config.temporal.namespace,
    taskQueue: opts.config.taskQueue,
    identity,
    workflowBundle: await workflowBundle(),
    activities: createActivities({
      pool: opts.pool,
      ups: opts.ups,
      workerIdentity: identity,
      statementTimeoutMs: opts.config.database.statementTimeoutMs,
      reconcileGraceMs: opts.config.ups.reconcileGraceMs,
      callTimeoutMs: opts.config.ups.callTimeoutMs,
      recreateAfterGrace: opts.config.ups.recreateAfterGrace,
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
    }),
    // Every log entry of an activity names its row (workers/log.ts).
    interceptors: { activity: [activityLogContext] },
    maxConcurrentActivityTaskExecutions: opts.config.worker.maxConcurrentActivities,
    // A deploy's SIGTERM lets the creates in flight finish (else each would become a doubtful row).
    shutdownGraceTime: opts.config.worker.shutdownGraceMs,
  });
}
