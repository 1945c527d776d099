/**
 * A worker like production's (createShipbatchWorker), in the test process, with a Temporal connection of its
 * own (possibly through a proxy), its own UPS timings and a sandbox of the test's choosing. `stop()` shuts it
 * down (activities still running get one second, then are cancelled).
 */
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createUpsClient } from '../../activities/ups/from-config';
import type { UpsClient } from '../../activities/ups/client';
import { createShipbatchWorker } from '../../workers/create-worker';
import type { TestEnvironment } from './environment';

export interface RunningWorker {
  ups: UpsClient;
  stop(): Promise<void>;
}

export async function startWorker(
  env: TestEnvironment,
  opts: {
    sandbox: { dataDir: string; knobsFile: string };
    callTimeoutMs: number;
    reconcileGraceMs: number;
    temporalAddress?: string;
    /** False: a doubtful row not found is left for review (a server that may run calls late). Default true. */
    recreateAfterGrace?: boolean;
  },
): Promise<RunningWorker> {
  const config = {
    ...env.config,
    ups: {
      ...env.config.ups,
      callTimeoutMs: opts.callTimeoutMs,
      reconcileGraceMs: opts.reconcileGraceMs,
      recreateAfterGrace: opts.recreateAfterGrace ?? true,
    },
    worker: { ...env.config.worker, shutdownGraceMs: 1000 },
  };
  const ups = createUpsClient({
    ...config.ups,
    sandboxDataDir: opts.sandbox.dataDir,
    sandboxKnobsEnv: { UPS_SANDBOX_KNOBS_FILE: opts.sandbox.knobsFile },
  });
  const connection = await NativeConnection.connect({
    address: opts.temporalAddress ?? env.config.temporal.address,
  });
  const worker: Worker = await createShipbatchWorker({ config, connection, pool: env.pool, ups });
  const running = worker.run();
  return {
    ups,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await ups.close();
      await connection.close();
    },
  };
}
