/**
 * `shipmentBatch`: one durable workflow per batch (docs/design.md §3). Row data never enters history: the
 * activities take the batch id and row numbers and read the ledger; results are counts and cents.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  currentUpdateInfo,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type SignalDefinition,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { Activities } from '../activities';
import {
  BatchInputSchema,
  describeIssues,
  durationToMs,
  emptyCounts,
  type BatchInput,
  type BatchInputArg,
  type BatchResult,
  type BatchStatus,
} from '../domain/batch';
import * as msg from '../domain/messages';
import type { BatchPhase } from '../domain/row-status';
import { SHIP_BATCH_MODE, SHIP_BATCH_PHASE, SHIP_BATCH_ROWS } from '../domain/search-attributes';
import { progressMarkdown } from './batch-progress';
import { BatchState, type CarriedState } from './batch-state';

/** Failure types a retry cannot fix (matched by name by Temporal's retry policy). */
export const NON_RETRYABLE = ['BatchSourceError', 'UpsRejectedError', 'InvalidBatchInput', 'WriteBackError'];

const ledger = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

const loading = proxyActivities<Activities>({
  startToCloseTimeout: '2h',
  heartbeatTimeout: '60s',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 20,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** Write-back: bounded retries, so a source that refuses the update cannot hold the batch open. */
const writing = proxyActivities<Activities>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: '60s',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 10,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** UPS activities: a UPS call has its own timeout in the client; this bounds one attempt with its session wait. */
const UPS_OPTIONS = {
  startToCloseTimeout: '10m',
  // The activities heartbeat every few seconds: a dead worker's rows are retried elsewhere within this.
  heartbeatTimeout: '20s',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '2m',
    maximumAttempts: 25,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
} as const;
const ups = proxyActivities<Activities>(UPS_OPTIONS);

/** Rows fetched from the ledger per page while dispatching. */
const PAGE = 500;

/**
 * Patches (workflow changes that running batches replay differently; docs/exactly-once.md):
 * - CANCEL_IN_LEDGER: a cancel is written to the ledger as soon as it is accepted (shipRow reads it
 *   before every create), and closing after a cancel settles rows still in flight in the ledger
 *   (undispatched restarts reconcile; with voidShipped, rows needing review too), so no row stays
 *   pending or in_flight.
 * - ATTENTION_HANDOVER: the attention phase continues as new when Temporal suggests it or after many
 *   Updates, like the execution loop.
 */
const CANCEL_IN_LEDGER = 'cancel-in-ledger-v1';
const ATTENTION_HANDOVER = 'attention-handover-v1';

/** Waiting for UPS: the first check after this long, then twice as long each time, at most the max. */
const PROBE_FIRST_MS = 5_000;
const PROBE_MAX_MS = 5 * 60_000;

/**
 * Ship every row of a source table through UPS, once. `carried` is internal: the state a previous run
 * handed over at continue-as-new.
 */
export async function shipmentBatch(rawInput: BatchInputArg, carried?: CarriedState): Promise<BatchResult> {
  const batchId = workflowInfo().workflowId;
  const parsed = BatchInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: 'InvalidBatchInput',
      message: `invalid batch input: ${describeIssues(parsed.error)}`,
      nonRetryable: true,
    });
  }
  const input: BatchInput = parsed.data;
  const state = new BatchState(batchId, input, carried);
  registerHandlers(state);
  const opts = input.options;
  const cancelInLedger = patched(CANCEL_IN_LEDGER);
  const attentionHandover = patched(ATTENTION_HANDOVER);
  if (cancelInLedger) {
    // From the moment a cancel is accepted, no create may leave for a row of this batch.
    void CancellationScope.nonCancellable(async () => {
      await condition(() => !!state.cancel);
      await ledger.requestCancel({ batchId });
    });
  }

  let shownPhase: BatchPhase | undefined = carried?.phase;
  let shownMode = carried?.mode;
  /** Phase change: search attributes (only the changed keys) and current details. */
  const enter = (phase: BatchPhase) => {
    state.phase = phase;
    const changes = [];
    if (phase !== shownPhase) changes.push({ key: SHIP_BATCH_PHASE, value: phase });
    if (state.mode !== shownMode) changes.push({ key: SHIP_BATCH_MODE, value: state.mode });
    shownPhase = phase;
    shownMode = state.mode;
    if (changes.length > 0) upsertSearchAttributes(changes);
    setCurrentDetails(progressMarkdown(state));
  };
  setCurrentDetails(progressMarkdown(state));

  try {
    if (!carried) {
      enter('loading');
      const loaded = await loading.loadBatch({ batchId, input });
      state.counts = {
        ...emptyCounts(),
        total: loaded.total,
        invalid: loaded.invalid,
        pending: loaded.valid,
      };
      upsertSearchAttributes([{ key: SHIP_BATCH_ROWS, value: loaded.total }]);
      if (loaded.total === 0) {
        return finish(state, 'completed');
      }
      if (!state.cancel && !state.rejected) {
        const runPreview = () => {
          enter('previewing');
          return ups.previewBatch.executeWithOptions(
            { ...UPS_OPTIONS, summary: previewSummary(opts.previewRows, opts.rateAll, loaded.valid) },
            [
              {
                batchId,
                previewRows: opts.previewRows,
                rateAll: opts.rateAll,
                concurrency: opts.concurrency,
              },
            ],
          );
        };
        let preview = await runPreview();
        // UPS did not answer one rating: no $0.00 estimate, no shipping on it; wait for UPS, then rate again.
        while (preview.upsDown && !state.cancel && !state.rejected) {
          state.upsOutage ??= {
            ...preview.upsDown,
            since: new Date().toISOString(),
            probes: 0,
            needsOperator: preview.upsDown.kind === 'auth',
          };
          if ((await waitForUps(state, false)) !== 'resumed') break;
          preview = await runPreview();
        }
        if (!preview.upsDown) {
          state.preview = preview;
          state.estimatedCostCents = preview.totalEstimatedCostCents;
          state.currency = preview.currency;
        }
      }
      if (state.mode === 'confirm' && !state.cancel && !state.rejected) {
        state.approvalDeadline = Date.now() + durationToMs(opts.approvalTimeout);
      }
    }
    if (state.phase === 'previewing' || state.phase === 'loading' || state.phase === 'awaiting_approval') {
      const outcome = await awaitApproval(state, enter);
      if (outcome !== 'go') return await closeWithoutShipping(state, outcome, enter);
    }
    if (state.phase !== 'awaiting_action') {
      state.modeLocked = true;
      enter(state.upsOutage ? 'waiting_for_ups' : 'executing');
      if ((await execute(state)) === 'continue') return await handOver(state);
    }
    // Attention: rows failed or need review; an operator restarts, resolves, finishes or cancels.
    for (;;) {
      if (state.cancel) return await cancelRest(state, enter);
      if (handOverSuggested()) return await handOver(state);
      await refreshCounts(state);
      const needsAction = state.counts.failed + state.counts.needsReview > 0;
      if (!needsAction && state.actions.length === 0) break;
      if (state.phase !== 'awaiting_action') {
        enter('awaiting_action');
        state.attentionDeadline = Date.now() + durationToMs(opts.attentionTimeout);
      }
      if (state.actions.length === 0) {
        const acted = await condition(
          () => state.actions.length > 0 || state.finishRequested || !!state.cancel || handOverSuggested(),
          Math.max(0, (state.attentionDeadline ?? Date.now()) - Date.now()),
        );
        if (!acted || (state.finishRequested && state.actions.length === 0)) break;
        if (state.cancel || handOverSuggested()) continue;
      }
      const resumed = await runActions(state);
      if (resumed) {
        state.attentionDeadline = undefined;
        enter('executing');
        if ((await execute(state)) === 'continue') return await handOver(state);
      }
    }
    await refreshCounts(state);
    if (opts.writeBack && state.counts.shipped > 0) {
      await writing.writeBack({ batchId }).catch((err: unknown) => {
        // Write-back never undoes a shipment; its failure is reported, the batch still finishes.
        state.refuse('writeBack', `write-back failed: ${failureMessage(err)}`);
      });
    }
    const bad = state.counts.failed + state.counts.needsReview + state.counts.invalid;
    return finish(state, bad > 0 ? 'completed_with_errors' : 'completed');
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // Temporal's own cancellation (Web UI "Cancel"): like `cancel` without voiding, then report it.
    state.cancel ??= { reason: 'cancelled through Temporal', voidShipped: false };
    await CancellationScope.nonCancellable(async () => {
      await condition(() => state.inFlightCount === 0);
      await cancelRest(state, enter);
    });
    throw err;
  }

  // ---------------------------------------------------------------- steps

  async function awaitApproval(
    s: BatchState,
    phase: (p: BatchPhase) => void,
  ): Promise<'go' | 'rejected' | 'cancelled' | 'expired'> {
    if (s.mode === 'confirm' && !s.cancel && !s.rejected) {
      phase('awaiting_approval');
      const decided = await condition(
        () => !!s.approval || s.mode === 'auto' || !!s.rejected || !!s.cancel,
        Math.max(0, (s.approvalDeadline ?? Date.now()) - Date.now()),
      );
      if (!decided) return 'expired';
    }
    if (s.cancel) return 'cancelled';
    if (s.rejected) return 'rejected';
    if (!s.approval) s.approval = { by: `${s.mode} mode`, at: new Date().toISOString() };
    return 'go';
  }

  async function closeWithoutShipping(
    s: BatchState,
    outcome: 'rejected' | 'cancelled' | 'expired',
    phase: (p: BatchPhase) => void,
  ): Promise<BatchResult> {
    if (outcome === 'cancelled') return cancelRest(s, phase);
    await ledger.markRows({ batchId, from: ['pending'], to: 'cancelled' });
    await refreshCounts(s);
    if (outcome === 'rejected') s.error = `rejected: ${s.rejected?.reason ?? ''}`.trim();
    return finish(s, outcome);
  }

  async function cancelRest(s: BatchState, phase: (p: BatchPhase) => void): Promise<BatchResult> {
    s.modeLocked = true;
    if (!cancelInLedger) {
      await condition(() => s.inFlightCount === 0);
      await ledger.markRows({ batchId, from: ['pending', 'failed'], to: 'cancelled' });
    } else {
      await ledger.requestCancel({ batchId });
      await condition(() => s.inFlightCount === 0);
      await ledger.markRows({ batchId, from: ['pending', 'failed'], to: 'cancelled' });
      // Rows that may exist at UPS settle before the batch closes: shipRow reconciles them and, the
      // cancel being in the ledger, never creates. With voidShipped, rows needing review too (a row
      // found shipped is then voided with the rest).
      if (s.cancel?.voidShipped) {
        await ledger.markRows({ batchId, from: ['needs_review'], to: 'in_flight' });
      }
      if ((await settleInFlight(s)) === 'continue') return handOver(s);
      if (s.leftInFlight > 0) {
        // UPS could not be asked whether they shipped: they may exist at UPS, so they need review.
        await ledger.markRows({
          batchId,
          from: ['in_flight'],
          to: 'needs_review',
          reason: 'the batch was cancelled while UPS did not answer: check at UPS whether it shipped',
        });
      }
    }
    if (s.cancel?.voidShipped) {
      const voided = await ups.voidShippedRows({ batchId });
      for (const problem of voided.problems) s.refuse('cancel', problem);
    }
    await refreshCounts(s);
    s.endOutage(); // a closed batch waits for nothing
    s.error = `cancelled: ${s.cancel?.reason ?? ''}`.trim();
    phase('cancelled');
    return finish(s, 'cancelled');
  }

  /** After a cancel: dispatch every row the ledger still has in flight (each reconciles, none creates). */
  async function settleInFlight(s: BatchState): Promise<'done' | 'continue'> {
    let dispatched = 0;
    let after = 0;
    for (;;) {
      const page = await ledger.pendingRows({ batchId, afterRowNo: after, limit: PAGE });
      for (const rowNo of page) {
        await condition(() => s.inFlightCount < opts.concurrency);
        dispatch(s, rowNo);
        dispatched++;
      }
      await condition(() => s.inFlightCount === 0);
      if (page.length < PAGE) return 'done';
      after = page[page.length - 1]!;
      if (workflowInfo().continueAsNewSuggested || dispatched >= opts.rowsPerRun) return 'continue';
    }
  }

  async function refreshCounts(s: BatchState): Promise<void> {
    const totals = await ledger.ledgerTotals({ batchId });
    s.counts = totals.counts;
    s.actualCostCents = totals.costCents;
    if (totals.currency) s.currency = totals.currency;
    s.extraShipments = totals.extraShipments;
    s.estimatedCostRows = totals.estimatedCostRows;
  }

  /** Run queued restart/resolve actions; true when rows went back to pending (dispatch again). */
  async function runActions(s: BatchState): Promise<boolean> {
    let requeued = 0;
    while (s.actions.length > 0) {
      const action = s.actions.shift()!;
      const r = await ledger.applyRowAction({ batchId, action });
      requeued += r.requeued;
      for (const problem of r.problems) s.refuse(action.kind, problem);
    }
    if (requeued > 0) s.cursor = 0;
    return requeued > 0;
  }

  /** The sliding window; 'continue' when this run should hand over to a new one. */
  async function executeRows(
    s: BatchState,
    phase: (p: BatchPhase) => void,
  ): Promise<'done' | 'continue' | 'paused'> {
    let queue: number[] = [];
    let exhausted = false;
    let dispatched = 0;
    let handOverNow = false;
    while (!s.cancel && !s.upsOutage) {
      if (queue.length === 0) {
        if (exhausted) break;
        queue = await ledger.pendingRows({ batchId, afterRowNo: s.cursor, limit: PAGE });
        if (queue.length < PAGE) exhausted = true;
        if (queue.length === 0) break;
      }
      await condition(() => s.inFlightCount < opts.concurrency || !!s.cancel || !!s.upsOutage);
      if (s.cancel || s.upsOutage) break;
      const rowNo = queue.shift()!;
      s.cursor = rowNo;
      dispatch(s, rowNo);
      dispatched++;
      if (workflowInfo().continueAsNewSuggested || dispatched >= opts.rowsPerRun) {
        handOverNow = true;
        break;
      }
    }
    // Drain: every row in flight settles (shipped, failed, needs review) before anything else.
    await condition(() => s.inFlightCount === 0);
    await refreshCounts(s);
    phase(s.phase);
    if (s.upsOutage && !s.cancel) return 'paused';
    return handOverNow && !s.cancel ? 'continue' : 'done';
  }

  /** The execution, paused while UPS is down and resumed when it answers; 'continue' to hand over. */
  async function execute(s: BatchState): Promise<'done' | 'continue'> {
    for (;;) {
      const r = await executeRows(s, enter);
      if (r !== 'paused') return r;
      const waited = await waitForUps(s, true);
      if (waited === 'continue') return 'continue';
      if (waited === 'cancelled') return 'done';
      // Rows sent back to pending, or left in flight to reconcile, are behind the cursor: start over.
      s.cursor = 0;
      enter('executing');
    }
  }

  /**
   * Phase waiting_for_ups: probe UPS with backoff until it answers, the operator resumes, or a cancel.
   * Dispatch is paused; the rows not sent stay pending with their retries unspent.
   */
  async function waitForUps(
    s: BatchState,
    canHandOver: boolean,
  ): Promise<'resumed' | 'cancelled' | 'continue'> {
    enter('waiting_for_ups');
    for (;;) {
      const o = s.upsOutage!;
      const delay = Math.min(PROBE_MAX_MS, PROBE_FIRST_MS * 2 ** Math.min(o.probes, 10));
      o.nextProbeAt = new Date(Date.now() + delay).toISOString();
      setCurrentDetails(progressMarkdown(s));
      await condition(
        () => !!s.cancel || !!s.rejected || s.resumeRequested || (canHandOver && handOverSuggested()),
        delay,
      );
      if (s.cancel || s.rejected) {
        s.endOutage();
        return 'cancelled';
      }
      if (s.resumeRequested) {
        s.endOutage();
        return 'resumed';
      }
      if (canHandOver && handOverSuggested()) return 'continue';
      o.nextProbeAt = undefined;
      o.probes++;
      setCurrentDetails(progressMarkdown(s));
      const probe = await ups.probeUps.executeWithOptions({ ...UPS_OPTIONS, summary: 'is UPS answering?' }, [
        { batchId },
      ]);
      if (probe.ok) {
        s.endOutage();
        return 'resumed';
      }
      o.kind = probe.kind;
      o.reason = probe.reason;
      o.needsOperator = probe.kind === 'auth';
    }
  }

  function dispatch(s: BatchState, rowNo: number): void {
    s.inFlight[rowNo] = true;
    s.counts.pending = Math.max(0, s.counts.pending - 1);
    void runRow(s, rowNo);
  }

  async function runRow(s: BatchState, rowNo: number): Promise<void> {
    try {
      for (;;) {
        // Shielded: Temporal cancellation must not abandon a row whose create_shipment may be under way.
        const r = await CancellationScope.nonCancellable(() =>
          ups.shipRow.executeWithOptions({ ...UPS_OPTIONS, summary: `ship row ${rowNo}` }, [
            { batchId, rowNo },
          ]),
        );
        if (r.upsDown) {
          // UPS itself failed and nothing was created: try again after a pause, unless the breaker
          // tripped (then the row waits in the ledger, pending or in flight, for UPS to answer).
          if (r.status === 'pending') s.counts.pending++;
          if (s.noteUpsDown(r.upsDown) || s.cancel) {
            if (r.status === 'in_flight') s.leftInFlight++;
            return;
          }
          const pause = Math.min(
            30_000,
            Math.max(r.upsDown.retryAfterMs ?? 0, 1000 * 2 ** (s.consecutiveUpsDown - 1)),
          );
          // The pause ends early when the breaker trips meanwhile: the batch then waits for UPS at once.
          await CancellationScope.nonCancellable(() => condition(() => !!s.upsOutage || !!s.cancel, pause));
          if (s.upsOutage || s.cancel) return;
          if (r.status === 'pending') s.counts.pending = Math.max(0, s.counts.pending - 1);
          continue;
        }
        s.noteUpsAnswered();
        if (r.status === 'shipped') {
          s.counts.shipped++;
          s.actualCostCents += r.costCents;
          if (r.currency) s.currency = r.currency;
        } else if (r.status === 'needs_review') s.counts.needsReview++;
        else if (r.status === 'cancelled') s.counts.cancelled++;
        else s.counts.failed++;
        return;
      }
    } catch (err) {
      // A definitive UPS rejection already marked the row failed; anything else (retries exhausted)
      // settles it here: in_flight → needs_review (it may exist at UPS), pending → failed.
      const type =
        err instanceof ActivityFailure && err.cause instanceof ApplicationFailure
          ? err.cause.type
          : undefined;
      if (type === 'UpsRejectedError') s.counts.failed++;
      else {
        log.warn('shipRow gave up', { rowNo, error: failureMessage(err) });
        const settled = await CancellationScope.nonCancellable(() =>
          ledger.settleRow({ batchId, rowNo, reason: failureMessage(err) }),
        );
        if (settled === 'needs_review') s.counts.needsReview++;
        else s.counts.failed++;
      }
    } finally {
      delete s.inFlight[rowNo];
      setCurrentDetails(progressMarkdown(s));
    }
  }

  /** Whether the attention phase should hand over to a new run (history or Updates growing). */
  function handOverSuggested(): boolean {
    if (!attentionHandover) return false;
    return workflowInfo().continueAsNewSuggested || state.updatesThisRun >= opts.updatesPerRun;
  }

  async function handOver(s: BatchState): Promise<never> {
    await condition(allHandlersFinished);
    return continueAsNew<typeof shipmentBatch>(rawInput, s.carry());
  }

  function finish(s: BatchState, phase: BatchPhase): BatchResult {
    enter(phase);
    return {
      batchId,
      phase,
      counts: s.counts,
      totalCostCents: s.actualCostCents,
      currency: s.currency,
      ...(s.extraShipments ? { extraShipments: s.extraShipments } : {}),
      ...(s.estimatedCostRows ? { estimatedCostRows: s.estimatedCostRows } : {}),
      startedAt: s.startedAt,
      finishedAt: new Date().toISOString(),
    };
  }
}

