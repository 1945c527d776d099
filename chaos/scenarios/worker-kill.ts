/** Worker SIGKILL at random moments: a random working worker killed and restarted at once, 25 times. */
import { COMMON, atMoments, type Scenario } from '../scenario';
import { randomVictim } from './victims';

const kills = (ci: boolean) => (ci ? 3 : 25);

export const workerKill: Scenario = {
  name: 'worker-kill',
  description: 'a random worker SIGKILLed at random moments (25×; CI 3×), restarted at once',
  rows: { full: 2000, ci: 250 },
  ...COMMON,
  planned: (ci) => ({ kills: kills(ci) }),
  async schedule(ctx) {
    await atMoments(ctx, kills(ctx.ci), [0.03, 0.92], async () => {
      const victim = await randomVictim(ctx);
      if (victim === undefined) return false;
      ctx.fault(`SIGKILL worker ${victim + 1}`);
      await ctx.fleet.kill(victim);
    });
  },
};
