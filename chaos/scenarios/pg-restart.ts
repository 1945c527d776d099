/** PostgreSQL (the ledger) stopped for 20 s and started again, twice: rows in flight settle, none is lost. */
import { COMMON, atMoments, type Scenario } from '../scenario';

const stops = (ci: boolean) => (ci ? 1 : 2);

export const pgRestart: Scenario = {
  name: 'pg-restart',
  description: 'PostgreSQL stopped (fast shutdown) for 20 s and started again (2×; CI 1×)',
  rows: { full: 600, ci: 200 },
  ...COMMON,
  planned: (ci) => ({ faults: stops(ci) }),
  async schedule(ctx) {
    await atMoments(ctx, stops(ctx.ci), [0.2, 0.7], async () => {
      ctx.fault('stop PostgreSQL for 20 s');
      await ctx.stack.stopPostgres();
      await ctx.sleep(20_000);
      await ctx.stack.startPostgres();
    });
  },
};
