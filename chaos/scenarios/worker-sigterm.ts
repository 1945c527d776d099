/**
 * A deploy, five times: a worker's replacement starts and the old process gets SIGTERM mid-batch. Its
 * shutdown grace lets its creates finish, so no row becomes doubtful and every old process exits 0.
 */
import { COMMON, atMoments, type Scenario } from '../scenario';
import { randomVictim } from './victims';

const terms = (ci: boolean) => (ci ? 1 : 5);

export const workerSigterm: Scenario = {
  name: 'worker-sigterm',
  description: 'a worker SIGTERMed mid-create and replaced, as in a deploy (5×; CI 1×)',
  rows: { full: 600, ci: 200 },
  ...COMMON,
  rules: { ...COMMON.rules, noAmbiguity: true },
  planned: (ci) => ({ terms: terms(ci) }),
  async schedule(ctx) {
    await atMoments(ctx, terms(ctx.ci), [0.1, 0.85], async () => {
      const victim = await randomVictim(ctx);
      if (victim === undefined) return false;
      ctx.fault(`SIGTERM worker ${victim + 1}`);
      const code = await ctx.fleet.deploy(victim);
      if (code !== 0) ctx.fault(`worker ${victim + 1} exited ${code} after SIGTERM (not a clean stop)`);
    });
  },
};
