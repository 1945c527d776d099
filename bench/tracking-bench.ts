/**
 * The tracking benchmark (issue 25, "a 10,000-package tracking run stays under 4,096 events per run"): a batch
 * of generated orders shipped in auto mode through the real workflow (the fast path: UPS at latency 0 unless
 * told otherwise, `trackFor: '0s'` so it starts no tracking of its own), then `trackBatch` started by hand over
 * its packages while the sandbox's tracking clock runs fast, with exceptions and returns drawn by rate, through
 * a worker in this process (the real worker factory, its own task queue, the real UPS client and session pool).
 * Measured until every package is where its sandbox fate leads (delivered, returned, or left in exception,
 * which tracking keeps asking about until its deadline: the run is terminated then): wall time, looks per
 * second and per package (the call log and the ledger's `checks`), history events per run and runs, worker
 * RSS, CPU per part.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type pg from 'pg';
import { createUpsClient } from '../activities/ups/from-config';
import { recountTracking, trackingSummary } from '../db/ledger/tracking';
import type { BatchResult, BatchStatus } from '../domain/batch';
import { statusQuery } from '../domain/messages';
import { trackingWorkflowId, type TrackingCounts, type TrackingState } from '../domain/tracking';
import type { RunningStack } from '../stack/stack';
import type { ShipbatchConfig } from '../temporal.config';
import { readCallLog } from '../ups-sandbox/call-log';
import { KnobsSchema, type TrackingFate } from '../ups-sandbox/knobs';
import { ShipmentStore } from '../ups-sandbox/store';
import { fateOf } from '../ups-sandbox/ups/tracking';
import { shipmentBatch, trackBatch } from '../workflows';
import { createShipbatchWorker } from '../workers/create-worker';
import { batchInput } from '../test/helpers/batch';
import { histories } from './batch-run';
import { cpuByComponent, cpuSince, type CpuSeconds } from './cpu';
import { activitySpans, callsPerTool } from './preflight-report';
import { createSourceTable } from './source-table';
import { percentile, RssSampler } from './stats';
import { UNBOUND_CALLS_PER_SECOND } from './throughput-plan';
import {
  eventsPerRun,
  expectedCounts,
  rowsFor,
  settled,
  TRACKING_RATES,
  type TrackingPlan,
} from './tracking-plan';

export interface TrackingFigures {
  plan: TrackingPlan;
  batchId: string;
  rows: number;
  shipping: { phase: string; shipped: number; failed: number; wallS: number; peakRssMb: number };
  packages: number;
  /** Packages per sandbox fate (from the sandbox's own rule), and the counts they lead to. */
  fates: Record<string, number>;
  expected: TrackingCounts;
  /** Whether every package got where its fate leads before the deadline, and how the run ended. */
  settled: boolean;
  ended: 'terminated after settling' | 'done' | 'expired' | 'timed out';
  /** trackBatch started → settled (or ended). */
  wallS: number;
  /** track_package calls in that time, per second and per package; calls answered not ok. */
  looks: number;
  looksPerS: number;
  looksPerPackage: number;
  looksNotOk: number;
  /** The ledger's looks per package (`checks`): p50, p99, max. */
  checksP50: number;
  checksP99: number;
  checksMax: number;
  /** The ledger's looks by final status: packages and looks (those left in exception are asked until the end). */
  looksByStatus: Record<string, { packages: number; looks: number }>;
  /** trackPage activities, and the packages each asked on average. */
  pages: number;
  runs: number;
  eventsPerRun: number[];
  maxEventsPerRun: number;
  meanEventsPerRun: number;
  totalEvents: number;
  final: TrackingCounts;
  /** Whether the counts the ledger kept (`tracking_counts`, what the workflow saw) equal a count of the lines. */
  finalCounted: boolean;
  peakRssMb: number;
  cpu: CpuSeconds;
}

