/**
 * Batch test fixtures: a source table of orders in the real PostgreSQL, the example template and shipper,
 * and helpers to start a batch and wait for a phase.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type pg from 'pg';
import type { BatchInputArg, BatchStatus } from '../../domain/batch';
import type { BatchPhase } from '../../domain/row-status';
import { statusQuery } from '../../domain/messages';
import type { Shipper } from '../../domain/shipment-schema';
import { shipmentBatch } from '../../workflows';

const EXAMPLES = path.join(import.meta.dirname, '..', '..', 'examples');
export const TEMPLATE = readFileSync(path.join(EXAMPLES, 'template.njk'), 'utf8');
export const SHIPPER = JSON.parse(readFileSync(path.join(EXAMPLES, 'shipper.json'), 'utf8')) as Shipper;

export interface Order {
  order_id: string;
  name: string;
  address1: string;
  address2: string | null;
  city: string;
  state: string;
  zip: string;
  phone: string;
  service: string;
  weight_oz: number;
  item: string;
}

const NAMES = [
  'Michael Davis',
  'Sofia Lewis',
  'Ana María Núñez',
  'Dwayne "The Rock" Johnson',
  'Li Wei',
  'Zoë Brooks',
];
const CITIES = [
  ['Portland', 'OR', '97204'],
  ['Houston', 'TX', '77002'],
  ['Denver', 'CO', '80202'],
  ['Chicago', 'IL', '60601'],
  ['Boston', 'MA', '02108'],
] as const;

/** `n` valid orders, deterministic; `tweak(i, order)` may change any of them. */
export function makeOrders(n: number, tweak?: (i: number, o: Order) => void): Order[] {
  return Array.from({ length: n }, (_, i) => {
    const [city, state, zip] = CITIES[i % CITIES.length]!;
    const o: Order = {
      order_id: `ORD-${100001 + i}`,
      name: NAMES[i % NAMES.length]!,
      address1: `${100 + i} Elm St`,
      address2: i % 7 === 0 ? 'Apt 4\\B' : null,
      city,
      state,
      zip,
      phone: `(512) 555-${String(1000 + (i % 9000)).padStart(4, '0')}`,
      service: i % 3 === 0 ? 'overnight' : 'ground',
      weight_oz: 16 + (i % 40),
      item: 'Book set',
    };
    tweak?.(i, o);
    return o;
  });
}

/** A fresh source table holding `orders` (key column `id`, 1..n); returns its name. */
export async function createOrdersTable(
  pool: pg.Pool,
  orders: readonly Order[],
  prefix = 'orders',
): Promise<string> {
  const table = `${prefix}_${randomUUID().slice(0, 8)}`;
  await pool.query(`CREATE TABLE ${table} (
    id serial PRIMARY KEY, order_id text, name text, address1 text, address2 text, city text, state text,
    zip text, phone text, service text, weight_oz integer, item text, tracking text)`);
  if (orders.length > 0) {
    await pool.query(
      `INSERT INTO ${table} (order_id, name, address1, address2, city, state, zip, phone, service, weight_oz, item)
       SELECT order_id, name, address1, address2, city, state, zip, phone, service, weight_oz, item
         FROM jsonb_to_recordset($1::jsonb) AS t(order_id text, name text, address1 text, address2 text, city text,
              state text, zip text, phone text, service text, weight_oz integer, item text)`,
      [JSON.stringify(orders)],
    );
  }
  return table;
}

export function batchInput(table: string, extra: Partial<BatchInputArg> = {}): BatchInputArg {
  return { source: { table }, template: TEMPLATE, shipper: SHIPPER, mode: 'confirm', ...extra };
}

export async function startBatch(
  client: Client,
  taskQueue: string,
  input: BatchInputArg,
  id = `batch-t${randomUUID().slice(0, 8)}`,
): Promise<WorkflowHandle<typeof shipmentBatch>> {
  return client.workflow.start(shipmentBatch, {
    taskQueue,
    workflowId: id,
    args: [input],
    workflowExecutionTimeout: '10m',
    staticSummary: `Batch ${input.name ?? id}: ${input.mode ?? 'confirm'}`,
  });
}

/** Poll the status query until `pred` holds (or fail after `timeoutMs`, showing the last status). */
export async function waitForStatus(
  handle: WorkflowHandle,
  pred: (s: BatchStatus) => boolean,
  timeoutMs = 60_000,
): Promise<BatchStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: BatchStatus | undefined;
  while (Date.now() < deadline) {
    try {
      last = await handle.query(statusQuery);
      if (pred(last)) return last;
    } catch {
      // not started yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting; last status: ${JSON.stringify(last)}`);
}

export const inPhase =
  (...phases: BatchPhase[]) =>
  (s: BatchStatus) =>
    phases.includes(s.phase);

/** The first weekday at least `days` from now (UTC), YYYY-MM-DD: a future-day pickup whatever the time of day. */
export function weekdayAhead(days: number): string {
  const d = new Date(Date.now() + days * 86_400_000);
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}
