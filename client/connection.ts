/**
 * The client's connection to Temporal: connecting (an unreachable server is a ConnectionError with the fix),
 * the deadline of queries and Updates, and whether workers poll a task queue.
 */
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { ShipbatchConfig } from '../temporal.config';
import { ConnectionError, messageOf } from './errors';

const { temporal } = proto; // CommonJS package: named ESM imports are not available

/** How long a query or an Update may wait for a worker before the client gives up. */
export const DEFAULT_RPC_TIMEOUT_MS = 20_000;

/** Connect to the configured Temporal; unreachable → ConnectionError saying what to start or set. */
export async function connectTemporal(config: ShipbatchConfig): Promise<Connection> {
  try {
    return await Connection.connect({ ...config.temporal.connection, connectTimeout: '5s' });
  } catch (err) {
    throw new ConnectionError(`Temporal at ${config.temporal.address} is unreachable: ${messageOf(err)}`, {
      cause: err,
      fix: config.temporal.embedded
        ? 'start the embedded stack with `shipbatch dev` (or `npm start` for the demo), or set TEMPORAL_ADDRESS'
        : 'check TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY',
    });
  }
}

/** Workers polling a task queue's workflow tasks (recently: the server keeps pollers for a minute). */
export async function taskQueuePollers(
  client: Client,
  namespace: string,
  taskQueue: string,
): Promise<number> {
  const res = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return res.pollers?.length ?? 0;
}
