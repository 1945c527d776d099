/**
 * After the label (issue 25): the client's reads of a batch's tracking. The tracking workflow's state (its
 * `trackingStatus` query while it runs, its result once it ended), the ledger's packages a page at a time, the
 * batches whose packages are in exception (the agent's `batch_resume`), and, when a batch has no tracking, why.
 * Row data (tracking numbers, UPS's words, places) is read from the ledger here, never from workflow history.
 */
import type { Client, Connection, WorkflowExecutionDescription } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type pg from 'pg';
import { durationToMs } from '../domain/batch';
import { trackingStatusQuery } from '../domain/messages';
import { SHIP_BATCH_PHASE, SHIP_BATCH_TRACKING } from '../domain/search-attributes';
import {
  FINAL_TRACKING,
  TRACKING_STATUSES,
  trackingWorkflowId,
  type TrackingState,
  type TrackingStatus,
} from '../domain/tracking';
import {
  trackedPackagesAfter,
  trackingFacts,
  trackingSummary,
  type TrackedPackage,
} from '../db/ledger/tracking';
import type { trackBatch } from '../workflows';
import { normalizeBatchId } from './batch-ids';
import { BatchInputError, BatchNotFoundError, TrackingNotFoundError } from './errors';
import { clientErrorOf, type RpcErrorContext } from './rpc-errors';

export type { TrackedPackage };

/** Workflow type name of a batch's tracking (the function name the worker registers). */
export const TRACKING_WORKFLOW_TYPE = 'trackBatch';

/**
 * A batch's tracking as the client answers it: the tracking workflow's {@link TrackingState}, and where it
 * came from.
 */
export interface BatchTracking extends TrackingState {
  /**
   * `query`: the running workflow's `trackingStatus` query; `result`: what the workflow returned when it ended
   * (`done` or `expired`); `ledger`: the workflow stopped early (terminated, failed…) or Temporal no longer
   * keeps it (retention), so the counts are the ledger's, `phase` is `done` when every package is final and
   * `expired` otherwise, `deadline` is when it stopped (else when it would have), no next look.
   */
  source: 'query' | 'result' | 'ledger';
  /** Temporal's status of the tracking workflow (RUNNING, COMPLETED, TERMINATED…); absent once Temporal dropped it. */
  workflowStatus?: string;
}

/** A batch whose packages are in exception: how many, the first ones with UPS's words, and how many more. */
export interface TrackingExceptions {
  batchId: string;
  /** The tracking workflow's `ShipBatchTracking` search attribute: `exceptions` while it follows them. */
  tracking: string;
  /** Packages in exception now (the ledger's count). */
  exceptions: number;
  /** The first packages in exception, in row order. */
  packages: TrackedPackage[];
  /** Packages in exception beyond `packages`. */
  more: number;
}

/** Which batches {@link trackingExceptions} lists, and how many packages of each. */
export interface ExceptionsOptions {
  /** Only this batch (whatever its tracking's phase); default: the tracking attention list. */
  batchId?: string;
  /** Packages listed per batch (default 20). */
  limit?: number;
  /** Batches listed at most (default 50). */
  maxBatches?: number;
}

/** What the tracking reads need of a client (`ShipbatchClient` has all of it). */
export interface TrackingClient extends RpcErrorContext {
  readonly connection: Connection;
  readonly temporal: Client;
  pool(): Promise<pg.Pool>;
}

/** A tracking status from the caller, checked against the fixed list. */
export function checkTrackingStatus(status: string | undefined): TrackingStatus | undefined {
  if (status !== undefined && !(TRACKING_STATUSES as readonly string[]).includes(status)) {
    throw new BatchInputError(`unknown tracking status ${JSON.stringify(status)}`, {
      fix: `use one of ${TRACKING_STATUSES.join(', ')}`,
    });
  }
  return status as TrackingStatus | undefined;
}

/** An RPC with a deadline; Temporal's errors mapped to the client's, except "not found" (the caller's to read). */
async function rpc<T>(
  c: TrackingClient,
  workflowId: string,
  what: string,
  timeoutMs: number,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await c.connection.withAbortSignal(AbortSignal.timeout(timeoutMs), fn);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw err;
    throw await clientErrorOf(c, workflowId, what, err, timeoutMs);
  }
}

