import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type pg from 'pg';
import { openPool } from '../../activities/db';
import { importFile, ImportError, readSourcePage } from '../../activities/source';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'import');
const EXAMPLES = path.join(import.meta.dirname, '..', '..', 'examples');
const suffix = randomUUID().slice(0, 8);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-import-'));
const CANARY = `imp_canary_${suffix}`;
let pool: pg.Pool;
let n = 0;
/** A fresh table name for each import. */
const table = (): string => `imp_${suffix}_${++n}`;

before(async () => {
  if (!process.env.DATABASE_URL) throw new Error('run through `npm test`, which starts PostgreSQL');
  pool = await openPool({ url: process.env.DATABASE_URL, max: 4 });
  await pool.query(`CREATE TABLE ${CANARY} (x int); INSERT INTO ${CANARY} VALUES (1)`);
});
after(async () => {
  const { rows } = await pool.query<{ t: string }>(
    `SELECT tablename AS t FROM pg_tables WHERE tablename LIKE $1`,
    [`imp_%${suffix}%`],
  );
  for (const r of rows) await pool.query(`DROP TABLE IF EXISTS "${r.t}"`);
  await pool.end();
  rmSync(tmp, { recursive: true, force: true });
});

async function columnsOf(t: string): Promise<string[]> {
  const { rows } = await pool.query<{ c: string }>(
    `SELECT a.attname || ':' || format_type(a.atttypid, a.atttypmod) ||
            CASE WHEN EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary
                              AND a.attnum = ANY (i.indkey)) THEN ' pk' ELSE '' END AS c
       FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [t],
  );
  return rows.map((r) => r.c);
}

async function tableExists(t: string): Promise<boolean> {
  const { rows } = await pool.query<{ e: boolean }>('SELECT to_regclass($1) IS NOT NULL AS e', [t]);
  return rows[0]?.e === true;
}

async function importRefused(
  opts: Parameters<typeof importFile>[1],
  message: RegExp,
  where?: { line?: number; column?: string },
): Promise<void> {
  await assert.rejects(importFile(pool, opts), (err: unknown) => {
    assert.ok(err instanceof ImportError, `an ImportError, got ${String(err)}`);
    assert.match(err.message, message);
    if (where?.line !== undefined) assert.equal(err.line, where.line);
    if (where?.column !== undefined) assert.equal(err.column, where.column);
    return true;
  });
}

test('examples/orders.csv (the demo input) imports cleanly with an added key and reads back', async () => {
  const t = table();
  const r = await importFile(pool, { file: path.join(EXAMPLES, 'orders.csv'), table: t });
  assert.equal(r.rows, 200);
  assert.equal(r.addedKey, true);
  assert.equal(r.keyColumn, 'id');
  assert.equal(r.table, `public.${t}`);
  assert.deepEqual(
    r.columns.map((c) => `${c.name}:${c.type}`),
    [
      'order_id:text',
      'name:text',
      'address1:text',
      'address2:text',
      'city:text',
      'state:text',
      'zip:text',
      'phone:text',
      'service:text',
      'weight_oz:integer',
      'item:text',
    ],
  );
  assert.equal((await columnsOf(t))[0], 'id:bigint pk');
  const page = await readSourcePage(pool, { table: t, keyColumn: 'id', limit: 2 });
  assert.deepEqual(page.rows[0], {
    key: '1',
    data: {
      id: 1,
      order_id: 'ORD-100001',
      name: 'Michael Davis',
      address1: '4112 Elm St',
      address2: null,
      city: 'Portland',
      state: 'OR',
      zip: '97204-6542',
      phone: '12525551001',
      service: 'ground',
      weight_oz: 413,
      item: 'Book set',
    },
  });
  // The added key continues after the file's rows.
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO ${t} (order_id) VALUES ('new') RETURNING id`,
  );
  assert.equal(rows[0]?.id, '201');
});

