import type { ScenarioContext } from '../scenario';

/** A random worker slot whose process is at work (polling), waiting for one; undefined if the batch closed. */
export async function randomVictim(ctx: ScenarioContext): Promise<number | undefined> {
  for (;;) {
    const up = ctx.fleet.polling();
    if (up.length > 0) return up[Math.floor(ctx.random() * up.length)];
    if (ctx.done()) return undefined;
    await ctx.sleep(250);
  }
}
