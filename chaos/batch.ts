/**
 * One scenario's batch, driven as a user drives it: a source table of generated orders, an auto-mode batch
 * started through the typed client, followed until it closes (a batch left awaiting action with rows
 * needing review is finished, as an operator would after looking at them).
 */
import type pg from 'pg';
import type { ShipbatchClient } from '../client/batches';
import type { BatchResult, BatchStatus } from '../domain/batch';
import { FINAL_PHASES } from '../domain/batch';
import { batchInput, createOrdersTable, makeOrders } from '../test/helpers/batch';

/** Create `rows` generated orders in a new table and start an auto batch over it; returns the batch id. */
export async function startChaosBatch(
  client: ShipbatchClient,
  pool: pg.Pool,
  opts: { name: string; rows: number; taskQueue: string; concurrency: number },
): Promise<string> {
  const table = await createOrdersTable(pool, makeOrders(opts.rows), 'chaos_orders');
  const { batchId } = await client.startBatch(
    batchInput(table, {
      name: `chaos ${opts.name}`,
      mode: 'auto',
      // ZPL labels: text, not a GIF drawn per row — the 2-core budget goes to the faults, not to pixels.
      options: { concurrency: opts.concurrency, labelFormat: 'ZPL' },
    }),
    { id: `chaos-${opts.name}-${Date.now().toString(36)}`, taskQueue: opts.taskQueue },
  );
  return batchId;
}

/** Rows of the batch that reached a final state, from the ledger; `undefined` while it cannot be read. */
export async function settledRows(pool: pg.Pool, batchId: string): Promise<number | undefined> {
  try {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM batch_rows
        WHERE batch_id = $1 AND status NOT IN ('pending', 'in_flight')`,
      [batchId],
    );
    return rows[0]!.n;
  } catch {
    return undefined; // PostgreSQL is down (a scenario's doing): the caller keeps its last figure
  }
}

/** The batch did not close in time: its last status, for the report. */
export class StuckBatchError extends Error {
  constructor(
    readonly batchId: string,
    readonly last: BatchStatus | undefined,
  ) {
    super(
      `batch ${batchId} did not close in time; last status: ${last ? `${last.phase} ${JSON.stringify(last.counts)}` : 'none'}`,
    );
  }
}

/**
 * Follow the batch until it is closed, finishing it when it waits for action; `deadline` (epoch ms) bounds
 * the wait. Errors while Temporal is down are waited out.
 */
export async function settleBatch(
  client: ShipbatchClient,
  batchId: string,
  deadline: number,
): Promise<BatchResult> {
  let last: BatchStatus | undefined;
  while (Date.now() < deadline) {
    try {
      last = await client.getBatch(batchId);
      if (FINAL_PHASES.has(last.phase)) return await client.batchResult(batchId);
      if (last.phase === 'awaiting_action') await client.finishBatch(batchId);
    } catch {
      // Temporal restarting, or the batch moved on between the query and the Update: ask again
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new StuckBatchError(batchId, last);
}
