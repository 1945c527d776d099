/**
 * The pre-flight benchmark (issue 24, "Scale and cost"): one confirm-mode batch of generated orders with the
 * address check ('warn') and rate shopping (cheapest within N business days) on, through a worker in this
 * process (the real worker factory, its own task queue) over the real UPS client and session pool to sandbox
 * sessions with a simulated UPS latency; measured up to the preview (awaiting_approval), then optionally
 * approved and shipped. Figures: each step's rows/s (history and ledger), UPS calls per row per tool (the
 * sandbox's call log), history events, wall time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import type pg from 'pg';
import { createUpsClient } from '../activities/ups/from-config';
import type { BatchInputArg, BatchPreview, BatchResult, BatchStatus } from '../domain/batch';
import { approveSignal, previewQuery, statusQuery } from '../domain/messages';
import type { RunningStack } from '../stack/stack';
import type { ShipbatchConfig } from '../temporal.config';
import { readCallLog } from '../ups-sandbox/call-log';
import { shipmentBatch } from '../workflows';
import { createShipbatchWorker } from '../workers/create-worker';
import { batchInput, inPhase, waitForStatus } from '../test/helpers/batch';
import { histories } from './batch-run';
import { measureCalls } from './call-rate';
import { cpuByComponent, cpuSince, type CpuSeconds } from './cpu';
import { activitySpans, callsPerTool, type ActivitySpan, type StepFigures } from './preflight-report';
import { renderRequests } from './requests';
import type { PreflightPlan } from './preflight-plan';
import { createSourceTable } from './source-table';
import { RssSampler } from './stats';

export interface PreflightFigures {
  plan: PreflightPlan;
  batchId: string;
  totalRows: number;
  validRows: number;
  steps: StepFigures[];
  /** Start → awaiting_approval (as the status query first saw it). */
  toPreviewS: number;
  /** Workflow started → first checkAddressPage scheduled (the load). */
  loadS: number;
  /** Last shopRatesPage completed → awaiting_approval (the preview's rating and hash). */
  previewS: number;
  /** History events up to the preview (all runs), and runs. */
  eventsToPreview: number;
  runsToPreview: number;
  addressOutcomes: Record<string, number>;
  rateShopping?: BatchPreview['rateShopping'];
  /** Calls per tool up to the preview (warm-up excluded). */
  callsToPreview: Record<string, { calls: number; notOk: number }>;
  cpuToPreview: CpuSeconds;
  shipping?: {
    phase: string;
    shipped: number;
    failed: number;
    needsReview: number;
    /** Approve → result. */
    wallS: number;
    /** First shipRow scheduled → last completed, and rows per second of it. */
    windowS: number;
    windowRowsPerS: number;
    createCallsPerShippedRow: number;
    /** Every tool called after the preview (approval → result). */
    calls: Record<string, { calls: number; notOk: number }>;
    eventsTotal: number;
    runsTotal: number;
    cpu: CpuSeconds;
  };
  peakRssMb: number;
}

type History = temporal.api.history.v1.IHistory;

const eventTimeMs = (h: History | undefined) => {
  const t = h?.events?.[0]?.eventTime;
  return Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
};

/** The step's ledger figures: rows with the timestamp and its min → max. */
async function ledgerStep(
  pool: pg.Pool,
  batchId: string,
  column: 'address_checked_at' | 'shopped_at',
): Promise<{ rows: number; seconds: number; afterFirst: number }> {
  const { rows } = await pool.query<{ n: string; s: number | null; first: string }>(
    `WITH t AS (SELECT ${column} AS at FROM batch_rows WHERE batch_id = $1 AND ${column} IS NOT NULL)
     SELECT count(*) AS n, extract(epoch FROM max(at) - min(at)) AS s,
            count(*) FILTER (WHERE at = (SELECT min(at) FROM t)) AS first
       FROM t`,
    [batchId],
  );
  const r = rows[0]!;
  return { rows: Number(r.n), seconds: Number(r.s ?? 0), afterFirst: Number(r.n) - Number(r.first) };
}

