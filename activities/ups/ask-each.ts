/**
 * A page of items, each asked of UPS with bounded concurrency inside an activity (the pre-flight's rows, the
 * tracking's packages): an item UPS did not answer because UPS itself is down is left out (asked again later,
 * the first such outage returned so a page where no item answered can make the workflow wait for UPS); any
 * other failure is `ask`'s to turn into the item's outcome, or fails the page.
 */
import { setMaxListeners } from 'node:events';
import { Context } from '@temporalio/activity';
import { mapBounded } from '../map-bounded';
import { UpsError, upsOutageOf, type UpsOutageSign } from './errors';

/** UPS calls in flight at once per page, at most (the session pool and rate cap bound them further). */
export const MAX_PAGE_CONCURRENCY = 16;

export async function askEach<T, R>(
  items: readonly T[],
  concurrency: number,
  rowNo: (item: T) => number,
  ask: (item: T, signal: AbortSignal) => Promise<R>,
): Promise<{ answers: R[]; outage?: UpsOutageSign }> {
  const ctx = Context.current();
  const limit = Math.max(1, Math.min(concurrency, MAX_PAGE_CONCURRENCY));
  // Each concurrent call listens on the activity's one cancellation signal.
  setMaxListeners(Math.max(10, limit + 4), ctx.cancellationSignal);
  let outage: UpsOutageSign | undefined;
  const results = await mapBounded(items, limit, async (item): Promise<{ answer: R } | undefined> => {
    try {
      return { answer: await ask(item, ctx.cancellationSignal) };
    } catch (err) {
      if (ctx.cancellationSignal.aborted) throw err;
      const sign = err instanceof UpsError ? upsOutageOf(err) : undefined;
      if (!sign) throw err;
      outage ??= sign;
      ctx.log.warn('UPS call failed', { error: err, rowNo: rowNo(item) });
      return undefined;
    }
  });
  const answers = results.filter((r) => r !== undefined).map((r) => r.answer);
  return { answers, ...(outage ? { outage } : {}) };
}
