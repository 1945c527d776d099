/**
 * The batch workflow's messages, defined once (docs/design.md §3). Their names are a public contract: the CLI,
 * the Web UI, `temporal workflow signal/query` and backend services use them.
 * Each operation exists as a Signal (fire and forget; a refusal is recorded in `status.rejectedMessages`)
 * and, where a caller needs a synchronous yes/no, as an Update of the same name whose validator refuses.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  ApproveArgs,
  BatchPreview,
  BatchStatus,
  CancelArgs,
  FinishArgs,
  RejectArgs,
  ResolveArgs,
  RestartArgs,
  ResumeArgs,
  SetModeArgs,
} from './batch';
import type { TrackingState } from './tracking';

export const statusQuery = defineQuery<BatchStatus>('status');
export const previewQuery = defineQuery<BatchPreview | null>('preview');
/** The tracking workflow's (`trackBatch`) state: packages per status, exceptions, the next look. */
export const trackingStatusQuery = defineQuery<TrackingState>('trackingStatus');

export const approveSignal = defineSignal<[ApproveArgs]>('approve');
export const rejectSignal = defineSignal<[RejectArgs]>('reject');
export const setModeSignal = defineSignal<[SetModeArgs]>('setMode');
export const cancelSignal = defineSignal<[CancelArgs]>('cancel');
export const restartSignal = defineSignal<[RestartArgs]>('restart');
export const resolveSignal = defineSignal<[ResolveArgs]>('resolve');
export const finishSignal = defineSignal<[FinishArgs]>('finish');
export const resumeSignal = defineSignal<[ResumeArgs]>('resume');

/** What an accepted Update answers: the batch's status right after the change. */
export const approveUpdate = defineUpdate<BatchStatus, [ApproveArgs]>('approve');
export const rejectUpdate = defineUpdate<BatchStatus, [RejectArgs]>('reject');
export const setModeUpdate = defineUpdate<BatchStatus, [SetModeArgs]>('setMode');
export const cancelUpdate = defineUpdate<BatchStatus, [CancelArgs]>('cancel');
export const restartUpdate = defineUpdate<BatchStatus, [RestartArgs]>('restart');
export const resolveUpdate = defineUpdate<BatchStatus, [ResolveArgs]>('resolve');
export const finishUpdate = defineUpdate<BatchStatus, [FinishArgs]>('finish');
export const resumeUpdate = defineUpdate<BatchStatus, [ResumeArgs]>('resume');

/** Descriptions shown by the Web UI's Queries tab and Send Signal dialog. */
export const MESSAGE_DESCRIPTIONS = {
  status: 'Phase, mode, row counts, cost so far, approval and refused messages of the batch.',
  preview:
    'The cost preview: first rows rated in detail, total estimate and previewHash (null before preview).',
  approve:
    'Approve the preview and ship. {"previewHash"?: string, "by"?: string}; a stale previewHash is refused.',
  reject: 'Reject the preview; nothing is shipped. {"reason"?: string}',
  setMode: 'Switch between "confirm" and "auto" (case-insensitive) until execution starts. {"mode": "auto"}',
  cancel:
    'Stop the batch: no new shipments, in-flight rows settle. {"reason"?: string, "voidShipped"?: boolean}',
  restart:
    'Ship again the rows that failed or need review (never a shipped one). {"scope": "failed"|"needs_review"|"all_unshipped", "rows"?: number[]}',
  resolve:
    'Settle a row that needs review: {"row": N, "outcome": "shipped", "trackingNumber": "1Z…"} or {"row": N, "outcome": "retry"}',
  finish: 'Close a batch that waits for action, leaving failed rows as they are. {}',
  resume:
    'Resume a batch waiting for UPS (waiting_for_ups), e.g. after fixing refused credentials: shipping starts again at once. {"by"?: string}',
} as const;