/** Run the plan on `stack`; `log` gets progress lines (every 30 s). */
export async function runTrackingBench(
  config: ShipbatchConfig,
  stack: RunningStack,
  pool: pg.Pool,
  plan: TrackingPlan,
  log: (line: string) => void,
): Promise<TrackingFigures> {
  const sandboxDir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-bench-tracking-'));
  const knobsFile = path.join(sandboxDir, 'knobs.json');
  // As the throughput cases: latency L spread uniformly ±20 %.
  const latency = (L: number) =>
    L > 0 ? { kind: 'uniform', minMs: L * 0.8, maxMs: L * 1.2 } : { kind: 'none' };
  // While shipping the clock runs at real time: every label stays "label created" until tracking starts.
  writeFileSync(knobsFile, JSON.stringify({ latency: latency(plan.shipLatencyMs) }));
  const ups = createUpsClient({
    ...config.ups,
    transport: 'sandbox',
    sessions: plan.sessions,
    callsPerSecond: UNBOUND_CALLS_PER_SECOND,
    sandboxDataDir: sandboxDir,
    sandboxKnobsEnv: { UPS_SANDBOX_KNOBS_FILE: knobsFile },
  });
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection, namespace: stack.namespace });
  const nativeConnection = await NativeConnection.connect({ address: stack.temporalAddress });
  const rss = new RssSampler();
  try {
    const rows = rowsFor(plan.packages);
    const table = 'bench_tracking';
    await createSourceTable(pool, table, rows);
    const taskQueue = `bench-tracking-${process.pid}`;
    const worker = await createShipbatchWorker({
      config: {
        ...config,
        taskQueue,
        temporal: { ...config.temporal, namespace: stack.namespace },
        worker: {
          ...config.worker,
          maxConcurrentActivities: Math.max(config.worker.maxConcurrentActivities, plan.concurrency + 8),
        },
      },
      connection: nativeConnection,
      pool,
      ups,
      identity: `bench-tracking-${process.pid}`,
    });
    const batchId = `batch-bench-tracking-${process.pid}`;
    return await worker.runUntil(async () => {
      // 1. Ship: the real batch workflow, auto mode, no tracking of its own.
      rss.reset();
      const t0 = performance.now();
      const batch = await client.workflow.start(shipmentBatch, {
        taskQueue,
        workflowId: batchId,
        args: [
          batchInput(table, {
            name: `bench tracking ${plan.packages}`,
            mode: 'auto',
            options: { concurrency: plan.concurrency, trackFor: '0s' },
          }),
        ],
      });
      const shipProgress = setInterval(() => {
        batch.query(statusQuery).then(
          (st: BatchStatus) =>
            log(
              `shipping ${((performance.now() - t0) / 1000).toFixed(0)} s ${st.phase}, shipped ` +
                `${st.counts.shipped}/${st.counts.total - st.counts.invalid}, RSS ${rss.peakMb} MB`,
            ),
          () => undefined,
        );
      }, 30_000);
      let result: BatchResult;
      try {
        result = await batch.result();
      } finally {
        clearInterval(shipProgress);
      }
      const shipping = {
        phase: result.phase,
        shipped: result.counts.shipped,
        failed: result.counts.failed,
        wallS: (performance.now() - t0) / 1000,
        peakRssMb: rss.peakMb,
      };
      log(
        `shipped ${shipping.shipped} of ${rows} rows in ${shipping.wallS.toFixed(1)} s (${shipping.phase})`,
      );

      // 2. The fast clock, exceptions and returns by rate; each package's fate by the sandbox's own rule.
      const knobs = {
        latency: latency(plan.trackLatencyMs),
        trackingClockSpeed: plan.clockSpeed,
        trackingExceptions: { rates: TRACKING_RATES },
      };
      writeFileSync(knobsFile, JSON.stringify(knobs));
      const parsedKnobs = KnobsSchema.parse(knobs);
      const store = new ShipmentStore(sandboxDir);
      const numbers = (
        await pool.query<{ n: string }>(
          `SELECT unnest(tracking_numbers) AS n FROM batch_rows WHERE batch_id = $1 AND status = 'shipped'`,
          [batchId],
        )
      ).rows.map((r) => r.n);
      const fates: TrackingFate[] = numbers.map((n) => {
        const rec = store.findByTracking(n);
        const pkg = rec?.packages.find((p) => p.trackingNumber === n);
        if (!rec || !pkg) throw new Error(`the sandbox has no shipment for ${n}`);
        return fateOf(rec, pkg, parsedKnobs);
      });
      store.close();
      const expected = expectedCounts(fates);
      const fateCounts: Record<string, number> = {};
      for (const f of fates) fateCounts[f] = (fateCounts[f] ?? 0) + 1;
      const callsBefore = readCallLog(sandboxDir).length;

      // 3. trackBatch by hand, as the batch would have started it.
      const workflowId = trackingWorkflowId(batchId);
      rss.reset();
      const cpu0 = cpuByComponent();
      const t1 = performance.now();
      const handle = await client.workflow.start(trackBatch, {
        taskQueue,
        workflowId,
        args: [
          {
            batchId,
            trackFor: `${plan.trackForMin}m`,
            pollEvery: `${plan.pollEveryS}s`,
            pageSize: plan.pageSize,
            eventsPerRun: plan.eventsPerRun,
          },
        ],
      });
      let closed: TrackingState | undefined;
      const closing = handle.result().then(
        (s) => (closed = s),
        () => undefined,
      );
      let counts: TrackingCounts;
      let lastLog = t1;
      let isSettled: boolean;
      const limitMs = (plan.trackForMin + 2) * 60_000;
      for (;;) {
        counts = (await trackingSummary(pool, batchId)).counts;
        isSettled = settled(counts, expected);
        if (isSettled || closed || performance.now() - t1 > limitMs) break;
        if (performance.now() - lastLog >= 30_000) {
          lastLog = performance.now();
          log(
            `tracking ${((lastLog - t1) / 1000).toFixed(0)} s: ` +
              Object.entries(counts)
                .filter(([, n]) => n > 0)
                .map(([s, n]) => `${s} ${n}`)
                .join(', ') +
              `, RSS ${rss.peakMb} MB`,
          );
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
      const wallS = (performance.now() - t1) / 1000;
      const cpu = cpuSince(cpu0);
      const looksLog = readCallLog(sandboxDir).slice(callsBefore);
      let ended: TrackingFigures['ended'];
      if (closed) ended = closed.phase === 'done' ? 'done' : 'expired';
      else {
        ended = isSettled ? 'terminated after settling' : 'timed out';
        await handle.terminate(`bench: ${ended}`);
      }
      await closing;
      const runs = await histories(client, workflowId, handle.firstExecutionRunId);
      const perRun = runs.map((h) => h.events?.length ?? 0);
      const e = eventsPerRun(perRun);
      const pages = activitySpans(
        runs.map((h) => h.events ?? []),
        ['trackPage'],
      ).trackPage!;
      const checks = (
        await pool.query<{ checks: number }>(
          'SELECT checks FROM package_tracking WHERE batch_id = $1 ORDER BY checks',
          [batchId],
        )
      ).rows.map((r) => Number(r.checks));
      const byStatus = (
        await pool.query<{ status: string; n: number; looks: number }>(
          `SELECT status, count(*)::int AS n, sum(checks)::int AS looks FROM package_tracking
            WHERE batch_id = $1 GROUP BY status ORDER BY status`,
          [batchId],
        )
      ).rows;
      const track = callsPerTool(looksLog)[config.ups.tools.track] ?? { calls: 0, notOk: 0 };
      const final = (await trackingSummary(pool, batchId)).counts;
      const recounted = await recountTracking(pool, batchId);
      return {
        plan,
        batchId,
        rows,
        shipping,
        packages: numbers.length,
        fates: fateCounts,
        expected,
        settled: isSettled,
        ended,
        wallS,
        looks: track.calls,
        looksPerS: track.calls / wallS,
        looksPerPackage: numbers.length > 0 ? track.calls / numbers.length : NaN,
        looksNotOk: track.notOk,
        checksP50: percentile(checks, 0.5),
        checksP99: percentile(checks, 0.99),
        checksMax: checks.length ? checks[checks.length - 1]! : NaN,
        looksByStatus: Object.fromEntries(byStatus.map((r) => [r.status, { packages: r.n, looks: r.looks }])),
        pages: pages.activities,
        runs: e.runs,
        eventsPerRun: perRun,
        maxEventsPerRun: e.max,
        meanEventsPerRun: e.mean,
        totalEvents: perRun.reduce((a, b) => a + b, 0),
        final,
        finalCounted: Object.entries(recounted).every(([st, n]) => final[st as keyof TrackingCounts] === n),
        peakRssMb: rss.peakMb,
        cpu,
      };
    });
  } finally {
    rss.stop();
    await nativeConnection.close();
    await connection.close();
    await ups.close();
    rmSync(sandboxDir, { recursive: true, force: true });
  }
}
