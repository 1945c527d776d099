/** `count` calls with `inFlight` at a time: calls per second and per-call latency as the caller sees it. */
import { percentile } from './stats';

export interface CallRate {
  calls: number;
  seconds: number;
  perS: number;
  p50Ms: number;
  p99Ms: number;
}

export async function measureCalls(
  count: number,
  inFlight: number,
  call: (i: number) => Promise<unknown>,
): Promise<CallRate> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(inFlight, count) }, async () => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        await call(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    calls: count,
    seconds,
    perS: count / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}
