/** The Temporal dev server SIGKILLed and started again on its SQLite file, three times. */
import { COMMON, atMoments, type Scenario } from '../scenario';

const restarts = (ci: boolean) => (ci ? 1 : 3);

export const temporalRestart: Scenario = {
  name: 'temporal-restart',
  description:
    'the Temporal dev server SIGKILLed and restarted on the same SQLite file after 5 s (3×; CI 1×)',
  rows: { full: 600, ci: 200 },
  ...COMMON,
  planned: (ci) => ({ faults: restarts(ci) }),
  async schedule(ctx) {
    await atMoments(ctx, restarts(ctx.ci), [0.15, 0.8], async () => {
      ctx.fault('SIGKILL the Temporal dev server');
      await ctx.stack.killTemporal();
      await ctx.sleep(5000);
      await ctx.stack.startTemporal();
    });
  },
};