function previewSummary(previewRows: number, rateAll: boolean, valid: number): string {
  const n = rateAll ? valid : Math.min(previewRows, valid);
  return n > 0 ? `rate preview rows 1–${n}` : 'preview (no valid rows)';
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

type Check<T> = (raw: unknown) => { ok: true; value: T } | { ok: false; reason: string };

/** One operation as a Signal (a refusal is recorded) and an Update (refused in its validator, no history). */
function registerOperation<A, T>(
  state: BatchState,
  signal: SignalDefinition<[A]>,
  update: UpdateDefinition<BatchStatus, [A]>,
  check: Check<T>,
  apply: (args: T) => void,
): void {
  const name = signal.name as keyof typeof msg.MESSAGE_DESCRIPTIONS;
  const description = msg.MESSAGE_DESCRIPTIONS[name];
  setHandler(
    signal,
    (raw: unknown) => {
      const c = check(raw);
      if (c.ok) apply(c.value);
      else state.refuse(name, c.reason);
    },
    { description },
  );
  setHandler(
    update,
    (raw: unknown) => {
      // An Update applied by the previous run and delivered again after continue-as-new: already done.
      const id = currentUpdateInfo()?.id;
      if (id !== undefined && state.seenUpdateIds.includes(id)) return state.status();
      const c = check(raw);
      // The validator passed, but the state may have moved on before the handler ran.
      if (!c.ok)
        throw ApplicationFailure.create({ type: 'MessageRefused', message: c.reason, nonRetryable: true });
      apply(c.value);
      if (id !== undefined) state.rememberUpdate(id);
      state.updatesThisRun++;
      return state.status();
    },
    {
      description,
      validator: (raw: unknown) => {
        const id = currentUpdateInfo()?.id;
        if (id !== undefined && state.seenUpdateIds.includes(id)) return;
        const c = check(raw);
        if (!c.ok) throw new Error(c.reason);
      },
    },
  );
}

function registerHandlers(state: BatchState): void {
  const d = msg.MESSAGE_DESCRIPTIONS;
  setHandler(msg.statusQuery, () => state.status(), { description: d.status });
  setHandler(msg.previewQuery, () => state.preview, { description: d.preview });
  registerOperation(
    state,
    msg.approveSignal,
    msg.approveUpdate,
    (r) => state.checkApprove(r),
    (a) => state.applyApprove(a),
  );
  registerOperation(
    state,
    msg.rejectSignal,
    msg.rejectUpdate,
    (r) => state.checkReject(r),
    (a) => state.applyReject(a),
  );
  registerOperation(
    state,
    msg.setModeSignal,
    msg.setModeUpdate,
    (r) => state.checkSetMode(r),
    (a) => state.applySetMode(a),
  );
  registerOperation(
    state,
    msg.cancelSignal,
    msg.cancelUpdate,
    (r) => state.checkCancel(r),
    (a) => state.applyCancel(a),
  );
  registerOperation(
    state,
    msg.restartSignal,
    msg.restartUpdate,
    (r) => state.checkRestart(r),
    (a) => state.applyRestart(a),
  );
  registerOperation(
    state,
    msg.resolveSignal,
    msg.resolveUpdate,
    (r) => state.checkResolve(r),
    (a) => state.applyResolve(a),
  );
  registerOperation(
    state,
    msg.finishSignal,
    msg.finishUpdate,
    (r) => state.checkFinish(r),
    () => state.applyFinish(),
  );
  registerOperation(
    state,
    msg.resumeSignal,
    msg.resumeUpdate,
    (r) => state.checkResume(r),
    () => state.applyResume(),
  );
}
