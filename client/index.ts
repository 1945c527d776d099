/**
 * shipbatch's client library for backend services (docs/design.md §9).
 *
 * ```ts
 * import { startBatch, approveBatch, getPreview, getTracking, trackingPackages, closeClient } from 'shipbatch/client';
 * const { batchId } = await startBatch({ source: { table: 'orders' }, template, shipper });
 * const preview = await getPreview(batchId);
 * await approveBatch(batchId, { previewHash: preview?.previewHash, by: 'ops' });
 * // Once it closed with shipped rows, its packages are followed to delivery:
 * const tracking = await getTracking(batchId); // tracking.counts.delivered, tracking.exceptions…
 * for await (const p of trackingPackages(batchId, { status: 'exception' })) console.log(p.rowNo, p.description);
 * await closeClient();
 * ```
 *
 * The functions share one connection from the configuration (`loadConfig()`, env vars); open a
 * {@link ShipbatchClient} yourself for another configuration.
 */
import type {
  ApproveArgs,
  BatchInputArg,
  BatchPreview,
  BatchResult,
  BatchStatus,
  CancelArgs,
  RejectArgs,
  ResolveArgs,
  RestartArgs,
  ResumeArgs,
} from '../domain/batch';
import { ShipbatchClient, type StartOptions, type StartedBatch } from './batches';
import type { BatchSummary } from './visibility';
import type { BatchLabel, BatchRow } from './ledger';
import type { BatchTracking, TrackedPackage } from './tracking';

let shared: Promise<ShipbatchClient> | undefined;

