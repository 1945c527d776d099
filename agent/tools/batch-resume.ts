/**
 * `batch_resume`: without `choice`, the batches that need attention with a recovery prompt each, and the shipped
 * batches whose packages are in exception (tracking, issue 25) with UPS's words and the next step; with
 * `job_id` and `choice`, resume, restart or cancel. When no worker polls, restart and cancel are sent as
 * signals (recorded in the history at once, applied when a worker runs) and resume says what will happen.
 */
import { z } from 'zod';
import { BatchNotFoundError, type BatchStatus, type ShipbatchClient } from '../../client/index';
import { emptyCounts, FINAL_PHASES } from '../../domain/batch';
import * as msg from '../../domain/messages';
import { rowsDone, rowsRemaining } from '../../domain/row-counts';
import { ToolError } from '../errors';
import { nextStep, probesText, upsNextStep } from './next-step';
import { RESUME_CHOICES, restartScope } from './resume-choices';
import { choicesFor, promptFor, TRACKING_EXCEPTIONS_LISTED, trackingExceptionsAnswer } from './resume-prompt';
import { ACTOR, JobId, jobIdOf, workerState } from './shared';
import { tool } from './tool';

const ResumeArgs = z
  .object({
    job_id: JobId.optional().describe(
      'The batch to act on (required with choice); without choice, limits the list to this batch.',
    ),
    choice: z
      .enum(RESUME_CHOICES, { error: 'choice must be "resume", "restart" or "cancel"' })
      .optional()
      .describe(
        'Omit to list the batches needing attention with a recovery prompt each. resume: for a batch waiting for UPS whose credentials UPS refused, send `resume` once they are fixed (shipping starts again at once); a batch waiting for UPS otherwise resumes by itself (nothing is sent); for any other batch, report what happens once a worker runs (changes nothing). restart: ship again the failed (else needs-review) rows, never a shipped one; cancel: stop the batch, no new shipments.',
      ),
  })
  .strict();

/** The `batch_resume` tool. */
export const batchResumeTool = tool({
  name: 'batch_resume',
  annotations: {
    title: 'Batches needing attention; resume, restart or cancel',
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
  },
  description:
    "Without choice: list the batches that need attention (awaiting approval or action, waiting for UPS, activities retrying, no worker polling) with a recovery prompt each: rows done, remaining, last error, the UPS outage (reason, since, next probe, whether the operator must fix the credentials), the choices and what each does; and under tracking_exceptions the shipped batches whose packages are in exception (row, tracking number, UPS's words, at most 20 then how many more) with the next step (contact the recipient or UPS). With job_id and choice: perform it (resume, restart, cancel). resume on a batch waiting for UPS after refused credentials sends `resume` (ask the user to fix the credentials first); one waiting for UPS otherwise resumes by itself when UPS answers.",
  schema: ResumeArgs,
  run: batchResume,
});

