/**
 * Bounded concurrency for the activities' pages of UPS calls (the preview's quotes, the pre-flight's and the
 * tracking's pages through `ups/ask-each.ts`, the voids of a cancel): a helper of its own so that no folder
 * imports another's step for it.
 */

/**
 * Run `fn` over `items` with at most `limit` calls in flight (at least one), results in input order. The first
 * rejection rejects the whole; calls already started are not stopped, and the other lanes go on through the
 * items left (`fn` is the place to stop early, e.g. on the activity's cancellation signal).
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}
