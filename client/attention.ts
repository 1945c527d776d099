/**
 * `list --attention` and the library's `attentionBatches`: the open batches that need someone, each with why,
 * its rows done and remaining, the last error and the commands that would move it on. The triage itself (what
 * moves a batch on) is domain/attention.ts; here the batches are found and the choices written as commands.
 */
import { attentionChoices, type AttentionChoice, type AttentionReason } from '../domain/attention';
import type { BatchStatus, RowCounts, UpsOutage } from '../domain/batch';
import { rowsDone, rowsRemaining } from '../domain/row-counts';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { ShipbatchConfig } from '../temporal.config';
import * as ledger from './ledger';
import type { BatchSummary } from './visibility';

/**
 * What the triage needs of a client: the part of `ShipbatchClient` it calls (named here rather than imported,
 * since `ShipbatchClient` itself offers `attentionBatches`).
 */
export interface AttentionClient {
  readonly config: ShipbatchConfig;
  readonly temporal: Client;
  pool(): Promise<pg.Pool>;
  workerPolling(taskQueue?: string): Promise<boolean>;
  getBatch(batchId: string): Promise<BatchStatus>;
  listBatches(opts?: { phase?: string; limit?: number }): Promise<BatchSummary[]>;
}

/** A batch that needs someone: waiting for approval, action or UPS, or stalled. */
export interface AttentionItem extends BatchSummary {
  /**
   * `awaiting_approval`, `awaiting_action`, `waiting_for_ups` (UPS does not answer or refused the
   * credentials), `retrying` (an activity keeps failing) or `no_worker`.
   */
  reason: AttentionReason;
  /**
   * Rows done (shipped, failed, invalid, cancelled, voided) and remaining (pending, in flight, needs review:
   * a row needing review waits for an operator, so it is not done); see domain/row-counts.ts.
   */
  done: number;
  remaining: number;
  counts: RowCounts;
  lastError: string | null;
  /**
   * With `waiting_for_ups`: why, since when, the next probe, and whether an operator must act
   * (`needsOperator`: fix the credentials, then `shipbatch resume ID`; otherwise it resumes by itself).
   * Absent when the batch's status could not be read.
   */
  upsOutage?: UpsOutage;
  /** Commands that would move it on. */
  choices: string[];
}

/** A choice as the command to run (`shipbatch approve batch-x`; for no worker, what to start). */
export function choiceCommand(choice: AttentionChoice, batchId: string): string {
  switch (choice.action) {
    case 'restart':
      return `shipbatch restart ${batchId} --scope ${choice.scope}`;
    case 'resolve':
      return choice.outcome === 'shipped'
        ? `shipbatch resolve ${batchId} --row N --tracking 1Z…`
        : `shipbatch resolve ${batchId} --row N --retry`;
    case 'start_worker':
      return 'start a worker on its task queue: shipbatch worker (or shipbatch dev)';
    case 'terminate':
      return `temporal workflow terminate --workflow-id ${batchId}`;
    default:
      return `shipbatch ${choice.action} ${batchId}`;
  }
}

/** Why an open batch needs attention, if it does, with what its status or Temporal says about it. */
interface Triage {
  reason?: AttentionReason;
  lastError?: string;
  upsOutage?: UpsOutage;
}

/**
 * Open batches that need someone: awaiting approval or action, waiting for UPS (with the outage from the
 * batch's status), an activity retrying for long (`retryingAttempts` attempts or more), or no worker polling
 * the task queue.
 */
export async function attentionBatches(
  client: AttentionClient,
  opts: { retryingAttempts?: number } = {},
): Promise<AttentionItem[]> {
  const minAttempts = opts.retryingAttempts ?? 3;
  const open = (await client.listBatches({ limit: 500 })).filter((b) => b.status === 'RUNNING');
  if (open.length === 0) return [];
  const pool = await client.pool();
  // Per task queue: batches of other queues (other teams, tests) have workers of their own.
  const pollingByQueue = new Map<string, Promise<boolean>>();
  const polled = (queue: string) => {
    if (!pollingByQueue.has(queue))
      pollingByQueue.set(
        queue,
        client.workerPolling(queue).catch(() => true),
      );
    return pollingByQueue.get(queue)!;
  };
  const items: AttentionItem[] = [];
  for (const b of open) {
    const t: Triage = (await polled(b.taskQueue))
      ? await triage(client, b, minAttempts)
      : { reason: 'no_worker' };
    if (!t.reason) continue;
    const { counts } = await ledger.readCounts(pool, b.batchId);
    const lastError = t.lastError ?? (await ledger.lastRowError(pool, b.batchId));
    items.push({
      ...b,
      reason: t.reason,
      counts,
      done: rowsDone(counts),
      remaining: rowsRemaining(counts),
      lastError,
      ...(t.upsOutage ? { upsOutage: t.upsOutage } : {}),
      choices: attentionChoices(t.reason, counts, t.upsOutage).map((c) => choiceCommand(c, b.batchId)),
    });
  }
  return items;
}

/** Why a batch a worker polls for needs attention (nothing when it does not). */
async function triage(client: AttentionClient, b: BatchSummary, minAttempts: number): Promise<Triage> {
  if (b.phase === 'awaiting_approval' || b.phase === 'awaiting_action') return { reason: b.phase };
  if (b.phase === 'waiting_for_ups') {
    // Visibility has the phase; the reason, the next probe and who acts are in the batch's status.
    const s = await client.getBatch(b.batchId).catch(() => undefined);
    if (!s || s.phase === 'waiting_for_ups') {
      const upsOutage = s?.upsOutage;
      return { reason: 'waiting_for_ups', upsOutage, lastError: upsOutage?.reason };
    }
    if (s.phase === 'awaiting_approval' || s.phase === 'awaiting_action') {
      return { reason: s.phase }; // moved on since visibility was written
    }
    return {};
  }
  const desc = await client.temporal.workflowService.describeWorkflowExecution({
    namespace: client.config.temporal.namespace,
    execution: { workflowId: b.batchId },
  });
  const stuck = (desc.pendingActivities ?? []).filter((a) => (a.attempt ?? 0) >= minAttempts);
  if (stuck.length === 0) return {};
  const worst = stuck.reduce((a, c) => ((c.attempt ?? 0) > (a.attempt ?? 0) ? c : a));
  const name = worst.activityType?.name ?? 'activity';
  return {
    reason: 'retrying',
    lastError: `${name} attempt ${worst.attempt ?? 0}: ${worst.lastFailure?.message ?? 'still failing'}`,
  };
}
