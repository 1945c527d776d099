/**
 * The state of one batch workflow, and the rules of its messages. Pure and deterministic: the workflow
 * feeds it activity results and messages; it carries across continue-as-new as {@link CarriedState}
 * (plain objects and arrays only: a Map would not survive the JSON converter).
 */
import {
  ApproveSchema,
  CancelSchema,
  emptyCounts,
  FINAL_PHASES,
  FinishSchema,
  RejectSchema,
  ResolveSchema,
  RestartSchema,
  ResumeSchema,
  SetModeSchema,
  type ActionRows,
  type BatchInput,
  type BatchMode,
  type BatchPreview,
  type BatchStatus,
  type ExtraShipmentCounts,
  type PendingAction,
  type RejectedMessage,
  type RowCounts,
  type UpsOutage,
  type UpsOutageKind,
} from '../domain/batch';
import type { PickupStatus } from '../domain/pickup';
import type { PreflightProgress } from '../domain/preflight';
import type { BatchPhase } from '../domain/row-status';
import type { z } from 'zod';
import { parse, type Parsed } from './message-args';

/** What a new run continues with. */
export interface CarriedState {
  phase: BatchPhase;
  mode: BatchMode;
  modeLocked: boolean;
  counts: RowCounts;
  estimatedCostCents: number;
  actualCostCents: number;
  currency: string;
  preview: BatchPreview | null;
  approval?: { by: string; at: string };
  rejectedMessages: RejectedMessage[];
  cancel?: { reason: string; voidShipped: boolean };
  finishRequested: boolean;
  actions: PendingAction[];
  /** Last row number dispatched; the next run asks the ledger for pending rows after it. */
  cursor: number;
  startedAt: string;
  attentionDeadline?: number;
  approvalDeadline?: number;
  runs: number;
  /** Ids of the Updates already applied: the server may deliver one again to the next run. */
  seenUpdateIds: string[];
  /** Set while the batch waits for UPS. */
  upsOutage?: UpsOutage;
  /** Failures about UPS itself in a row, across rows, since the last success (the breaker's count). */
  consecutiveUpsDown?: number;
  resumeRequested?: boolean;
  /** When the last outage ended and how many checks it took (a quick relapse backs off further). */
  lastOutage?: { endedAt: number; probes: number };
  /** The batch's UPS pickup once asked for (option `pickup`). */
  pickup?: PickupStatus;
}

/** An outage that starts again within this long of the last one continues its backoff. */
const RELAPSE_MS = 10 * 60_000;

/** Failures about UPS in a row (across rows, no success between) that pause the batch. */
export const BREAKER_TRIPS_AFTER = 3;

/** Refused messages kept in status (the newest ones). */
const MAX_REJECTED = 50;
const MAX_SEEN_UPDATES = 200;

export class BatchState implements CarriedState {
  phase: BatchPhase = 'loading';
  mode: BatchMode;
  modeLocked = false;
  counts: RowCounts = emptyCounts();
  estimatedCostCents = 0;
  actualCostCents = 0;
  currency = 'USD';
  preview: BatchPreview | null = null;
  approval?: { by: string; at: string };
  rejectedMessages: RejectedMessage[] = [];
  cancel?: { reason: string; voidShipped: boolean };
  finishRequested = false;
  actions: PendingAction[] = [];
  cursor = 0;
  startedAt: string;
  attentionDeadline?: number;
  approvalDeadline?: number;
  runs = 1;
  seenUpdateIds: string[] = [];
  upsOutage?: UpsOutage;
  consecutiveUpsDown = 0;
  resumeRequested = false;
  lastOutage?: { endedAt: number; probes: number };
  pickup?: PickupStatus;
  rejected?: { reason: string };
  /** Why the batch stopped early (set with the phase). */
  error?: string;
  /** Rows in flight in this run (row number → true). */
  inFlight: Record<number, true> = {};
  /** Rows left in flight in the ledger by a cancel while UPS could not be asked (this run). */
  leftInFlight = 0;
  /** Updates applied by this run (not carried: the limit is per run). */
  updatesThisRun = 0;
  /** From the ledger: rows shipped more than once (the extras voided), when there are any. */
  extraShipments?: ExtraShipmentCounts;
  /** From the ledger: shipped rows whose cost is a rate quote, when there are any. */
  estimatedCostRows?: number;
  /** From the ledger: the first rows that need an operator, for the Web UI (absent in older histories). */
  actionRows?: ActionRows;
  /** The address pre-flight's and rate shopping's progress (absent when the batch does neither). */
  preflight?: PreflightProgress;

  constructor(
    readonly batchId: string,
    readonly input: BatchInput,
    carried?: CarriedState,
  ) {
    this.mode = input.mode;
    this.startedAt = new Date().toISOString();
    if (carried) {
      Object.assign(this, carried);
      this.runs = carried.runs + 1;
    }
  }

  get final(): boolean {
    return FINAL_PHASES.has(this.phase);
  }

  get inFlightCount(): number {
    return Object.keys(this.inFlight).length;
  }

