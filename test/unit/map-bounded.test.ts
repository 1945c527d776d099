/**
 * `mapBounded` (activities/map-bounded.ts): results in input order whatever order the calls end in, never more
 * than `limit` calls in flight, and the first rejection rejects the whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapBounded } from '../../activities/map-bounded';

/** `fn` that counts the calls in flight and ends each after the delay its item names. */
function tracked<T>(delayOf: (item: T) => number, result: (item: T) => unknown = (item) => item) {
  const seen = { inFlight: 0, peak: 0, calls: 0 };
  const fn = async (item: T) => {
    seen.calls++;
    seen.inFlight++;
    seen.peak = Math.max(seen.peak, seen.inFlight);
    try {
      await sleep(delayOf(item));
      return result(item);
    } finally {
      seen.inFlight--;
    }
  };
  return { seen, fn };
}

test('results in input order, though the calls end in another', async () => {
  const items = [30, 5, 20, 1, 15, 0, 10];
  const { seen, fn } = tracked<number>(
    (ms) => ms,
    (ms) => `item ${ms}`,
  );
  assert.deepEqual(
    await mapBounded(items, 3, fn),
    items.map((ms) => `item ${ms}`),
  );
  assert.equal(seen.calls, items.length, 'each item once');
});

test('never more than limit in flight, and the limit is used', async () => {
  const items = Array.from({ length: 40 }, (_, i) => i);
  for (const limit of [1, 4, 16]) {
    const { seen, fn } = tracked<number>((i) => (i * 7) % 5);
    await mapBounded(items, limit, fn);
    assert.equal(seen.peak, limit, `limit ${limit}`);
    assert.equal(seen.calls, items.length);
  }
  // A limit above the items runs them all at once; below one still runs one at a time.
  const many = tracked<number>(() => 5);
  await mapBounded([1, 2, 3], 10, many.fn);
  assert.equal(many.seen.peak, 3);
  const none = tracked<number>(() => 1);
  assert.deepEqual(await mapBounded([1, 2], 0, none.fn), [1, 2]);
  assert.equal(none.seen.peak, 1);
  assert.deepEqual(await mapBounded([], 4, none.fn), []);
});

test('a rejection rejects the whole', async () => {
  const boom = new Error('item 3 failed');
  await assert.rejects(
    mapBounded([1, 2, 3, 4, 5], 2, async (i) => {
      await sleep(i);
      if (i === 3) throw boom;
      return i;
    }),
    (err) => err === boom,
  );
});
