/** Source tables of generated orders for the benchmarks, filled inside PostgreSQL in one statement. */
import type pg from 'pg';
import { generateOrders } from '../scripts/gen-example-orders';

/**
 * A source table of `n` orders: the 200 example orders repeated (so 2 % are invalid, as in the examples),
 * text columns as a CSV import makes them, with unique order ids. One round trip, not n.
 */
export async function createSourceTable(pool: pg.Pool, table: string, n: number): Promise<void> {
  const base = generateOrders();
  const cols = Object.keys(base[0]!);
  const defs = cols.map((c) => `${c} text`).join(', ');
  await pool.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, ${defs}, tracking text)`);
  const client = await pool.connect();
  try {
    await client.query(
      `CREATE TEMP TABLE seed AS SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(${defs})`,
      [JSON.stringify(base)],
    );
    await client.query(
      `INSERT INTO ${table} (${cols.join(', ')})
       SELECT ${cols.map((c) => (c === 'order_id' ? `'ORD-' || (g * 1000 + s.n)` : `s.${c}`)).join(', ')}
         FROM generate_series(0, $1::int - 1) AS g
         CROSS JOIN LATERAL (SELECT seed.*, row_number() OVER () AS n FROM seed) AS s
        WHERE g * ${base.length} + s.n <= $2
        ORDER BY g, s.n`,
      [Math.ceil(n / base.length), n],
    );
    await client.query('DROP TABLE seed');
  } finally {
    client.release();
  }
}
