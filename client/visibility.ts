/**
 * Batches as Temporal visibility lists them (docs/design.md §6): the workflow type, the list query and the
 * summary of each batch from its search attributes.
 */
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { BATCH_PHASES, type BatchPhase } from '../domain/row-status';
import { SHIP_BATCH_MODE, SHIP_BATCH_PHASE, SHIP_BATCH_ROWS } from '../domain/search-attributes';
import { BatchInputError } from './errors';

/** Workflow type name of a batch (the function name the worker registers). */
export const BATCH_WORKFLOW_TYPE = 'shipmentBatch';

/** One batch as visibility lists it. */
export interface BatchSummary {
  batchId: string;
  runId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW. */
  status: string;
  taskQueue: string;
  phase?: BatchPhase;
  mode?: string;
  rows?: number;
  startTime: string;
  closeTime?: string;
}

/** The visibility query of the batches, optionally in one phase (an unknown phase is a BatchInputError). */
export function batchListQuery(phase?: string): string {
  // A long batch continues as new every couple of thousand rows: list each batch once (its latest run).
  const clauses = [`WorkflowType = '${BATCH_WORKFLOW_TYPE}'`, `ExecutionStatus != 'ContinuedAsNew'`];
  if (phase !== undefined) {
    if (!(BATCH_PHASES as readonly string[]).includes(phase)) {
      throw new BatchInputError(`unknown phase ${JSON.stringify(phase)}`, {
        fix: `use one of ${BATCH_PHASES.join(', ')}`,
      });
    }
    // Safe to inline: checked against the fixed list just above.
    clauses.push(`${SHIP_BATCH_PHASE.name} = '${phase}'`);
  }
  return clauses.join(' AND ');
}

/** A listed workflow as a batch summary. */
export function summaryOf(w: WorkflowExecutionInfo): BatchSummary {
  const sa = w.typedSearchAttributes;
  return {
    batchId: w.workflowId,
    runId: w.runId,
    status: w.status.name,
    taskQueue: w.taskQueue,
    phase: sa.get(SHIP_BATCH_PHASE) as BatchPhase | undefined,
    mode: sa.get(SHIP_BATCH_MODE),
    rows: sa.get(SHIP_BATCH_ROWS),
    startTime: w.startTime.toISOString(),
    closeTime: w.closeTime?.toISOString(),
  };
}