  carry(): CarriedState {
    return {
      phase: this.phase,
      mode: this.mode,
      modeLocked: this.modeLocked,
      counts: this.counts,
      estimatedCostCents: this.estimatedCostCents,
      actualCostCents: this.actualCostCents,
      currency: this.currency,
      preview: this.preview,
      approval: this.approval,
      rejectedMessages: this.rejectedMessages,
      cancel: this.cancel,
      finishRequested: this.finishRequested,
      actions: this.actions,
      cursor: this.cursor,
      startedAt: this.startedAt,
      attentionDeadline: this.attentionDeadline,
      approvalDeadline: this.approvalDeadline,
      runs: this.runs,
      seenUpdateIds: this.seenUpdateIds,
      ...(this.upsOutage ? { upsOutage: this.upsOutage } : {}),
      ...(this.consecutiveUpsDown ? { consecutiveUpsDown: this.consecutiveUpsDown } : {}),
      ...(this.resumeRequested ? { resumeRequested: true } : {}),
      ...(this.lastOutage ? { lastOutage: this.lastOutage } : {}),
      ...(this.pickup ? { pickup: this.pickup } : {}),
    };
  }

  /**
   * A row reported a failure about UPS itself. Trips the breaker (the batch waits for UPS) after
   * {@link BREAKER_TRIPS_AFTER} in a row, or at once when UPS refused the credentials. True when tripped.
   */
  noteUpsDown(sign: { kind: UpsOutageKind; reason: string }): boolean {
    this.consecutiveUpsDown++;
    if (this.upsOutage) return true;
    if (sign.kind !== 'auth' && this.consecutiveUpsDown < BREAKER_TRIPS_AFTER) return false;
    // UPS failing again soon after a check said it was back (e.g. rating answers, shipping does not): the
    // checks go on backing off instead of starting again at 5 s, so the sends per hour keep falling.
    const relapse = this.lastOutage && Date.now() - this.lastOutage.endedAt < RELAPSE_MS;
    this.upsOutage = {
      kind: sign.kind,
      reason: sign.reason,
      since: new Date().toISOString(),
      probes: relapse ? this.lastOutage!.probes + 1 : 0,
      needsOperator: sign.kind === 'auth',
    };
    return true;
  }

  /**
   * Not one answer from UPS for a whole step before approval (the preview's ratings, a pre-flight page): the
   * batch waits for UPS with this outage, unless one is already on.
   */
  startOutage(sign: { kind: UpsOutageKind; reason: string }): void {
    this.upsOutage ??= {
      ...sign,
      since: new Date().toISOString(),
      probes: 0,
      needsOperator: sign.kind === 'auth',
    };
  }

  /** A row got an answer from UPS: the breaker's count starts again. */
  noteUpsAnswered(): void {
    this.consecutiveUpsDown = 0;
  }

  /** UPS answers again (a probe, or the operator's resume). */
  endOutage(): void {
    if (this.upsOutage) this.lastOutage = { endedAt: Date.now(), probes: this.upsOutage.probes };
    this.upsOutage = undefined;
    this.consecutiveUpsDown = 0;
    this.resumeRequested = false;
  }

  status(): BatchStatus {
    return {
      batchId: this.batchId,
      name: this.input.name ?? this.batchId.replace(/^batch-/, ''),
      phase: this.phase,
      mode: this.mode,
      modeLocked: this.modeLocked,
      counts: { ...this.counts, inFlight: this.inFlightCount || this.counts.inFlight },
      estimatedCostCents: this.estimatedCostCents,
      actualCostCents: this.actualCostCents,
      currency: this.currency,
      ...(this.preview ? { previewHash: this.preview.previewHash } : {}),
      ...(this.approval ? { approval: this.approval } : {}),
      rejectedMessages: this.rejectedMessages,
      ...(this.error ? { error: this.error } : {}),
      ...(this.extraShipments ? { extraShipments: this.extraShipments } : {}),
      ...(this.upsOutage ? { upsOutage: this.upsOutage } : {}),
      ...(this.preflight ? { preflight: this.preflight } : {}),
      ...(this.pickup ? { pickup: this.pickup } : {}),
      updatedAt: new Date().toISOString(),
    };
  }

  /** Remember an applied Update's id (the newest few hundred are enough: redelivery is immediate). */
  rememberUpdate(id: string): void {
    this.seenUpdateIds.push(id);
    if (this.seenUpdateIds.length > MAX_SEEN_UPDATES)
      this.seenUpdateIds.splice(0, this.seenUpdateIds.length - MAX_SEEN_UPDATES);
  }

  /** Record a refused message (never throws: a signal cannot be refused). */
  refuse(name: string, reason: string): void {
    this.rejectedMessages.push({ name, reason, at: new Date().toISOString() });
    if (this.rejectedMessages.length > MAX_REJECTED)
      this.rejectedMessages.splice(0, this.rejectedMessages.length - MAX_REJECTED);
  }