/** The shared client (connected on first use). */
export function defaultClient(): Promise<ShipbatchClient> {
  shared ??= ShipbatchClient.connect().catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

/** Close the shared client's connections (call before a short-lived process exits). */
export async function closeClient(): Promise<void> {
  const c = shared;
  shared = undefined;
  if (c) await (await c).close();
}

/** Validate and start a batch; `{ batchId, runId }`. */
export async function startBatch(input: BatchInputArg, opts?: StartOptions): Promise<StartedBatch> {
  return (await defaultClient()).startBatch(input, opts);
}
/** The `status` query. */
export async function getBatch(batchId: string): Promise<BatchStatus> {
  return (await defaultClient()).getBatch(batchId);
}
/** The preview with recipients merged from the ledger; null before it is ready. */
export async function getPreview(batchId: string): Promise<BatchPreview | null> {
  return (await defaultClient()).getPreview(batchId);
}
/** Wait for the batch to close and return its result. */
export async function batchResult(batchId: string): Promise<BatchResult> {
  return (await defaultClient()).batchResult(batchId);
}
/** Approve (Update); a refusal throws BatchRefusedError with the reason. */
export async function approveBatch(batchId: string, args?: ApproveArgs): Promise<BatchStatus> {
  return (await defaultClient()).approveBatch(batchId, args);
}
export async function rejectBatch(batchId: string, args?: RejectArgs): Promise<BatchStatus> {
  return (await defaultClient()).rejectBatch(batchId, args);
}
export async function setBatchMode(batchId: string, mode: string): Promise<BatchStatus> {
  return (await defaultClient()).setBatchMode(batchId, mode);
}
export async function cancelBatch(batchId: string, args?: CancelArgs): Promise<BatchStatus> {
  return (await defaultClient()).cancelBatch(batchId, args);
}
export async function restartBatch(batchId: string, args?: RestartArgs): Promise<BatchStatus> {
  return (await defaultClient()).restartBatch(batchId, args);
}
export async function resolveRow(batchId: string, args: ResolveArgs): Promise<BatchStatus> {
  return (await defaultClient()).resolveRow(batchId, args);
}
export async function finishBatch(batchId: string): Promise<BatchStatus> {
  return (await defaultClient()).finishBatch(batchId);
}
/**
 * Resume a batch waiting for UPS (`waiting_for_ups`), e.g. after fixing refused credentials (Update);
 * refused in any other phase (BatchRefusedError with the reason).
 */
export async function resumeBatch(batchId: string, args?: ResumeArgs): Promise<BatchStatus> {
  return (await defaultClient()).resumeBatch(batchId, args);
}
/** Batches from Temporal visibility (search attribute ShipBatchPhase). */
export async function listBatches(opts?: { phase?: string; limit?: number }): Promise<BatchSummary[]> {
  return (await defaultClient()).listBatches(opts);
}
/** A page of ledger rows (default 1000). */
export async function batchRows(
  batchId: string,
  opts?: { status?: string; afterRowNo?: number; limit?: number },
): Promise<BatchRow[]> {
  return (await defaultClient()).batchRows(batchId, opts);
}
/** Labels of shipped rows, in row order. */
export async function* batchLabels(batchId: string): AsyncGenerator<BatchLabel> {
  yield* (await defaultClient()).batchLabels(batchId);
}

/**
 * The batch's tracking (after the label): packages per status, exceptions, phase, deadline and next look,
 * from its tracking workflow (see {@link ShipbatchClient.getTracking}). A batch without tracking throws
 * TrackingNotFoundError saying why.
 */
export async function getTracking(batchId: string): Promise<BatchTracking> {
  return (await defaultClient()).getTracking(batchId);
}
/**
 * The batch's tracked packages from the ledger, optionally of one tracking status (`exception`…), in row
 * order, a page at a time (see {@link ShipbatchClient.trackingPackages}).
 */
export async function* trackingPackages(
  batchId: string,
  opts?: { status?: string; pageSize?: number },
): AsyncGenerator<TrackedPackage> {
  yield* (await defaultClient()).trackingPackages(batchId, opts);
}

export { ShipbatchClient, type StartOptions, type StartedBatch } from './batches';
export {
  TRACKING_WORKFLOW_TYPE,
  type BatchTracking,
  type TrackedPackage,
  type TrackingExceptions,
} from './tracking';
export {
  TRACKING_STATUSES,
  trackingWorkflowId,
  type TrackingCounts,
  type TrackingState,
  type TrackingStatus,
} from '../domain/tracking';
export { BATCH_WORKFLOW_TYPE, type BatchSummary } from './visibility';
export { batchIdFor, normalizeBatchId } from './batch-ids';
export type { AttentionItem } from './attention';
export type { AddressCheckRow, BatchLabel, BatchRow } from './ledger';
export {
  BatchInputError,
  BatchNotFoundError,
  BatchRefusedError,
  ConnectionError,
  ShipbatchError,
  TrackingNotFoundError,
} from './errors';
export { loadClientConfig, readDevState } from './config';
export { writeLabels, type LabelsOutput } from './labels';
// The contract: message definitions and zod schemas (docs/design.md §3).
export * from '../domain/messages';
export {
  ApproveSchema,
  BatchIdSchema,
  BatchInputSchema,
  BatchOptionsSchema,
  CancelSchema,
  FinishSchema,
  ModeSchema,
  RejectSchema,
  ResolveSchema,
  RestartSchema,
  ResumeSchema,
  SetModeSchema,
  FINAL_PHASES,
  type ApproveArgs,
  type BatchInput,
  type BatchInputArg,
  type BatchMode,
  type BatchOptions,
  type BatchPreview,
  type BatchResult,
  type BatchStatus,
  type CancelArgs,
  type PreviewRow,
  type RejectArgs,
  type ResolveArgs,
  type RestartArgs,
  type ResumeArgs,
  type RowCounts,
  type UpsOutage,
  type UpsOutageKind,
} from '../domain/batch';
export {
  ADDRESS_CHECKS,
  MAX_TRANSIT_DAYS,
  ServiceChoiceSchema,
  type AddressCheck,
  type AddressCheckSummary,
  type AddressOutcome,
  type PreflightProgress,
  type RateShoppingSummary,
  type ServiceChoice,
} from '../domain/preflight';
export {
  PICKUP_STATES,
  PickupOptionSchema,
  type PickupOption,
  type PickupQuote,
  type PickupState,
  type PickupStatus,
} from '../domain/pickup';
export { ShipperSchema, type Shipper } from '../domain/shipment-schema';
export { BATCH_PHASES, ROW_STATUSES, type BatchPhase, type RowStatus } from '../domain/row-status';
