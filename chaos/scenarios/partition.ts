/**
 * A worker cut off from Temporal for longer than the heartbeat timeout (20 s) while its creates go on at UPS:
 * Temporal gives its rows to the other worker, whose attempts must wait the creates out and adopt them.
 * The cut worker reaches Temporal through a TCP proxy; its sandbox makes creates last 30 s meanwhile. Its
 * SDK times those activities out locally and its pool stops their sandbox processes; UPS finishes the
 * creates anyway (the sandbox records a slow create when it arrives), as the real UPS would.
 */
import { readShipments } from '../../ups-sandbox/store';
import { startTcpProxy, type TcpProxy } from '../tcp-proxy';
import { BASE_ENV, BASE_KNOBS, atMoments, type Scenario } from '../scenario';

const partitions = (ci: boolean) => (ci ? 1 : 2);
/** Slow creates UPS has on record, landed or not (only the cut worker's sandbox makes them). */
const slowCreates = (sandboxDir: string) =>
  readShipments(sandboxDir, { pending: true }).filter((r) => r.slowMs !== undefined).length;
let proxy: TcpProxy | undefined;
const CUT = 1;

export const partition: Scenario = {
  name: 'partition',
  description:
    'worker 2 partitioned from Temporal for 35 s (> 20 s heartbeat timeout) while its 30 s creates go on (2×; CI 1×)',
  rows: { full: 500, ci: 200 },
  fixedWorkers: true,
  async workers(ctx) {
    proxy = await startTcpProxy(ctx.stack.temporalAddress);
    const p = proxy;
    ctx.onCleanup(() => p.close());
    return [{ name: 'steady' }, { name: 'cut', env: { TEMPORAL_ADDRESS: p.address } }];
  },
  knobs: BASE_KNOBS,
  // Calls may take 30 s at UPS: the timeout is above that, so the other worker's attempt waits them out.
  env: { ...BASE_ENV, SHIPBATCH_UPS_CALL_TIMEOUT: '45s' },
  concurrency: 12,
  rules: { reviewWhereUnanswered: false, noAmbiguity: false },
  // The cut worker's creates went on at UPS (slow ones) while it was cut off.
  planned: (ci) => ({ faults: partitions(ci), upsFaults: ['slow'] }),
  async schedule(ctx) {
    await atMoments(ctx, partitions(ctx.ci), [0.15, 0.6], async () => {
      const before = slowCreates(ctx.sandboxDir);
      await ctx.setKnobs({ rules: [{ tool: 'create_shipment', fault: 'slow', ms: 30_000 }] }, [CUT]);
      // Creates sent from now on last 30 s: cut once one is at UPS (the other session's may follow).
      for (let waited = 0; waited < 20_000 && slowCreates(ctx.sandboxDir) === before; waited += 250) {
        await ctx.sleep(250);
      }
      await ctx.sleep(1000);
      ctx.fault('partition worker cut from Temporal for 35 s');
      proxy!.partition();
      await ctx.sleep(35_000);
      proxy!.heal();
      await ctx.setKnobs({}, [CUT]);
    });
  },
};
