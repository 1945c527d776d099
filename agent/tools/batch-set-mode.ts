/** `batch_set_mode`: switch a batch between confirm and auto before it executes (the `setMode` Update). */
import { z } from 'zod';
import { ModeSchema } from '../../domain/batch';
import { nextStep } from './next-step';
import { checkMode, JobId, jobIdOf, noWorker, workerState } from './shared';
import { tool } from './tool';

const SetModeArgs = z
  .object({
    job_id: JobId,
    mode: ModeSchema.describe(
      '"confirm" or "auto" (case-insensitive). Refused once the batch executes; "auto" is refused unless the server runs with --allow-auto.',
    ),
  })
  .strict();

/** The `batch_set_mode` tool. */
export const batchSetModeTool = tool({
  name: 'batch_set_mode',
  // Destructive: switching a previewed batch to auto ships it without approval.
  annotations: {
    title: 'Switch confirm/auto mode',
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
  },
  description:
    'Switch a batch between "confirm" and "auto" (case-insensitive) before it executes; refused once execution started. Auto ships a previewed batch at once, without approval, and is refused unless the server allows it. Returns the status.',
  schema: SetModeArgs,
  async run(client, args, opts) {
    checkMode(args.mode, opts);
    const id = jobIdOf(args.job_id);
    const worker = await workerState(client, id);
    if (!worker.polling) throw noWorker(id, worker.taskQueue);
    const status = await client.setBatchMode(id, args.mode);
    return { job_id: id, ...status, next_step: nextStep(id, status) };
  },
});
