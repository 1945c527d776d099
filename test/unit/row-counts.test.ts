/**
 * Rows done, remaining, settled and still to settle (domain/row-counts.ts): a row needing review is settled by
 * the worker but not done (it waits for an operator).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyCounts, type RowCounts } from '../../domain/batch';
import { rowsDone, rowsRemaining, rowsSettled, rowsToSettle } from '../../domain/row-counts';

const counts = (c: Partial<RowCounts>): RowCounts => {
  const all = { ...emptyCounts(), ...c };
  all.total =
    c.total ??
    all.invalid +
      all.pending +
      all.inFlight +
      all.shipped +
      all.failed +
      all.needsReview +
      all.cancelled +
      all.voided;
  return all;
};

test('row counts: needs review is remaining (not done) but settled; invalid is done but never settled', () => {
  const c = counts({
    invalid: 1,
    pending: 2,
    inFlight: 3,
    shipped: 4,
    failed: 5,
    needsReview: 6,
    cancelled: 7,
    voided: 8,
  });
  assert.equal(rowsDone(c), 1 + 4 + 5 + 7 + 8);
  assert.equal(rowsRemaining(c), 2 + 3 + 6);
  assert.equal(rowsDone(c) + rowsRemaining(c), c.total);
  assert.equal(rowsSettled(c), 4 + 5 + 6 + 7 + 8);
  assert.equal(rowsToSettle(c), 2 + 3);
});

test('row counts: never negative when the figures do not add up (a status sampled mid-change)', () => {
  const c = counts({ total: 3, shipped: 4, needsReview: 2 });
  assert.equal(rowsRemaining(c), 0);
  assert.equal(rowsToSettle(c), 0);
  assert.equal(rowsRemaining(counts({ total: 10, shipped: 4, needsReview: 2 })), 6);
  assert.equal(rowsToSettle(counts({ total: 10, shipped: 4, needsReview: 2 })), 4);
});
