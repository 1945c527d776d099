/**
 * What the row counts of a batch add up to: the one definition of rows done, remaining, settled and still to
 * settle, for every place that shows them (`list --attention`, the agent's prompts, the progress line).
 *
 * A row needing review is NOT done: the worker has settled it (it will not try it again by itself), but an
 * operator still has to say whether it shipped (`resolve`). So it counts as settled and as remaining.
 */
import type { RowCounts } from './batch';

/** Rows nothing more happens to: shipped, failed, invalid, cancelled or voided. */
export function rowsDone(c: RowCounts): number {
  return c.shipped + c.failed + c.invalid + c.cancelled + c.voided;
}

/** Rows not done: pending, in flight, or needing review (they wait for an operator). */
export function rowsRemaining(c: RowCounts): number {
  return Math.max(0, c.total - rowsDone(c));
}

/**
 * Rows the worker has settled in this execution: shipped, failed, cancelled, voided, and needing review
 * (handed to an operator). Invalid rows are not counted: they were never sent. The rate's numerator.
 */
export function rowsSettled(c: RowCounts): number {
  return c.shipped + c.failed + c.cancelled + c.voided + c.needsReview;
}

/**
 * Rows the worker still has to settle: pending or in flight, i.e. the remaining rows less those needing
 * review. The progress bar's `pending` figure and what its ETA is for.
 */
export function rowsToSettle(c: RowCounts): number {
  return Math.max(0, rowsRemaining(c) - c.needsReview);
}
