/**
 * Temporal's errors as the client's: a batch that does not exist or is closed, an operation the workflow
 * refused (its own reason), no answer in time (and whether a worker polls), Temporal unreachable.
 */
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { ShipbatchConfig } from '../temporal.config';
import { BatchNotFoundError, BatchRefusedError, ConnectionError, messageOf, ShipbatchError } from './errors';

/** What telling the failures apart needs: the batch's own state and whether a worker polls its task queue. */
export interface RpcErrorContext {
  readonly config: ShipbatchConfig;
  readonly temporal: Client;
  workerPolling(taskQueue?: string): Promise<boolean>;
}

/** A gRPC/transport failure the user should read as "Temporal is unreachable". */
function isUnavailable(err: unknown): boolean {
  const text = `${messageOf(err)} ${messageOf((err as { cause?: unknown })?.cause)}`;
  return /UNAVAILABLE|ECONNREFUSED|failed to connect|Connection refused|DEADLINE_EXCEEDED/i.test(text);
}

/** The client's error for `err`, thrown by `what` (a query, an Update, start, list…) on `batchId`. */
export async function clientErrorOf(
  ctx: RpcErrorContext,
  batchId: string,
  what: string,
  err: unknown,
  timeoutMs: number,
): Promise<Error> {
  if (err instanceof ShipbatchError) return err;
  if (err instanceof WorkflowNotFoundError) {
    // The server answers an Update to a closed workflow with NOT_FOUND too: tell the two apart.
    const closed = await ctx.temporal.workflow
      .getHandle(batchId)
      .describe()
      .then((d) => (d.status.name === 'RUNNING' ? undefined : d.status.name))
      .catch(() => undefined);
    if (closed) {
      return new BatchRefusedError(
        batchId,
        what,
        `the batch is closed (${closed}); nothing can change it any more`,
        {
          cause: err,
        },
      );
    }
    return new BatchNotFoundError(batchId, { cause: err });
  }
  if (err instanceof WorkflowUpdateFailedError) {
    const reason = err.cause?.message ?? err.message;
    return new BatchRefusedError(batchId, what, reason, { cause: err });
  }
  const text = messageOf(err);
  if (/workflow execution already completed|already completed/i.test(text)) {
    return new BatchRefusedError(batchId, what, 'the batch is closed; nothing can change it any more', {
      cause: err,
    });
  }
  if (/abort|cancel|deadline/i.test(text) || (err as Error)?.name === 'AbortError') {
    // No answer in time: Updates and queries need a worker polling the batch's task queue.
    const polling = await ctx.workerPolling(ctx.config.taskQueue).catch(() => undefined);
    return new ConnectionError(`no answer to ${what} on ${batchId} within ${Math.round(timeoutMs / 1000)}s`, {
      cause: err,
      fix:
        polling === false
          ? `no worker polls task queue ${ctx.config.taskQueue}: start one with \`shipbatch worker\` (or run \`shipbatch dev\`)`
          : 'the worker may be busy or restarting; try again',
    });
  }
  if (isUnavailable(err)) {
    return new ConnectionError(`Temporal at ${ctx.config.temporal.address} is unreachable: ${text}`, {
      cause: err,
    });
  }
  return err instanceof Error ? err : new Error(text);
}
