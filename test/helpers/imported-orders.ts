/**
 * An orders table as `shipbatch import` leaves it for the agent server: created and recorded in
 * `imported_tables`, so it is on the agent's default allow-list of sources.
 */
import type pg from 'pg';
import { recordImportedTable } from '../../inputs/source/imported-tables';
import { createOrdersTable, type Order } from './batch';

/** A fresh orders table in `public`, recorded as imported; returns its name. */
export async function createImportedOrdersTable(pool: pg.Pool, orders: readonly Order[]): Promise<string> {
  const table = await createOrdersTable(pool, orders);
  await recordImported(pool, 'public', table);
  return table;
}

/** Record an existing table as imported. */
export async function recordImported(pool: pg.Pool, schema: string, table: string): Promise<void> {
  const client = await pool.connect();
  try {
    await recordImportedTable(client, schema, table, 'orders.csv');
  } finally {
    client.release();
  }
}
