/**
 * `batch_execute`: ship a previewed batch. In confirm mode the approval (with the current preview hash) is
 * sent only with `approved: true`; the answer is the batch's status, optionally after waiting for the end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { ShipbatchClient } from '../../client/index';
import { ToolError } from '../errors';
import { nextStep } from './next-step';
import { ACTOR, BEFORE_PREVIEW, JobId, jobIdOf, noWorker, workerState } from './shared';
import { tool, type Settings } from './tool';

const ExecuteArgs = z
  .object({
    job_id: JobId,
    approved: z
      .boolean()
      .optional()
      .describe(
        'true once the user approved the preview; required in confirm mode (the approval carries the current previewHash, so a changed preview is refused).',
      ),
    wait_seconds: z
      .number()
      .int()
      .min(0)
      .max(50)
      .optional()
      .describe(
        'Wait up to this many seconds for execution to end before answering (default 0: answer at once). Call again to poll the status.',
      ),
  })
  .strict();

/** The `batch_execute` tool. */
export const batchExecuteTool = tool({
  name: 'batch_execute',
  annotations: {
    title: 'Ship a previewed batch',
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
  },
  description:
    'Ship a previewed batch. In confirm mode requires approved: true (after the user saw the preview); in auto mode the batch already proceeds. Returns the batch status (phase, row counts, cost; with a pickup, once shipping ended, pickup: state scheduled/failed/cancelled/released/pending, prn, date and window, packages, charge, sharedWith: the batches UPS merged into the same pickup, error); call again (optionally with wait_seconds) to follow progress.',
  schema: ExecuteArgs,
  run: batchExecute,
});

async function batchExecute(
  client: ShipbatchClient,
  args: z.output<typeof ExecuteArgs>,
  opts: Settings,
): Promise<unknown> {
  const id = jobIdOf(args.job_id);
  const worker = await workerState(client, id);
  if (!worker.polling) throw noWorker(id, worker.taskQueue);
  let status = await client.getBatch(id);
  if (BEFORE_PREVIEW.has(status.phase)) {
    throw new ToolError(
      `batch ${id} has no preview yet (phase ${status.phase}); call batch_preview with job_id "${id}" first`,
    );
  }
  if (status.phase === 'awaiting_approval') {
    if (args.approved !== true) {
      throw new ToolError(
        `Preview approval required in CONFIRM mode: show the preview (batch_preview with job_id "${id}") to the user, then call batch_execute with approved: true once they agree.`,
      );
    }
    // The current hash: an approval of a preview that changed meanwhile is refused by the workflow.
    const previewHash = status.previewHash ?? (await client.getPreview(id))?.previewHash;
    status = await client.approveBatch(id, { ...(previewHash ? { previewHash } : {}), by: ACTOR });
  }
  const deadline = Date.now() + (args.wait_seconds ?? 0) * 1000;
  while ((status.phase === 'executing' || status.phase === 'awaiting_approval') && Date.now() < deadline) {
    await sleep(opts.pollMs);
    status = await client.getBatch(id);
  }
  return { job_id: id, ...status, next_step: nextStep(id, status) };
}
