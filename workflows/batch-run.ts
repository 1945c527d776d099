/**
 * One run of a batch workflow: the context every step of `shipmentBatch` works on. `state` is the batch
 * (carried across runs); the rest belongs to this run: its input, the patches it took, and the phase and
 * mode the search attributes last showed.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { BatchInputArg, BatchMode, BatchOptions, BatchResult } from '../domain/batch';
import type { BatchPhase } from '../domain/row-status';
import { SHIP_BATCH_MODE, SHIP_BATCH_PHASE } from '../domain/search-attributes';
import { ledger } from './batch-activities';
import { progressMarkdown } from './batch-progress';
import type { BatchState, CarriedState } from './batch-state';

/** The patches a run took (see shipment-batch.ts): what replaying an older batch must do the old way. */
export interface RunPatches {
  /** A cancel is written to the ledger at once, and in-flight rows settle before the batch closes. */
  cancelInLedger: boolean;
  /** The attention phase continues as new when suggested or after many Updates. */
  attentionHandover: boolean;
}

export class BatchRun {
  readonly batchId: string;
  readonly opts: BatchOptions;
  /** The phase and mode the search attributes hold: only a change is upserted. */
  private shownPhase: BatchPhase | undefined;
  private shownMode: BatchMode | undefined;

  constructor(
    /** The input as the run got it: a new run continues with the same. */
    readonly rawInput: BatchInputArg,
    readonly state: BatchState,
    readonly patches: RunPatches,
    carried?: CarriedState,
  ) {
    this.batchId = state.batchId;
    this.opts = state.input.options;
    this.shownPhase = carried?.phase;
    this.shownMode = carried?.mode;
  }

  /** Phase change: search attributes (only the changed keys) and current details. */
  enter(phase: BatchPhase): void {
    const { state } = this;
    state.phase = phase;
    const changes = [];
    if (phase !== this.shownPhase) changes.push({ key: SHIP_BATCH_PHASE, value: phase });
    if (state.mode !== this.shownMode) changes.push({ key: SHIP_BATCH_MODE, value: state.mode });
    this.shownPhase = phase;
    this.shownMode = state.mode;
    if (changes.length > 0) upsertSearchAttributes(changes);
    this.showProgress();
  }

  /** The Web UI's current details, set again from the state. */
  showProgress(): void {
    setCurrentDetails(progressMarkdown(this.state));
  }

  /** Counts and costs as the ledger has them (after rows settled, or operator actions). */
  async refreshCounts(): Promise<void> {
    const s = this.state;
    const totals = await ledger.ledgerTotals({ batchId: this.batchId });
    s.counts = totals.counts;
    s.actualCostCents = totals.costCents;
    if (totals.currency) s.currency = totals.currency;
    s.extraShipments = totals.extraShipments;
    s.estimatedCostRows = totals.estimatedCostRows;
    s.actionRows = totals.actionRows;
  }

  /** Whether the attention phase should hand over to a new run (history or Updates growing). */
  handOverSuggested(): boolean {
    if (!this.patches.attentionHandover) return false;
    return workflowInfo().continueAsNewSuggested || this.state.updatesThisRun >= this.opts.updatesPerRun;
  }

  /** Continue as new with the carried state, once every message handler has finished. */
  async handOver(): Promise<never> {
    await condition(allHandlersFinished);
    // The signature of shipmentBatch, spelled out: importing its type from shipment-batch.ts would be a cycle.
    return continueAsNew<(input: BatchInputArg, carried?: CarriedState) => Promise<BatchResult>>(
      this.rawInput,
      this.state.carry(),
    );
  }

  /** Enter a final phase and make the batch's result. */
  finish(phase: BatchPhase): BatchResult {
    const s = this.state;
    this.enter(phase);
    return {
      batchId: this.batchId,
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