  // ------------------------------------------------------------ message rules: check → reason or undefined

  /** Validate and check `approve`; returns the parsed args or the refusal reason. */
  checkApprove(raw: unknown): Parsed<typeof ApproveSchema> {
    const p = parse(ApproveSchema, raw);
    if (!p.ok) return p;
    if (this.final) return { ok: false, reason: `batch is already ${this.phase}` };
    if (this.phase !== 'awaiting_approval') {
      return {
        ok: false,
        reason: `nothing to approve: the batch is ${this.phase}, approval is asked in awaiting_approval`,
      };
    }
    const current = this.preview?.previewHash;
    if (p.value.previewHash !== undefined && p.value.previewHash !== current) {
      return {
        ok: false,
        reason: `stale approval: previewHash ${p.value.previewHash} is not the current preview (${current ?? 'none'}); review the preview again`,
      };
    }
    return p;
  }

  applyApprove(args: z.output<typeof ApproveSchema>): void {
    this.approval = { by: args.by ?? 'unknown', at: new Date().toISOString() };
  }

  checkReject(raw: unknown): Parsed<typeof RejectSchema> {
    const p = parse(RejectSchema, raw);
    if (!p.ok) return p;
    if (this.final) return { ok: false, reason: `batch is already ${this.phase}` };
    if (this.modeLocked)
      return { ok: false, reason: `too late to reject: the batch is ${this.phase}; use cancel` };
    return p;
  }

  applyReject(args: z.output<typeof RejectSchema>): void {
    this.rejected = { reason: args.reason ?? 'rejected' };
  }

  checkSetMode(raw: unknown): Parsed<typeof SetModeSchema> {
    const p = parse(SetModeSchema, raw);
    if (!p.ok) return p;
    if (this.final) return { ok: false, reason: `batch is already ${this.phase}` };
    if (this.modeLocked) {
      return {
        ok: false,
        reason: `mode is locked: the batch is ${this.phase} (mode can change only before execution)`,
      };
    }
    return p;
  }

  applySetMode(args: z.output<typeof SetModeSchema>): void {
    this.mode = args.mode;
  }

  checkCancel(raw: unknown): Parsed<typeof CancelSchema> {
    const p = parse(CancelSchema, raw);
    if (!p.ok) return p;
    if (this.final) return { ok: false, reason: `batch is already ${this.phase}` };
    if (this.cancel) return { ok: false, reason: 'batch is already being cancelled' };
    return p;
  }

  applyCancel(args: z.output<typeof CancelSchema>): void {
    this.cancel = { reason: args.reason ?? 'cancelled', voidShipped: args.voidShipped };
  }

  checkRestart(raw: unknown): Parsed<typeof RestartSchema> {
    const p = parse(RestartSchema, raw);
    if (!p.ok) return p;
    if (this.phase !== 'awaiting_action') {
      return {
        ok: false,
        reason: `nothing to restart: the batch is ${this.phase} (restart applies in awaiting_action)`,
      };
    }
    if (this.cancel) return { ok: false, reason: 'batch is being cancelled' };
    return p;
  }

  applyRestart(args: z.output<typeof RestartSchema>): void {
    this.actions.push({ kind: 'restart', scope: args.scope, ...(args.rows ? { rows: args.rows } : {}) });
  }

  checkResolve(raw: unknown): Parsed<typeof ResolveSchema> {
    const p = parse(ResolveSchema, raw);
    if (!p.ok) return p;
    if (this.phase !== 'awaiting_action') {
      return {
        ok: false,
        reason: `nothing to resolve: the batch is ${this.phase} (resolve applies in awaiting_action)`,
      };
    }
    if (p.value.row > this.counts.total) {
      return {
        ok: false,
        reason: `row ${p.value.row} does not exist (the batch has ${this.counts.total} rows)`,
      };
    }
    if (this.cancel) return { ok: false, reason: 'batch is being cancelled' };
    return p;
  }

  applyResolve(args: z.output<typeof ResolveSchema>): void {
    this.actions.push({ kind: 'resolve', ...args });
  }

  checkFinish(raw: unknown): Parsed<typeof FinishSchema> {
    const p = parse(FinishSchema, raw);
    if (!p.ok) return p;
    if (this.phase !== 'awaiting_action') {
      return {
        ok: false,
        reason: `nothing to finish: the batch is ${this.phase} (finish applies in awaiting_action)`,
      };
    }
    return p;
  }

  applyFinish(): void {
    this.finishRequested = true;
  }

  checkResume(raw: unknown): Parsed<typeof ResumeSchema> {
    const p = parse(ResumeSchema, raw);
    if (!p.ok) return p;
    if (this.phase !== 'waiting_for_ups' || !this.upsOutage) {
      return {
        ok: false,
        reason: `nothing to resume: the batch is ${this.phase} (resume applies in waiting_for_ups)`,
      };
    }
    if (this.cancel) return { ok: false, reason: 'batch is being cancelled' };
    return p;
  }

  applyResume(): void {
    this.resumeRequested = true;
  }
}
