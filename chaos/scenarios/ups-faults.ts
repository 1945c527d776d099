/**
 * The UPS side misbehaving for the whole batch: 10 % transient faults (429 with Retry-After, 503), hangs,
 * creates whose answer is lost after the shipment was made (`timeout_after_create`, `hang_after_create`) and
 * creates that land after the call timed out (`slow`). The first creates get one of each for certain.
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
    'UPS: 5 % 429 (Retry-After) + 5 % 503 on every tool, 1 % hangs, 1 % answers lost after the create, 1 % creates landing after the timeout',
  rows: { full: 800, ci: 250 },
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
    // Past the 5 s call timeout: the create is recorded after the client gave up.
    slowMs: 7000,
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
