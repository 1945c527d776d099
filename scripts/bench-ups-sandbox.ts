/**
 * Benchmark: UPS calls through the real client and its session pool to serial sandboxes over stdio
 * (how the worker calls UPS; each sandbox process answers one call at a time, like the real server).
 * create_shipment rows/s for pool sizes 1, 4 and 16 with 32 calls in flight (the worker's activity
 * slots): without added latency (the sandbox's own CPU: GIF labels) and with a simulated UPS round trip
 * (BENCH_UPS_LATENCY_MS, default 300 ms), where the pool is what sets the pace. Also rate_shipment and
 * recover_label. Prints calls/s and per-call latency p50/p99 as the caller sees it (waiting for a free
 * session included). BENCH_SHIPMENTS sets the create count without latency (default 400),
 * BENCH_LATENCY_SHIPMENTS with it (default 96), BENCH_POOLS the pool sizes (default "1 4 16").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UpsClient } from '../activities/ups/client';
import { sandboxTarget } from '../activities/ups/connection';
import { UpsSessionPool } from '../activities/ups/session-pool';
import type { ShipmentRequestBody } from '../domain/shipment-schema';
import { loadConfig } from '../temporal.config';
import { exampleShipper as shipper, renderRequests, requestReference } from '../bench/requests';

const N = Number(process.env.BENCH_SHIPMENTS ?? 400);
const N_LATENCY = Number(process.env.BENCH_LATENCY_SHIPMENTS ?? 96);
const LATENCY_MS = Number(process.env.BENCH_UPS_LATENCY_MS ?? 300);
const POOLS = (process.env.BENCH_POOLS ?? '1 4 16').split(/\s+/).filter(Boolean).map(Number);
const IN_FLIGHT = 32;

const prepared = await renderRequests(N + 1 + POOLS.reduce((sum, size) => sum + size + N + N_LATENCY, 0));
let seq = 0;
const references: string[] = [];
function request(): ShipmentRequestBody {
  const r = prepared[seq++];
  if (!r) throw new Error('the benchmark ran out of prepared requests');
  const ref = requestReference(r);
  if (ref) references.push(ref);
  return r;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

async function run(
  label: string,
  count: number,
  inFlight: number,
  call: () => Promise<unknown>,
): Promise<void> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        next += 1;
        const t = performance.now();
        await call();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(40)} ${String(count).padStart(5)} calls  ${(count / seconds).toFixed(0).padStart(5)}/s  ` +
      `p50 ${percentile(latencies, 0.5).toFixed(1)} ms  p99 ${percentile(latencies, 0.99).toFixed(1)} ms`,
  );
}

const tools = loadConfig({}).ups.tools;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-bench-ups-'));
const knobsFile = path.join(dataDir, 'knobs.json');
const setKnobs = (knobs: Record<string, unknown>) => writeFileSync(knobsFile, JSON.stringify(knobs));
setKnobs({});
const target = sandboxTarget({ UPS_SANDBOX_DATA_DIR: dataDir, UPS_SANDBOX_KNOBS_FILE: knobsFile });

/** A client over a pool of `size` serial sandboxes, every process started and warmed up. */
async function openPool(size: number): Promise<UpsClient> {
  const pool = UpsSessionPool.forTarget(target, size);
  const client = new UpsClient(pool, { tools, callTimeoutMs: 120_000 });
  const t = performance.now();
  setKnobs({});
  // One create per session: spawn, MCP initialize, fonts for the first label.
  await Promise.all(Array.from({ length: size }, () => client.createShipment(request())));
  console.log(
    `pool of ${String(size).padStart(2)}: ${size} sandbox process(es) started and warm in ${(performance.now() - t).toFixed(0)} ms`,
  );
  return client;
}

const clients: UpsClient[] = [];
try {
  const single = await openPool(1);
  clients.push(single);
  await run('rate_shipment, pool 1, sequential', N, 1, () => single.rateShipmentRequest(request()));
  references.length = 0; // only shipped references can be recovered
  for (const size of POOLS) {
    const client = size === 1 ? single : await openPool(size);
    if (client !== single) clients.push(client);
    setKnobs({});
    await run(`create_shipment, pool ${size}, no latency`, N, IN_FLIGHT, () =>
      client.createShipment(request()),
    );
    setKnobs({ latency: { kind: 'fixed', ms: LATENCY_MS } });
    await run(`create_shipment, pool ${size}, UPS ${LATENCY_MS} ms`, N_LATENCY, IN_FLIGHT, () =>
      client.createShipment(request()),
    );
    setKnobs({});
    if (client !== single) {
      await client.close();
      clients.splice(clients.indexOf(client), 1);
    }
  }
  await run('recover_label by reference, pool 1', Math.min(N, 200), 8, () =>
    single.recoverByReference(
      references[Math.floor(Math.random() * references.length)]!,
      shipper.ShipperNumber,
    ),
  );
  console.log(
    `${IN_FLIGHT} calls in flight; the sandbox answers one call at a time per process (knob "concurrency"); ` +
      `with UPS latency L a pool of N sessions tops out near N/L calls/s`,
  );
  console.log(`benchmark process peak RSS ${Math.round(process.memoryUsage().rss / 1e6)} MB (client side)`);
} finally {
  await Promise.all(clients.map((c) => c.close()));
  rmSync(dataDir, { recursive: true, force: true });
}
