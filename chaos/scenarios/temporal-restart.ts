/** The Temporal dev server SIGKILLed and started again on its SQLite file, three times. */
import { COMMON, moments, type Scenario } from '../scenario';

const restarts = (ci: boolean) => (ci ? 1 : 3);

export const temporalRestart: Scenario = {
  name: 'temporal-restart',
  description:
    'the Temporal dev server SIGKILLed and restarted on the same SQLite file after 5 s (3×; CI 1×)',
  rows: { full: 600, ci: 200 },
  ...COMMON,
  planned: (ci) => ({ faults: restarts(ci) }),
  async schedule(ctx) {
    for (const at of moments(restarts(ctx.ci), ctx.random, 0.15, 0.8)) {
      if (!(await ctx.untilSettled(at))) return;
      ctx.fault('SIGKILL the Temporal dev server');
      await ctx.stack.killTemporal();
      await ctx.sleep(5000);
      await ctx.stack.startTemporal();
    }
  },
};
