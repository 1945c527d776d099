/**
 * What the batch tools share: the `job_id` argument, the auto-mode gate, the batch's worker state and the
 * error when no worker polls.
 */
import { z } from 'zod';
import { normalizeBatchId, type ShipbatchClient } from '../../client/index';
import type { BatchPhase } from '../../domain/row-status';
import { ToolError } from '../errors';
import type { Settings } from './tool';

/** Who approves and cancels, as recorded in the batch's status and history. */
export const ACTOR = 'shipbatch-mcp';

/** The `job_id` argument. */
export const JobId = z
  .string()
  .min(1)
  .max(80)
  .describe('The batch id (`batch-…`; a bare word gets the `batch-` prefix), as batch_preview returned it.');

/** Auto mode ships without the user's approval: only when the operator allowed it. */
export function checkMode(mode: string | undefined, opts: Settings): void {
  if (mode !== 'auto' || opts.allowAuto) return;
  throw new ToolError(
    'mode: auto mode is not allowed by this server: it ships without the user approving the preview. ' +
      'Use confirm mode (the default) and call batch_execute with approved: true once the user approved the preview. ' +
      'The operator can allow auto mode by starting shipbatch-mcp with --allow-auto.',
  );
}

/** The batch id of a `job_id` argument; a malformed one is a {@link ToolError} naming `job_id`. */
export function jobIdOf(raw: string): string {
  try {
    return normalizeBatchId(raw);
  } catch (err) {
    throw new ToolError(`job_id: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Phases in which the preview is not there yet. */
export const BEFORE_PREVIEW: ReadonlySet<BatchPhase> = new Set(['loading', 'previewing']);

/** The batch's task queue and whether a worker polls it (queries and Updates need one). */
export async function workerState(
  client: ShipbatchClient,
  id: string,
): Promise<{ taskQueue: string; polling: boolean; closed?: string }> {
  const d = await client.describeBatch(id);
  const polling = await client.workerPolling(d.taskQueue);
  return { taskQueue: d.taskQueue, polling, closed: d.status.name === 'RUNNING' ? undefined : d.status.name };
}

/** The error of a tool that needs a worker to answer when none polls the batch's task queue. */
export function noWorker(id: string, taskQueue: string): ToolError {
  return new ToolError(
    `no worker polls task queue ${taskQueue}, so batch ${id} cannot answer yet; it waits durably. ` +
      `Start a worker (\`shipbatch worker\`, or \`shipbatch dev\`), then call this tool again with job_id "${id}"; batch_resume shows what needs attention.`,
  );
}
