/**
 * The UPS side misbehaving for the whole batch: 10 % transient faults (429 with Retry-After, 503), hangs,
 * creates whose answer is lost after the shipment was made (`timeout_after_create`, `hang_after_create`) and
 * creates that land late (`slow`), with label recovery lagging behind UPS's record. The first creates get one
 * of each for certain.
 */
import { BASE_KNOBS, COMMON, type Scenario } from '../scenario';

/** Each kind once for certain (the first creates), whatever the random draws do. */
export const CERTAIN_FAULTS = [
  'timeout_after_create',
  'hang_after_create',
  'slow',
  'rate_limit',
  'unavailable',
  'hang',
] as const;

export const upsFaults: Scenario = {
  name: 'ups-faults',
  description:
    'UPS: 5 % 429 (Retry-After) + 5 % 503 on every tool, 1 % hangs, 1 % answers lost after the create, 1 % creates landing 4 s late; label recovery lagging 2 s',
  rows: { full: 800, ci: 200 },
  ...COMMON,
  knobs: {
    ...BASE_KNOBS,
    faultRates: {
      rate_limit: 0.05,
      unavailable: 0.05,
      hang: 0.01,
      timeout_after_create: 0.01,
      hang_after_create: 0.01,
      slow: 0.01,
    },
    retryAfterSeconds: 1,
    // Creates landing late: 4 s at UPS, just inside the 5 s call timeout. (Over stdio a call past the timeout
    // dies with its session's process and never lands; the partition scenario has creates outliving a worker's
    // hold on its rows.)
    slowMs: 4000,
    // And UPS's label recovery sees a shipment only 2 s after it was made (inside the 3 s grace).
    recoverVisibleAfterMs: 2000,
    // A hung call ends on its own after 20 s (the client gave up at 5 s and replaced the session).
    hangMs: 20_000,
    rules: CERTAIN_FAULTS.map((fault) => ({ tool: 'create_shipment', fault, times: 1 })),
  },
  rules: { reviewWhereUnanswered: true, noAmbiguity: false },
  planned: () => ({ faults: CERTAIN_FAULTS.length, upsFaults: CERTAIN_FAULTS }),
  async schedule(ctx) {
    for (const kind of CERTAIN_FAULTS) ctx.fault(`UPS ${kind} (rule, first create) + random rates`);
    return Promise.resolve();
  },
};
