/** Phase loading: the source's rows into the ledger, rendered and validated (docs/design.md §3, step 1). */
import { upsertSearchAttributes } from '@temporalio/workflow';
import { emptyCounts } from '../../domain/batch';
import { SHIP_BATCH_ROWS } from '../../domain/search-attributes';
import { loading } from '../batch-activities';
import type { BatchRun } from '../batch-run';

/** Load the batch; the counts start from what it found. */
export async function load(run: BatchRun): Promise<{ total: number; valid: number }> {
  const { batchId, state } = run;
  run.enter('loading');
  const loaded = await loading.loadBatch({ batchId, input: state.input });
  state.counts = {
    ...emptyCounts(),
    total: loaded.total,
    invalid: loaded.invalid,
    pending: loaded.valid,
  };
  upsertSearchAttributes([{ key: SHIP_BATCH_ROWS, value: loaded.total }]);
  return loaded;
}
