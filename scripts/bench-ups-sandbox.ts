/**
 * Benchmark: UPS calls through the real client to the sandbox over stdio (how the worker calls UPS):
 * rate_shipment and create_shipment (with a GIF label each), sequential and with 8 and 32 in flight.
 * Prints calls/s and per-call latency p50/p99. BENCH_SHIPMENTS sets the create count (default 400).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UpsClient } from '../activities/ups/client';
import { sandboxTarget, UpsMcpConnection } from '../activities/ups/connection';
import type { ShipmentRequestBody } from '../domain/shipment-schema';
import { loadConfig } from '../temporal.config';
import { readFileSync } from 'node:fs';
import { prepareTemplate, renderShipmentRequest } from '../activities/template/render';
import { ShipperSchema } from '../domain/shipment-schema';
import { BAD_ROWS, generateOrders } from './gen-example-orders';

const N = Number(process.env.BENCH_SHIPMENTS ?? 400);
const root = new URL('../examples/', import.meta.url);
const shipper = ShipperSchema.parse(JSON.parse(readFileSync(new URL('shipper.json', root), 'utf8')));
const prepared = prepareTemplate(readFileSync(new URL('template.njk', root), 'utf8'));
if (!prepared.ok) throw new Error(prepared.error);
const template = prepared.template;
const bad = new Set<number>(Object.values(BAD_ROWS));
const good = generateOrders().filter((_, i) => !bad.has(i + 1));

let seq = 0;
const references: string[] = [];
function request(): ShipmentRequestBody {
  seq += 1;
  references.push(`SBbench-${seq}`);
  const r = renderShipmentRequest(template, good[seq % good.length]!, seq, shipper, {
    id: 'batch-bench',
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.request;
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
    `${label.padEnd(34)} ${String(count).padStart(5)} calls  ${(count / seconds).toFixed(0).padStart(5)}/s  ` +
      `p50 ${percentile(latencies, 0.5).toFixed(1)} ms  p99 ${percentile(latencies, 0.99).toFixed(1)} ms`,
  );
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-bench-ups-'));
const client = new UpsClient(new UpsMcpConnection(sandboxTarget({ UPS_SANDBOX_DATA_DIR: dataDir })), {
  tools: loadConfig({}).ups.tools,
  callTimeoutMs: 60_000,
});
try {
  const t = performance.now();
  await client.connection.listTools();
  console.log(`sandbox start-up (spawn + MCP initialize): ${(performance.now() - t).toFixed(0)} ms`);
  await client.createShipment(request()); // warm-up: fonts, first label
  await run('rate_shipment, sequential', N, 1, () => client.rateShipmentRequest(request()));
  references.length = 0; // only shipped references can be recovered
  await run('create_shipment, sequential', N, 1, () => client.createShipment(request()));
  await run('create_shipment, 8 in flight', N, 8, () => client.createShipment(request()));
  await run('create_shipment, 32 in flight', N, 32, () => client.createShipment(request()));
  await run('recover_label by reference, 8 in flight', Math.min(N, 200), 8, () =>
    client.recoverByReference(
      references[Math.floor(Math.random() * references.length)]!,
      shipper.ShipperNumber,
    ),
  );
  console.log(`benchmark process peak RSS ${Math.round(process.memoryUsage().rss / 1e6)} MB (client side)`);
} finally {
  await client.close();
  rmSync(dataDir, { recursive: true, force: true });
}