test('CSV header → sanitised names, types inferred (leading-zero ZIPs stay text), quotes and multi-line cells', async () => {
  const t = table();
  const r = await importFile(pool, { file: path.join(FIXTURES, 'typed.csv'), table: t });
  assert.deepEqual(r.columns, [
    { name: 'order_id', header: 'Order ID', type: 'text' },
    { name: 'name', header: 'Name', type: 'text' },
    { name: 'weight_oz', header: 'Weight (oz)', type: 'integer' },
    { name: 'price', header: 'Price', type: 'numeric' },
    { name: 'active', header: 'Active', type: 'boolean' },
    { name: 'ship_date', header: 'Ship Date', type: 'date' },
    { name: 'zip', header: 'ZIP', type: 'text' },
    { name: 'note', header: 'Note', type: 'text' },
  ]);
  const { rows } = await pool.query(`SELECT * FROM ${t} ORDER BY id`);
  assert.deepEqual(
    rows.map((x: Record<string, unknown>) => [
      x['id'],
      x['name'],
      x['price'],
      x['active'],
      x['zip'],
      x['note'],
    ]),
    [
      ['1', 'Ann', '9.50', true, '02134', null],
      ['2', 'Bob, Jr.', '10.25', false, '97204', 'says "hi"'],
      ['3', 'Cé', '0.75', true, '10001', 'multi\nline'],
    ],
  );
  // Overrides: a column forced to text, and a file column as the key.
  const t2 = table();
  const r2 = await importFile(pool, {
    file: path.join(FIXTURES, 'typed.csv'),
    table: t2,
    keyColumn: 'order_id',
    types: { 'Weight (oz)': 'text', zip: 'integer' },
  });
  assert.equal(r2.addedKey, false);
  assert.equal(r2.columns[2]?.type, 'text');
  assert.equal(r2.columns[6]?.type, 'integer');
  assert.deepEqual((await columnsOf(t2)).slice(0, 3), ['order_id:text pk', 'name:text', 'weight_oz:text']);
  await importRefused(
    { file: path.join(FIXTURES, 'typed.csv'), table: table(), types: { name: 'integer' } },
    /typed\.csv, line 2, column 2 \(name\): "Ann" is not an integer/,
    { line: 2, column: 'name' },
  );
  await importRefused(
    { file: path.join(FIXTURES, 'typed.csv'), table: table(), types: { nope: 'text' } },
    /type given for column "nope", which .* does not have \(columns: order_id, name,/,
  );
  await importRefused(
    { file: path.join(FIXTURES, 'typed.csv'), table: table(), types: { name: 'money' as 'text' } },
    /type "money" for column "name": use text, integer, numeric, boolean or date/,
  );
});

test('malformed CSV input fails with line and column, and creates nothing', async () => {
  const cases: [string, RegExp, { line?: number; column?: string }][] = [
    [
      'unterminated-quote.csv',
      /unterminated-quote\.csv, line 4: a quoted field is never closed/,
      { line: 4 },
    ],
    ['ragged.csv', /ragged\.csv, line 3: expected 3 fields like the header, got 2/, { line: 3 }],
    [
      'bad-closing-quote.csv',
      /bad-closing-quote\.csv, line 2, column 2 \(b\): unexpected character after a closing quote/,
      { line: 2, column: 'b' },
    ],
    [
      'duplicate-headers.csv',
      /columns 1 \("Name"\) and 2 \("name"\) both become column "name": rename one of them/,
      {},
    ],
    ['nul-byte.csv', /nul-byte\.csv, line 2, column 2 \(b\): contains a NUL byte/, { line: 2, column: 'b' }],
    ['empty.csv', /empty\.csv: the file is empty \(no header row\)/, {}],
    ['not-a-zip.xlsx', /not-a-zip\.xlsx: not a readable XLSX workbook/, {}],
    ['wrong-extension.xls', /old \.xls files are not supported; save it as \.xlsx or \.csv/, {}],
    ['null-key.csv', /key column "id" has empty values; every row needs a key/, { column: 'id' }],
    ['ragged.tsv', /ragged\.tsv, line 2: expected 2 fields like the header, got 3/, { line: 2 }],
    ['no-such-file.csv', /no-such-file\.csv: can't read it \(ENOENT\)/, {}],
  ];
  for (const [file, message, where] of cases) {
    const t = table();
    await importRefused({ file: path.join(FIXTURES, file), table: t }, message, where);
    assert.equal(await tableExists(t), false, `${file}: no table left behind`);
  }
  await importRefused(
    { file: path.join(FIXTURES, 'typed.csv'), table: 'x; DROP TABLE y' },
    /invalid table name/,
  );
  await importRefused(
    { file: path.join(FIXTURES, 'typed.csv'), table: `no_schema_${suffix}.orders` },
    /can't create table "no_schema_\w+\.orders": schema "no_schema_\w+" does not exist/,
  );
  await importRefused(
    { file: path.join(FIXTURES, 'typed.csv'), table: table(), keyColumn: 'id"--' },
    /invalid key column name/,
  );
});

test('TSV and a header-only file: an empty table with text columns', async () => {
  const tsv = path.join(tmp, 'orders.tsv');
  writeFileSync(tsv, 'Order ID\tName\nA-1\t"Quoted, with comma"\nA-2\tplain\n');
  const t = table();
  const r = await importFile(pool, { file: tsv, table: t });
  assert.equal(r.rows, 2);
  const { rows } = await pool.query<{ name: string }>(`SELECT name FROM ${t} ORDER BY id`);
  assert.deepEqual(
    rows.map((x) => x.name),
    ['Quoted, with comma', 'plain'],
  );
  const t2 = table();
  const r2 = await importFile(pool, { file: path.join(FIXTURES, 'header-only.csv'), table: t2 });
  assert.equal(r2.rows, 0);
  assert.deepEqual(await columnsOf(t2), ['id:bigint pk', 'a:text', 'b:text']);
});

test('hostile cell values are stored as data: formulas, SQL, quotes, backslashes, a 1 MB cell', async () => {
  const t = table();
  const r = await importFile(pool, { file: path.join(FIXTURES, 'hostile.csv'), table: t });
  assert.equal(r.addedKey, false, 'the file has an id column: it is the key');
  const { rows } = await pool.query<{ id: string; name: string; formula: string }>(
    `SELECT id::text, name, formula FROM ${t} ORDER BY id`,
  );
  assert.deepEqual(rows, [
    { id: '1', name: "x'; DROP TABLE canary; --", formula: "=cmd|' /C calc'!A0" },
    { id: '2', name: "Robert'); DROP TABLE students;--", formula: "@SUM(1+1)*cmd|' /C calc'!A0" },
    // The file holds two backslashes before "x00" and before the quote: stored as they are.
    { id: '3', name: "\\\\x00 \\\\' $$ dollar $$", formula: '+1+1' },
  ]);
  const big = 'A'.repeat(1024 * 1024) + "'; DROP TABLE " + CANARY;
  const file = path.join(tmp, 'big.csv');
  writeFileSync(file, `k,v\n1,"${big}"\n2,small\n`);
  const t2 = table();
  assert.equal((await importFile(pool, { file, table: t2 })).rows, 2);
  const got = await pool.query<{ len: number; tail: string }>(
    `SELECT length(v) AS len, right(v, 30) AS tail FROM ${t2} WHERE k = 1`,
  );
  assert.equal(got.rows[0]?.len, big.length);
  assert.equal(got.rows[0]?.tail, big.slice(-30));
  await importRefused(
    { file, table: table(), limits: { maxCellChars: 300_000 } },
    /big\.csv, line 2, column 2 \(v\): 1048\d+ characters, more than the limit of 300000/,
    { line: 2, column: 'v' },
  );
  await importRefused(
    { file, table: table(), limits: { maxCellChars: 1000 } },
    /big\.csv, line 2: the record is larger than the limit \(cells of at most 1000 characters\)/,
    { line: 2 },
  );
  await importRefused({ file, table: table(), limits: { maxRows: 1 } }, /more than 1 rows, the import limit/);
  await importRefused(
    { file, table: table(), limits: { maxFileBytes: 1000 } },
    /bytes, more than the import limit of 1000/,
  );
  const { rows: canary } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${CANARY}`);
  assert.equal(canary[0]?.n, 1);
});

test('atomic: a failing import (duplicate key) leaves an existing table exactly as it was; replace', async () => {
  const t = table();
  await importFile(pool, { file: path.join(FIXTURES, 'typed.csv'), table: t });
  const before = await pool.query(`SELECT * FROM ${t} ORDER BY id`);
  // Without replace: refused, naming the table and --replace.
  await importRefused(
    { file: path.join(FIXTURES, 'hostile.csv'), table: t },
    new RegExp(`table "${t}" already exists: use --replace to overwrite it`),
  );
  // With replace, but the new file's key is not unique: rolled back, old table intact.
  await importRefused(
    { file: path.join(FIXTURES, 'duplicate-key.csv'), table: t, replace: true },
    /key column "id" is not unique: value "2" appears more than once/,
  );
  assert.deepEqual((await pool.query(`SELECT * FROM ${t} ORDER BY id`)).rows, before.rows);
  assert.equal((await columnsOf(t)).length, 9);
  // A ragged file with replace: also nothing changes.
  await importRefused({ file: path.join(FIXTURES, 'ragged.csv'), table: t, replace: true }, /line 3/);
  assert.deepEqual((await pool.query(`SELECT * FROM ${t} ORDER BY id`)).rows, before.rows);
  // A good file with replace: replaced.
  const r = await importFile(pool, { file: path.join(FIXTURES, 'hostile.csv'), table: t, replace: true });
  assert.equal(r.rows, 3);
  assert.deepEqual(await columnsOf(t), ['id:bigint pk', 'name:text', 'formula:text']);
  // A view is never replaced.
  const v = table();
  await pool.query(`CREATE VIEW ${v} AS SELECT 1 AS x`);
  await importRefused(
    { file: path.join(FIXTURES, 'typed.csv'), table: v, replace: true },
    /is a view, not a table: --replace only replaces tables/,
  );
  await pool.query(`DROP VIEW ${v}`);
});

async function writeXlsx(
  file: string,
  rows: unknown[][],
  extra?: (ws: ExcelJS.Worksheet) => void,
): Promise<void> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Orders');
  for (const r of rows) ws.addRow(r);
  extra?.(ws);
  await wb.xlsx.writeFile(file);
}

test('XLSX: typed cells, dates, formulas stored as their cached result, rich text; errors name the cell', async () => {
  const file = path.join(tmp, 'orders.xlsx');
  await writeXlsx(
    file,
    [
      ['Order ID', 'Name', 'Weight', 'Price', 'Ships', 'Paid'],
      ['X-1', 'Ann', 12, 9.5, new Date(Date.UTC(2024, 2, 1)), true],
      ['X-2', "'; DROP TABLE x; --", 7, 10.25, new Date(Date.UTC(2024, 2, 2)), false],
    ],
    (ws) => {
      ws.addRow(['X-3', { richText: [{ text: 'Rich ' }, { text: 'Text' }] }, 3, 1.5, null, true]);
      ws.addRow(['X-4', { formula: "CMD|' /C calc'!A0", result: '=cmd result' }, 4, 2, null, false]);
    },
  );
  const t = table();
  const r = await importFile(pool, { file, table: t });
  assert.equal(r.rows, 4);
  assert.deepEqual(
    r.columns.map((c) => `${c.name}:${c.type}`),
    ['order_id:text', 'name:text', 'weight:integer', 'price:numeric', 'ships:date', 'paid:boolean'],
  );
  const { rows } = await pool.query<{ name: string; ships: string | null; price: string; paid: boolean }>(
    `SELECT name, ships::text, price::text, paid FROM ${t} ORDER BY id`,
  );
  assert.deepEqual(rows, [
    { name: 'Ann', ships: '2024-03-01', price: '9.5', paid: true },
    { name: "'; DROP TABLE x; --", ships: '2024-03-02', price: '10.25', paid: false },
    { name: 'Rich Text', ships: null, price: '1.5', paid: true },
    { name: '=cmd result', ships: null, price: '2', paid: false },
  ]);

  // A value right of the header is refused with its row and column.
  const ragged = path.join(tmp, 'ragged.xlsx');
  await writeXlsx(ragged, [
    ['a', 'b'],
    [1, 2],
    [3, 4, 'extra'],
  ]);
  await importRefused(
    { file: ragged, table: table() },
    /ragged\.xlsx, line 3, column 3: a value right of the last header column/,
    {
      line: 3,
    },
  );
  const bad = path.join(tmp, 'types.xlsx');
  await writeXlsx(bad, [
    ['a', 'b'],
    [1, 'x'],
  ]);
  await importRefused(
    { file: bad, table: table(), types: { b: 'date' } },
    /types\.xlsx, line 2, column 2 \(b\): "x" is not a date \(YYYY-MM-DD\)/,
    { line: 2, column: 'b' },
  );
  await importRefused(
    { file: bad, table: table(), sheet: 'Nope' },
    /no worksheet named "Nope" \(worksheets: Orders\)/,
  );
});
