/**
 * The shipbatch worker process: polls task queue `shipbatch`, runs the batch workflows and their
 * activities. Exits 0 after a graceful shutdown on SIGINT/SIGTERM, 1 when Temporal or PostgreSQL is
 * unreachable or the configuration is bad (with a message that says which).
 */
import { Runtime, type RuntimeOptions } from '@temporalio/worker';
import { loadConfig } from '../temporal.config';
import { createMetrics, histogramBuckets } from '../activities/metrics';
import { openPool } from '../db/pool';
import { migrate } from '../db/migrate';
import { createUpsClient } from '../activities/ups/from-config';
import { connectWorker, createShipbatchWorker } from './create-worker';
import { createWorkerLogger, processLine } from './log';

async function main(): Promise<void> {
  const config = loadConfig();
  // The SDK's entries at SHIPBATCH_LOG_LEVEL and up, as JSON lines (workers/log.ts);
  // we handle signals ourselves, below.
  const logger = createWorkerLogger(config.logLevel);
  installRuntime({ logger, shutdownSignals: [] }, config.worker.metricsAddress);
  // shipbatch's own metrics go to the same endpoint as the SDK's (activities/metrics.ts).
  const metrics = config.worker.metricsAddress ? createMetrics(Runtime.instance().metricMeter) : undefined;
  const pool = await openPool({
    url: config.database.url,
    max: config.worker.maxConcurrentActivities + 2,
    statementTimeoutMs: config.database.statementTimeoutMs,
    applicationName: 'shipbatch-worker',
  });
  try {
    await migrate(pool);
    const connection = await connectWorker(config);
    // UPS server output is kept for error messages; shown live only at debug level.
    const ups = createUpsClient(
      config.ups,
      (line) => {
        if (config.logLevel === 'debug') process.stderr.write(`ups-mcp: ${line}\n`);
      },
      metrics,
    );
    try {
      const worker = await createShipbatchWorker({ config, connection, pool, ups, metrics });
      const stop = (signal: string) => {
        processLine('INFO', `worker: ${signal} received, finishing in-flight tasks…`, { signal });
        worker.shutdown();
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
      processLine(
        'INFO',
        `worker: polling task queue ${config.taskQueue} on ${config.temporal.address} ` +
          `(namespace ${config.temporal.namespace}); UPS via ${ups.connection.describe()}`,
        { taskQueue: config.taskQueue, namespace: config.temporal.namespace },
      );
      await worker.run();
      processLine('INFO', 'worker: stopped');
    } finally {
      await ups.close();
      await connection.close();
    }
  } finally {
    await pool.end();
  }
}

/**
 * The runtime, with the Prometheus endpoint when `metricsAddress` is set (the SDK's `temporal_*` metrics and
 * shipbatch's); an address that cannot be bound is an error naming the variable.
 */
function installRuntime(options: RuntimeOptions, metricsAddress: string | undefined): void {
  if (!metricsAddress) {
    Runtime.install(options);
    return;
  }
  try {
    Runtime.install({
      ...options,
      telemetryOptions: {
        metrics: {
          prometheus: {
            bindAddress: metricsAddress,
            countersTotalSuffix: true,
            histogramBucketOverrides: histogramBuckets(),
          },
        },
      },
    });
  } catch (err) {
    throw new Error(
      `cannot serve metrics at SHIPBATCH_METRICS_ADDRESS=${metricsAddress}: ${(err as Error).message}; ` +
        'choose a free host:port, or set it to off',
      { cause: err },
    );
  }
  processLine('INFO', `worker: Prometheus metrics at http://${metricsAddress}/metrics`);
}

main().catch((err: unknown) => {
  processLine('ERROR', `worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