function stepFigures(
  step: string,
  activity: string,
  span: ActivitySpan,
  ledger: { rows: number; seconds: number; afterFirst: number },
  tool: string,
  calls: Record<string, { calls: number; notOk: number }>,
  batchRows: number,
): StepFigures {
  const c = calls[tool] ?? { calls: 0, notOk: 0 };
  return {
    step,
    activity,
    rows: ledger.rows,
    historyS: span.seconds,
    historyRowsPerS: span.seconds > 0 ? ledger.rows / span.seconds : NaN,
    ledgerS: ledger.seconds,
    ledgerRowsPerS: ledger.seconds > 0 ? ledger.afterFirst / ledger.seconds : NaN,
    activities: span.activities,
    tool,
    calls: c.calls,
    callsPerRow: batchRows > 0 ? c.calls / batchRows : NaN,
    notOk: c.notOk,
  };
}

/** Run the plan on `stack`; `log` gets progress lines (every 30 s). */
export async function runPreflightBench(
  config: ShipbatchConfig,
  stack: RunningStack,
  pool: pg.Pool,
  plan: PreflightPlan,
  log: (line: string) => void,
): Promise<PreflightFigures> {
  const sandboxDir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-bench-preflight-'));
  const L = plan.latencyMs;
  // As the throughput cases: latency L spread uniformly ±20 % (bench/throughput-bench.ts explains why).
  const latency = L > 0 ? { kind: 'uniform', minMs: L * 0.8, maxMs: L * 1.2 } : { kind: 'none' };
  const ups = createUpsClient({
    ...config.ups,
    transport: 'sandbox',
    sessions: plan.sessions,
    callsPerSecond: plan.callsPerSecond,
    sandboxDataDir: sandboxDir,
    sandboxKnobsEnv: { UPS_SANDBOX_KNOBS: JSON.stringify({ latency }) },
  });
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection, namespace: stack.namespace });
  const nativeConnection = await NativeConnection.connect({ address: stack.temporalAddress });
  const rss = new RssSampler();
  try {
    // Start every session and warm its label code, as the throughput cases do; these calls are not counted.
    const warm = await renderRequests(plan.sessions * 12, 'batch-bench-preflight-warm');
    await measureCalls(warm.length, plan.sessions, (i) => ups.createShipment(warm[i]!));
    const warmCalls = readCallLog(sandboxDir).length;

    const table = 'bench_preflight';
    await createSourceTable(pool, table, plan.rows);
    const taskQueue = `bench-preflight-${process.pid}`;
    const worker = await createShipbatchWorker({
      config: {
        ...config,
        taskQueue,
        temporal: { ...config.temporal, namespace: stack.namespace },
        // The window's rows plus room for the batch's other activities, as the throughput cases size it.
        worker: {
          ...config.worker,
          maxConcurrentActivities: Math.max(config.worker.maxConcurrentActivities, plan.concurrency + 8),
        },
      },
      connection: nativeConnection,
      pool,
      ups,
      identity: `bench-preflight-${process.pid}`,
    });
    const input: BatchInputArg = batchInput(table, {
      name: `bench preflight ${plan.rows}`,
      mode: 'confirm',
      options: {
        concurrency: plan.concurrency,
        addressCheck: 'warn',
        service: { cheapest: { maxTransitDays: plan.maxTransitDays } },
      },
    });
    const batchId = `batch-bench-preflight-${process.pid}`;
    rss.reset();
    return await worker.runUntil(async () => {
      const cpu0 = cpuByComponent();
      const t0 = performance.now();
      const handle = await client.workflow.start(shipmentBatch, {
        taskQueue,
        workflowId: batchId,
        args: [input],
      });
      const progress = setInterval(() => {
        handle.query(statusQuery).then(
          (st: BatchStatus) => {
            const p = st.preflight;
            log(
              `${((performance.now() - t0) / 1000).toFixed(0)} s ${st.phase}` +
                (p?.addressCheck ? `, addresses ${p.addressCheck.done}/${p.addressCheck.total}` : '') +
                (p?.rateShopping ? `, shopped ${p.rateShopping.done}/${p.rateShopping.total}` : '') +
                (st.phase === 'executing' || st.phase.startsWith('completed')
                  ? `, shipped ${st.counts.shipped}/${st.counts.total - st.counts.invalid}`
                  : '') +
                `, RSS ${rss.peakMb} MB`,
            );
          },
          () => undefined,
        );
      }, 30_000);
      try {
        const status = await waitForStatus(
          handle,
          inPhase(
            'awaiting_approval',
            'completed',
            'completed_with_errors',
            'rejected',
            'expired',
            'cancelled',
          ),
          6 * 3600_000,
        );
        const toPreviewS = (performance.now() - t0) / 1000;
        const cpuToPreview = cpuSince(cpu0);
        if (status.phase !== 'awaiting_approval')
          throw new Error(`the batch ended ${status.phase} before its preview: ${status.error ?? ''}`);
        const preview = await handle.query(previewQuery);
        if (!preview) throw new Error('awaiting approval without a preview');
        const callLog = readCallLog(sandboxDir);
        const callsToPreview = callsPerTool(callLog.slice(warmCalls));
        const callsAtPreview = callLog.length;
        const runs = await histories(client, batchId, handle.firstExecutionRunId);
        const spans = activitySpans(
          runs.map((h) => h.events ?? []),
          ['checkAddressPage', 'shopRatesPage'],
        );
        const batchRows = preview.validRows;
        const address = await ledgerStep(pool, batchId, 'address_checked_at');
        const shop = await ledgerStep(pool, batchId, 'shopped_at');
        const start = eventTimeMs(runs[0]);
        const figures: PreflightFigures = {
          plan,
          batchId,
          totalRows: preview.totalRows,
          validRows: preview.validRows,
          steps: [
            stepFigures(
              'address check',
              'checkAddressPage',
              spans.checkAddressPage!,
              address,
              config.ups.tools.validateAddress,
              callsToPreview,
              batchRows,
            ),
            stepFigures(
              `rate shopping (≤ ${plan.maxTransitDays} days)`,
              'shopRatesPage',
              spans.shopRatesPage!,
              shop,
              config.ups.tools.rate,
              callsToPreview,
              batchRows,
            ),
          ],
          toPreviewS,
          loadS: (spans.checkAddressPage!.firstScheduledMs - start) / 1000,
          previewS: toPreviewS - (spans.shopRatesPage!.lastCompletedMs - start) / 1000,
          eventsToPreview: runs.reduce((n, h) => n + (h.events?.length ?? 0), 0),
          runsToPreview: runs.length,
          addressOutcomes: await addressOutcomes(pool, batchId),
          ...(preview.rateShopping ? { rateShopping: preview.rateShopping } : {}),
          callsToPreview,
          cpuToPreview,
          peakRssMb: rss.peakMb,
        };
        if (!plan.ship) {
          await handle.cancel();
          await handle.result().catch(() => undefined);
          return figures;
        }
        const cpu1 = cpuByComponent();
        const t1 = performance.now();
        await handle.signal(approveSignal, { previewHash: preview.previewHash, by: 'bench' });
        const result: BatchResult = await handle.result();
        const wallS = (performance.now() - t1) / 1000;
        const all = await histories(client, batchId, handle.firstExecutionRunId);
        const ship = activitySpans(
          all.map((h) => h.events ?? []),
          ['shipRow'],
        ).shipRow!;
        const after = callsPerTool(readCallLog(sandboxDir).slice(callsAtPreview));
        const creates = after[config.ups.tools.create]?.calls ?? 0;
        figures.shipping = {
          phase: result.phase,
          shipped: result.counts.shipped,
          failed: result.counts.failed,
          needsReview: result.counts.needsReview,
          wallS,
          windowS: ship.seconds,
          windowRowsPerS: ship.seconds > 0 ? ship.completed / ship.seconds : NaN,
          createCallsPerShippedRow: result.counts.shipped > 0 ? creates / result.counts.shipped : NaN,
          calls: after,
          eventsTotal: all.reduce((n, h) => n + (h.events?.length ?? 0), 0),
          runsTotal: all.length,
          cpu: cpuSince(cpu1),
        };
        figures.peakRssMb = rss.peakMb;
        return figures;
      } finally {
        clearInterval(progress);
      }
    });
  } finally {
    rss.stop();
    await nativeConnection.close();
    await connection.close();
    await ups.close();
    rmSync(sandboxDir, { recursive: true, force: true });
  }
}

/** Rows per address outcome (valid, corrected, ambiguous, not_found, unchecked), from the ledger. */
async function addressOutcomes(pool: pg.Pool, batchId: string): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ outcome: string | null; n: string }>(
    `SELECT address_check->>'outcome' AS outcome, count(*) AS n FROM batch_rows
      WHERE batch_id = $1 AND address_check IS NOT NULL GROUP BY 1 ORDER BY 1`,
    [batchId],
  );
  return Object.fromEntries(rows.map((r) => [r.outcome ?? '?', Number(r.n)]));
}