async function batchResume(client: ShipbatchClient, args: z.output<typeof ResumeArgs>): Promise<unknown> {
  const id = args.job_id === undefined ? undefined : jobIdOf(args.job_id);
  if (args.choice === undefined) {
    const items = (await client.attentionBatches()).filter((b) => id === undefined || b.batchId === id);
    // After the label: batches whose shipped packages are in exception (the tracking's attention list).
    // A failure here (e.g. a namespace without the ShipBatchTracking attribute) must not hide the batches
    // waiting for someone: it is said in the answer instead.
    let trackingError: string | undefined;
    const tracked = await client
      .trackingExceptions({
        ...(id === undefined ? {} : { batchId: id }),
        limit: TRACKING_EXCEPTIONS_LISTED,
      })
      .catch((err: unknown) => {
        trackingError = `tracking exceptions could not be read: ${(err as Error).message}`;
        return [];
      });
    return {
      count: items.length,
      batches: items.map((item) => {
        const choices = choicesFor(item);
        return {
          job_id: item.batchId,
          phase: item.phase ?? null,
          reason: item.reason,
          rows_done: item.done,
          rows_remaining: item.remaining,
          counts: item.counts,
          last_error: item.lastError,
          ...(item.upsOutage ? { ups_outage: item.upsOutage } : {}),
          choices,
          prompt: promptFor(item, choices),
        };
      }),
      ...(tracked.length > 0 ? { tracking_exceptions: tracked.map(trackingExceptionsAnswer) } : {}),
      ...(trackingError ? { tracking_error: trackingError } : {}),
      ...(items.length === 0 && tracked.length === 0
        ? { note: id ? `batch ${id} needs no attention` : 'no batch needs attention' }
        : {}),
    };
  }
  if (id === undefined) throw new ToolError(`job_id: required with choice "${args.choice}"`);
  const worker = await workerState(client, id);
  if (worker.closed) {
    throw new ToolError(`batch ${id} is closed (${worker.closed}); nothing can resume, restart or cancel it`);
  }
  const counts = await client.ledgerCounts(id).then(
    (r) => r.counts,
    (err: unknown) => {
      // Not loaded yet (no worker ever ran it): no rows in the ledger.
      if (err instanceof BatchNotFoundError) return emptyCounts();
      throw err;
    },
  );
  // Done and remaining as everywhere (domain/row-counts.ts): a row needing review is remaining.
  const rows = { rows_done: rowsDone(counts), rows_remaining: rowsRemaining(counts), counts };
  switch (args.choice) {
    case 'resume': {
      if (worker.polling) {
        const status = await client.getBatch(id);
        const polled = { job_id: id, choice: 'resume', worker_polling: true, phase: status.phase, ...rows };
        if (status.phase === 'waiting_for_ups') return resumeWaiting(client, id, status, polled);
        return {
          ...polled,
          will_happen: FINAL_PHASES.has(status.phase)
            ? `nothing: the batch is ${status.phase}`
            : `a worker runs the batch now; ${nextStep(id, status)}`,
        };
      }
      return {
        job_id: id,
        choice: 'resume',
        worker_polling: false,
        ...rows,
        will_happen: `Once a worker polls task queue ${worker.taskQueue} (\`shipbatch worker\` or \`shipbatch dev\`), the batch continues from where it stopped: the ${rows.rows_done} settled row(s) stay as they are (shipped rows are never shipped again), rows that were in flight are checked against UPS before anything is retried, and the ${rows.rows_remaining} remaining row(s) go on. Nothing changed now.`,
      };
    }
    case 'restart': {
      const scope = restartScope(counts);
      if (scope === undefined) {
        throw new ToolError(
          `choice: nothing to restart in batch ${id}: no failed or needs-review rows (${rows.rows_done} done, ${rows.rows_remaining} remaining); use resume or cancel`,
        );
      }
      if (worker.polling) {
        const status = await client.restartBatch(id, { scope });
        return { job_id: id, choice: 'restart', scope, ...status, next_step: nextStep(id, status) };
      }
      await signal(client, id, () =>
        client.temporal.workflow.getHandle(id).signal(msg.restartSignal, { scope }),
      );
      return {
        job_id: id,
        choice: 'restart',
        scope,
        queued: true,
        will_happen: `restart (scope ${scope}) is recorded in the batch; it applies once a worker polls task queue ${worker.taskQueue}. If the batch is not waiting for action then, the refusal shows in its status (rejectedMessages).`,
      };
    }
    case 'cancel': {
      const reason = `cancelled through ${ACTOR}`;
      if (worker.polling) {
        const status = await client.cancelBatch(id, { reason });
        return { job_id: id, choice: 'cancel', ...status };
      }
      await signal(client, id, () =>
        client.temporal.workflow.getHandle(id).signal(msg.cancelSignal, { reason }),
      );
      return {
        job_id: id,
        choice: 'cancel',
        queued: true,
        ...rows,
        will_happen: `cancel is recorded in the batch; once a worker polls task queue ${worker.taskQueue} nothing new ships, rows in flight settle and the rest become cancelled.`,
      };
    }
  }
}

/**
 * `resume` on a batch waiting for UPS: the `resume` Update when the operator had to act (credentials
 * refused; the user fixed them), else nothing sent: the batch resumes by itself when a probe succeeds.
 * `polled` begins the answer that sends nothing: the batch, the choice, its phase and rows.
 */
async function resumeWaiting(
  client: ShipbatchClient,
  id: string,
  status: BatchStatus,
  polled: Record<string, unknown>,
): Promise<unknown> {
  const outage = status.upsOutage;
  if (outage && !outage.needsOperator) {
    return {
      ...polled,
      ups_outage: outage,
      sent: false,
      will_happen: `Nothing sent: ${outage.reason}, and the batch resumes by itself when UPS answers (${probesText(outage)}). Follow it with batch_execute {job_id: "${id}", wait_seconds: 30}.`,
    };
  }
  const after = await client.resumeBatch(id, { by: ACTOR });
  return {
    job_id: id,
    choice: 'resume',
    sent: true,
    ...(outage ? { resumed_from: outage } : {}),
    ...after,
    next_step:
      after.phase === 'waiting_for_ups'
        ? `UPS still refuses: ${after.upsOutage?.reason ?? 'no answer'}. ${upsNextStep(id, after)}`
        : nextStep(id, after),
  };
}

/**
 * A signal when no worker polls: Updates need a worker to answer, a signal is recorded in the history
 * at once and applied (or refused into rejectedMessages) when a worker runs.
 */
async function signal(client: ShipbatchClient, id: string, send: () => Promise<void>): Promise<void> {
  try {
    await client.connection.withAbortSignal(AbortSignal.timeout(10_000), send);
  } catch (err) {
    throw err instanceof Error && err.name === 'WorkflowNotFoundError'
      ? new BatchNotFoundError(id, { cause: err })
      : err;
  }
}