/** Temporal's description of a workflow, undefined when it has none by that id. */
async function describeOrNone(
  c: TrackingClient,
  workflowId: string,
  timeoutMs: number,
): Promise<WorkflowExecutionDescription | undefined> {
  try {
    return await rpc(c, workflowId, 'describe', timeoutMs, () =>
      c.temporal.workflow.getHandle(workflowId).describe(),
    );
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/**
 * The tracking of a batch: its tracking workflow's state (see {@link BatchTracking} for where it comes from).
 * A batch without one is a {@link TrackingNotFoundError} saying why (still open, nothing shipped, tracking
 * off); an unknown batch a {@link BatchNotFoundError}.
 */
export async function readTracking(
  c: TrackingClient,
  batchId: string,
  timeoutMs: number,
): Promise<BatchTracking> {
  const id = normalizeBatchId(batchId);
  const workflowId = trackingWorkflowId(id);
  const desc = await describeOrNone(c, workflowId, timeoutMs);
  if (!desc) return noWorkflow(c, id, timeoutMs);
  const workflowStatus = desc.status.name;
  const handle = c.temporal.workflow.getHandle<typeof trackBatch>(workflowId);
  if (workflowStatus === 'RUNNING') {
    const state = await rpc(c, workflowId, 'trackingStatus', timeoutMs, () =>
      handle.query(trackingStatusQuery),
    );
    return { ...state, source: 'query', workflowStatus };
  }
  if (workflowStatus === 'COMPLETED') {
    const state = await rpc(c, workflowId, 'result', timeoutMs, () => handle.result());
    return { ...state, source: 'result', workflowStatus };
  }
  // Terminated, failed, timed out, cancelled: the workflow returned nothing; the ledger has every package.
  return ledgerState(await c.pool(), id, {
    startedAt: desc.startTime.toISOString(),
    deadline: (desc.closeTime ?? new Date()).toISOString(),
    workflowStatus,
  });
}

/** The state the ledger gives when the workflow cannot: counts, exceptions, done or expired. */
async function ledgerState(
  pool: pg.Pool,
  batchId: string,
  at: { startedAt: string; deadline: string; workflowStatus?: string },
): Promise<BatchTracking> {
  const { counts } = await trackingSummary(pool, batchId);
  const moving = Object.entries(counts).some(([s, n]) => n > 0 && !FINAL_TRACKING.has(s as TrackingStatus));
  return {
    batchId,
    phase: moving ? 'expired' : 'done',
    counts,
    exceptions: counts.exception,
    startedAt: at.startedAt,
    deadline: at.deadline,
    runs: 0,
    source: 'ledger',
    ...(at.workflowStatus ? { workflowStatus: at.workflowStatus } : {}),
  };
}

/** A batch with no tracking workflow: why (an error), or the ledger's packages when Temporal dropped it. */
async function noWorkflow(c: TrackingClient, id: string, timeoutMs: number): Promise<BatchTracking> {
  const pool = await c.pool();
  const facts = await trackingFacts(pool, id);
  const batch = await describeOrNone(c, id, timeoutMs);
  if (!facts) {
    if (!batch) throw new BatchNotFoundError(id);
    throw new TrackingNotFoundError(
      id,
      'the batch is not loaded yet (no worker has run it); its packages are followed once it closes with shipped rows',
    );
  }
  if (batch?.status.name === 'RUNNING') {
    const phase = batch.typedSearchAttributes.get(SHIP_BATCH_PHASE);
    throw new TrackingNotFoundError(
      id,
      `the batch is still open${phase ? ` (${phase})` : ''}; its packages are followed once it closes with shipped rows`,
      { fix: `follow it with \`shipbatch watch ${id}\`` },
    );
  }
  if (facts.packages > 0) {
    // Temporal keeps a closed workflow for the namespace's retention only; the ledger keeps its packages.
    return ledgerState(pool, id, {
      startedAt: (batch?.closeTime ?? new Date()).toISOString(),
      deadline: (batch?.closeTime ?? new Date()).toISOString(),
    });
  }
  if (facts.trackFor !== null && durationToMs(facts.trackFor) === 0) {
    throw new TrackingNotFoundError(id, 'tracking was turned off for this batch (trackFor 0s)');
  }
  if (facts.shipped === 0) {
    throw new TrackingNotFoundError(id, 'nothing shipped: the batch closed with no shipped row');
  }
  throw new TrackingNotFoundError(
    id,
    'the batch closed without starting tracking (it ran before tracking existed)',
  );
}

/**
 * Every package of a batch (optionally of one status) in row then tracking-number order, `pageSize` (default
 * 1,000) a query with a keyset cursor: memory stays at one page however many packages, and a row's packages
 * are never cut between pages.
 */
export async function* streamTrackedPackages(
  pool: pg.Pool,
  batchId: string,
  opts: { status?: TrackingStatus; pageSize?: number } = {},
): AsyncGenerator<TrackedPackage> {
  const limit = opts.pageSize ?? 1000;
  let after: { rowNo: number; trackingNumber: string } | undefined;
  for (;;) {
    const page = await trackedPackagesAfter(pool, batchId, { status: opts.status, after, limit });
    yield* page;
    if (page.length < limit) return;
    const last = page[page.length - 1]!;
    after = { rowNo: last.rowNo, trackingNumber: last.trackingNumber };
  }
}

/** The packages in exception of one batch, the first `limit` of them; undefined when there are none. */
async function exceptionsOf(
  pool: pg.Pool,
  batchId: string,
  tracking: string,
  limit: number,
): Promise<TrackingExceptions | undefined> {
  const { counts } = await trackingSummary(pool, batchId);
  if (counts.exception === 0) return undefined;
  const packages: TrackedPackage[] = [];
  if (limit > 0) {
    for await (const p of streamTrackedPackages(pool, batchId, { status: 'exception', pageSize: limit })) {
      packages.push(p);
      if (packages.length >= limit) break;
    }
  }
  return {
    batchId,
    tracking,
    exceptions: counts.exception,
    packages,
    more: counts.exception - packages.length,
  };
}

/**
 * Batches whose packages are in exception, each with the first `limit` (default 20) packages and UPS's words.
 * Without `batchId`: the tracking workflows visibility lists as `ShipBatchTracking = 'exceptions'` (at most
 * `maxBatches`, default 50). With it: that batch, whatever its tracking's phase, if the ledger has packages in
 * exception (none: an empty list).
 */
export async function trackingExceptions(
  c: TrackingClient,
  opts: ExceptionsOptions & { timeoutMs: number },
): Promise<TrackingExceptions[]> {
  const limit = opts.limit ?? 20;
  const pool = await c.pool();
  if (opts.batchId !== undefined) {
    const id = normalizeBatchId(opts.batchId);
    const desc = await describeOrNone(c, trackingWorkflowId(id), opts.timeoutMs);
    if (!desc) return [];
    const tracking = desc.typedSearchAttributes.get(SHIP_BATCH_TRACKING) ?? desc.status.name.toLowerCase();
    const item = await exceptionsOf(pool, id, tracking, limit);
    return item ? [item] : [];
  }
  const query =
    `WorkflowType = '${TRACKING_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND ` +
    `${SHIP_BATCH_TRACKING.name} = 'exceptions'`;
  const ids: string[] = [];
  try {
    for await (const w of c.temporal.workflow.list({ query, pageSize: 100 })) {
      ids.push(w.workflowId);
      if (ids.length >= (opts.maxBatches ?? 50)) break;
    }
  } catch (err) {
    throw await clientErrorOf(c, '(list)', 'list', err, opts.timeoutMs);
  }
  const out: TrackingExceptions[] = [];
  for (const wid of ids) {
    const batchId = wid.replace(/^tracking-/, '');
    const item = await exceptionsOf(pool, batchId, 'exceptions', limit);
    if (item) out.push(item);
  }
  return out;
}
