import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestPool } from '../helpers/test-pool';
import { migrate } from '../../db/migrate';
import { ROW_STATUSES } from '../../domain/row-status';
import type pg from 'pg';

let pool: pg.Pool;
useTestPool((p) => (pool = p));

test('migrations are idempotent, also when several processes apply them at once', async () => {
  const results = await Promise.all([migrate(pool), migrate(pool), migrate(pool)]);
  assert.deepEqual(results, [[], [], []], 'the harness applied them already; nothing is applied twice');
  const { rows } = await pool.query<{ version: string }>(
    'SELECT version FROM schema_migrations ORDER BY version',
  );
  const files = (await readdir(path.join(import.meta.dirname, '..', '..', 'db', 'migrations')))
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort();
  assert.ok(files.length >= 2);
  assert.deepEqual(
    rows.map((r) => r.version),
    files,
    'every migration file is recorded once',
  );
});

test('the ledger tables carry the lookups’ indexes', async () => {
  const { rows } = await pool.query<{ indexname: string }>(
    `SELECT indexname FROM pg_indexes WHERE tablename IN ('batches', 'batch_rows', 'labels')`,
  );
  const names = rows.map((r) => r.indexname);
  for (const idx of [
    'batch_rows_status_idx',
    'batch_rows_reference_idx',
    'labels_tracking_idx',
    'batches_phase_idx',
  ]) {
    assert.ok(names.includes(idx), `${idx} exists`);
  }
});

test('row states are exactly those of docs/design.md §4, enforced by the database', async () => {
  await pool.query(
    `INSERT INTO batches (batch_id, mode, phase, source_table, template, shipper)
     VALUES ('batch-migration-test', 'confirm', 'loading', 'orders', '{}', '{}')`,
  );
  try {
    for (const [i, status] of ROW_STATUSES.entries()) {
      await pool.query(
        `INSERT INTO batch_rows (batch_id, row_no, source_key, data, checksum, status, reference)
         VALUES ('batch-migration-test', $1, $2, '{}', 'x', $3, $4)`,
        [i + 1, String(i + 1), status, `SBMIGTEST-${i + 1}`],
      );
    }
    await assert.rejects(
      pool.query(
        `INSERT INTO batch_rows (batch_id, row_no, source_key, data, checksum, status, reference)
         VALUES ('batch-migration-test', 99, '99', '{}', 'x', 'lost', 'SBMIGTEST-99')`,
      ),
      /batch_rows_status_check/,
    );
    await assert.rejects(
      pool.query(
        `INSERT INTO batch_rows (batch_id, row_no, source_key, data, checksum, reference)
         VALUES ('batch-migration-test', 100, '100', '{}', 'x', 'SBMIGTEST-1')`,
      ),
      /batch_rows_reference_idx/,
      'a UPS reference belongs to one row only',
    );
  } finally {
    await pool.query(`DELETE FROM batches WHERE batch_id = 'batch-migration-test'`);
  }
});
