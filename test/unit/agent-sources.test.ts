/**
 * The agent's table names: `source_table` and `--tables` entries as plain or double-quoted identifiers,
 * exact as given; anything else is refused (the allow-list itself is tested against PostgreSQL in
 * test/e2e/agent-security.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTableList, splitTableName } from '../../agent/sources';

test('splitTableName: plain or quoted parts, exact case; anything else is null', () => {
  assert.deepEqual(splitTableName('orders'), { table: 'orders' });
  assert.deepEqual(splitTableName('public.orders'), { schema: 'public', table: 'orders' });
  assert.deepEqual(splitTableName('"Orders"'), { table: 'Orders' });
  assert.deepEqual(splitTableName('Orders'), { table: 'Orders' });
  assert.deepEqual(splitTableName(' "public"."Orders" '), { schema: 'public', table: 'Orders' });
  assert.deepEqual(splitTableName('public."orders"'), { schema: 'public', table: 'orders' });
  for (const bad of [
    '',
    '"',
    '""',
    '"a"b',
    'a.b.c',
    '"a.b"',
    '"a""b"',
    'a.',
    '.a',
    'a b',
    'orders;drop',
    '"orders"; drop table x',
    'db.public.orders',
  ]) {
    assert.equal(splitTableName(bad), null, JSON.stringify(bad));
  }
});

test('parseTableList: commas or spaces, several flags; the first bad entry is named', () => {
  assert.deepEqual(parseTableList(['public.orders, "Returns"', 'shop.paid']), [
    { schema: 'public', table: 'orders' },
    { table: 'Returns' },
    { schema: 'shop', table: 'paid' },
  ]);
  assert.throws(() => parseTableList(['orders, x;y']), /invalid table name "x;y"/);
  assert.throws(() => parseTableList([' , ']), /no table given/);
});
