/**
 * Runs the steps of the throughput plan on one stack: each batch step gets a worker of its own in this process
 * (its own task queue) over a UPS client with the step's sessions, latency and rate cap, on a sandbox data dir
 * of its own; sandbox steps call the UPS client directly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type pg from 'pg';
import { createActivities } from '../activities';
import type { UpsClient } from '../activities/ups/client';
import { createUpsClient } from '../activities/ups/from-config';
import { openPool } from '../db/pool';
import type { RunningStack } from '../stack/stack';
import type { ShipbatchConfig } from '../temporal.config';
import { workflowBundle } from '../workers/create-worker';
import { runBenchBatch, type BatchFigures } from './batch-run';
import { measureCalls, type CallRate } from './call-rate';
import { cpuByComponent, cpuSince, type CpuSeconds } from './cpu';
import { renderRequests } from './requests';
import { RssSampler } from './stats';
import {
  UNBOUND_CALLS_PER_SECOND,
  type BatchStep,
  type BenchStep,
  type NoopStep,
  type SandboxStep,
} from './throughput-plan';

/** What a step's UPS client is made of. */
type UpsSetup = Pick<BatchStep, 'sessions' | 'latencyMs' | 'callsPerSecond'>;

const WARM_CREATES_PER_SESSION = 12;

export type StepResult =
  | { step: NoopStep | BatchStep; batch: BatchFigures; cpu: CpuSeconds }
  | { step: SandboxStep; calls: CallRate; startS: number; cpu: CpuSeconds };

export class ThroughputBench {
  readonly results = new Map<string, StepResult>();
  private readonly rss = new RssSampler();
  private readonly sandboxDirs: string[] = [];
  private warmed = 0;

  private constructor(
    private readonly config: ShipbatchConfig,
    private readonly stack: RunningStack,
    private readonly pool: pg.Pool,
    private readonly connection: Connection,
    private readonly client: Client,
    private readonly nativeConnection: NativeConnection,
  ) {}

  static async open(config: ShipbatchConfig, stack: RunningStack): Promise<ThroughputBench> {
    // As the worker sizes its pool (workers/main.ts): a connection for every activity slot of the largest case.
    const pool = await openPool({ url: stack.databaseUrl, max: 60 });
    const connection = await Connection.connect({ address: stack.temporalAddress });
    const client = new Client({ connection, namespace: stack.namespace });
    const nativeConnection = await NativeConnection.connect({ address: stack.temporalAddress });
    return new ThroughputBench(config, stack, pool, connection, client, nativeConnection);
  }

  async run(step: BenchStep, log: (line: string) => void): Promise<void> {
    if (step.kind === 'sandbox') {
      this.results.set(step.id, await this.sandboxCeiling(step));
      return;
    }
    // The no-op cases call UPS only in the preview (its 20 rows): the same sessions and cap as shipbatch's.
    const upsSetup: UpsSetup =
      step.kind === 'noop' ? { sessions: 16, latencyMs: 0, callsPerSecond: UNBOUND_CALLS_PER_SECOND } : step;
    const ups = this.upsClient(upsSetup);
    try {
      await this.warm(ups, upsSetup.sessions);
      const taskQueue = `bench-${step.id}-${process.pid}`;
      const worker = await this.worker(taskQueue, ups, step.concurrency, step.kind === 'noop');
      const cpuBefore = cpuByComponent();
      const batch = await runBenchBatch({
        client: this.client,
        pool: this.pool,
        worker,
        taskQueue,
        label: step.id,
        rows: step.rows,
        concurrency: step.concurrency,
        rss: this.rss,
        progress: log,
      });
      this.results.set(step.id, { step, batch, cpu: cpuSince(cpuBefore) });
    } finally {
      await ups.close();
    }
  }

  async close(): Promise<void> {
    this.rss.stop();
    await this.nativeConnection.close();
    await this.connection.close();
    await this.pool.end();
    for (const dir of this.sandboxDirs) rmSync(dir, { recursive: true, force: true });
  }

  private upsClient(step: UpsSetup): UpsClient {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-bench-ups-'));
    this.sandboxDirs.push(dir);
    // UPS latency L as a spread around L (uniform, ±20 %), not a constant: with a constant every row of a
    // window answers at the same moment, and the rows then queue for the CPU in waves that a real UPS,
    // whose answers vary, does not make. The mean is L, which is what C/L and P/L use.
    const latency =
      step.latencyMs > 0
        ? { kind: 'uniform', minMs: step.latencyMs * 0.8, maxMs: step.latencyMs * 1.2 }
        : { kind: 'none' };
    return createUpsClient({
      ...this.config.ups,
      transport: 'sandbox',
      sessions: step.sessions,
      callsPerSecond: step.callsPerSecond,
      sandboxDataDir: dir,
      sandboxKnobsEnv: { UPS_SANDBOX_KNOBS: JSON.stringify({ latency }) },
    });
  }

  /**
   * Start every session (process spawn, MCP initialize, fonts) and let its label code warm up (a few creates
   * each: the first labels of a process cost several times a warm one) before anything is timed, as a
   * long-running server would be.
   */
  private async warm(ups: UpsClient, sessions: number): Promise<void> {
    const requests = await renderRequests(
      sessions * WARM_CREATES_PER_SESSION,
      `batch-bench-warm-${++this.warmed}`,
    );
    await measureCalls(requests.length, sessions, (i) => ups.createShipment(requests[i]!));
  }

  private async worker(
    taskQueue: string,
    ups: UpsClient,
    concurrency: number,
    noop: boolean,
  ): Promise<Worker> {
    const activities = createActivities({
      pool: this.pool,
      ups,
      workerIdentity: `bench-${process.pid}`,
      statementTimeoutMs: this.config.database.statementTimeoutMs,
      reconcileGraceMs: this.config.ups.reconcileGraceMs,
      callTimeoutMs: this.config.ups.callTimeoutMs,
      recreateAfterGrace: this.config.ups.recreateAfterGrace,
    });
    return Worker.create({
      connection: this.nativeConnection,
      namespace: this.stack.namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: noop
        ? {
            ...activities,
            // The ceiling: no ledger write, no UPS call (the row stays pending in the ledger).
            shipRow: (args: { batchId: string; rowNo: number }) =>
              Promise.resolve({ rowNo: args.rowNo, status: 'shipped' as const, costCents: 0 }),
          }
        : activities,
      // The window's rows plus room for the batch's other activities (load, progress, close).
      maxConcurrentActivityTaskExecutions: Math.max(
        this.config.worker.maxConcurrentActivities,
        concurrency + 8,
      ),
    });
  }

  private async sandboxCeiling(step: SandboxStep): Promise<StepResult> {
    const ups = this.upsClient({
      sessions: step.sessions,
      latencyMs: 0,
      callsPerSecond: UNBOUND_CALLS_PER_SECOND,
    });
    try {
      const t = performance.now();
      await this.warm(ups, step.sessions);
      const startS = (performance.now() - t) / 1000;
      const requests = await renderRequests(step.calls, `batch-bench-${step.id.toLowerCase()}`);
      const cpuBefore = cpuByComponent();
      const calls = await measureCalls(step.calls, step.inFlight, (i) => ups.createShipment(requests[i]!));
      return { step, calls, startS, cpu: cpuSince(cpuBefore) };
    } finally {
      await ups.close();
    }
  }
}
