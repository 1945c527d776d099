import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type pg from 'pg';
import { openPool } from '../../db/pool';
import { importFile, ImportError } from '../../client/cli/import/import';
import { readSourcePage } from '../../inputs/source';
import {
  row as xrow,
  sharedStrings as xsharedStrings,
  workbookParts,
  worksheet,
  writeWorkbook,
  writeZip,
  type WorkbookSpec,
} from '../helpers/xlsx-builder';

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
  await pool.query('DELETE FROM imported_tables WHERE table_name LIKE $1', [`imp_%${suffix}%`]);
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

async function importedRecord(t: string): Promise<{ schema_name: string; file_name: string } | undefined> {
  const { rows } = await pool.query<{ schema_name: string; file_name: string }>(
    'SELECT schema_name, file_name FROM imported_tables WHERE table_name = $1',
    [t],
  );
  return rows[0];
}

test('imported_tables: a successful import is recorded in its own transaction, a failed one is not', async () => {
  const t = table();
  await importFile(pool, { file: path.join(FIXTURES, 'typed.csv'), table: t });
  assert.deepEqual(await importedRecord(t), { schema_name: 'public', file_name: 'typed.csv' });
  // A failed replace leaves the record as it was (the file name is still the first one).
  await importRefused(
    { file: path.join(FIXTURES, 'duplicate-key.csv'), table: t, replace: true },
    /key column "id" is not unique/,
  );
  assert.deepEqual(await importedRecord(t), { schema_name: 'public', file_name: 'typed.csv' });
  // A replace records the new file.
  await importFile(pool, { file: path.join(FIXTURES, 'hostile.csv'), table: t, replace: true });
  assert.deepEqual(await importedRecord(t), { schema_name: 'public', file_name: 'hostile.csv' });
  // Failures before and inside the transaction record nothing.
  for (const file of ['duplicate-key.csv', 'ragged.csv', 'not-a-zip.xlsx']) {
    const t2 = table();
    await assert.rejects(importFile(pool, { file: path.join(FIXTURES, file), table: t2 }), ImportError);
    assert.equal(await importedRecord(t2), undefined, file);
  }
});

test('a database no worker has started on: a bad file changes nothing, a good one makes the ledger tables and is recorded', async () => {
  const db = `imp_fresh_${suffix}`;
  await pool.query(`CREATE DATABASE ${db}`);
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${db}`;
  const fresh = await openPool({ url: url.toString(), max: 2 });
  const tables = async (): Promise<string[]> =>
    (
      await fresh.query<{ t: string }>(
        `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`,
      )
    ).rows.map((r) => r.t);
  try {
    await assert.rejects(
      importFile(fresh, { file: path.join(FIXTURES, 'ragged.csv'), table: 'orders' }),
      ImportError,
    );
    assert.deepEqual(await tables(), [], 'a refused file leaves the database as it was');
    await importFile(fresh, { file: path.join(FIXTURES, 'typed.csv'), table: 'orders' });
    const made = await tables();
    for (const t of ['orders', 'imported_tables', 'batches', 'batch_rows', 'schema_migrations']) {
      assert.ok(made.includes(t), `${t} exists after the import (${made.join(', ')})`);
    }
    const { rows } = await fresh.query('SELECT schema_name, table_name, file_name FROM imported_tables');
    assert.deepEqual(rows, [{ schema_name: 'public', table_name: 'orders', file_name: 'typed.csv' }]);
  } finally {
    await fresh.end();
    await pool.query(`DROP DATABASE IF EXISTS ${db}`);
  }
});

test('CSV: the column limit holds while parsing; quoted delimiters and newlines do not count', async () => {
  const quoted = path.join(tmp, 'quoted-commas.csv');
  const commas = ','.repeat(2000);
  writeFileSync(quoted, `a,b\r\n"${commas}","x\n${commas}\ny"\r\n1,2\r\n`);
  const t = table();
  assert.equal((await importFile(pool, { file: quoted, table: t, limits: { maxColumns: 3 } })).rows, 2);
  const { rows } = await pool.query<{ a: string }>(`SELECT a FROM ${t} ORDER BY id`);
  assert.equal(rows[0]?.a, commas);
  const wide = path.join(tmp, 'wide.csv');
  writeFileSync(wide, 'a,b,c\n1,2,3\n"x,y",2,3,4\n');
  await importRefused(
    { file: wide, table: table(), limits: { maxColumns: 3 } },
    /wide\.csv, line 3: more than 3 columns, the column limit/,
    { line: 3 },
  );
  await importRefused(
    { file: wide, table: table(), limits: { maxColumns: 2 } },
    /wide\.csv, line 1: more than 2 columns, the column limit/,
    { line: 1 },
  );
  // Past the default: 501 fields on one line.
  const many = path.join(tmp, 'many.csv');
  writeFileSync(many, `a\n${','.repeat(500)}\n`);
  await importRefused(
    { file: many, table: table() },
    /many\.csv, line 2: more than 500 columns, the column limit/,
  );
});

/** An XLSX file in the temp dir from parts given as a spec. */
async function xlsx(name: string, spec: WorkbookSpec): Promise<string> {
  const file = path.join(tmp, name);
  await writeWorkbook(file, spec);
  return file;
}

const HEAD = xrow(1, ['a', 'b']);

test('XLSX: every limit holds while reading, names the sheet or part, and creates nothing', async () => {
  const plain = await xlsx('plain.xlsx', {
    sheets: [{ name: 'Orders', xml: worksheet(HEAD + xrow(2, ['x', 1])) }],
    sharedStrings: xsharedStrings(['one', 'two', 'three']),
  });
  const cases: [string, Parameters<typeof importFile>[1], RegExp][] = [
    [
      'unpacked bytes',
      { file: plain, table: table(), limits: { maxInflatedBytes: 1000 } },
      /plain\.xlsx: .* would take the workbook past 1000 unpacked bytes, the import limit/,
    ],
    [
      'shared strings count',
      { file: plain, table: table(), limits: { maxSharedStrings: 2 } },
      /plain\.xlsx: xl\/sharedStrings\.xml holds more than 2 shared strings, the limit/,
    ],
    [
      'shared strings bytes',
      { file: plain, table: table(), limits: { maxSharedStringBytes: 8 } },
      /plain\.xlsx: the shared strings of xl\/sharedStrings\.xml add up to more than 8 bytes, the limit/,
    ],
    [
      'shared string length',
      { file: plain, table: table(), limits: { maxCellChars: 4 } },
      /plain\.xlsx: shared string 3 in xl\/sharedStrings\.xml is longer than 4 characters, the cell limit/,
    ],
  ];
  // A short string used by many cells costs its size each time: the same budget as unpacking.
  const reused = await xlsx('reused.xlsx', {
    sheets: [
      {
        name: 'Orders',
        xml: worksheet(
          HEAD +
            Array.from(
              { length: 2000 },
              (_, i) => `<row r="${i + 2}"><c r="A${i + 2}" t="s"><v>0</v></c></row>`,
            ).join(''),
        ),
      },
    ],
    sharedStrings: xsharedStrings(['x'.repeat(1000)]),
  });
  cases.push([
    'shared strings reused',
    { file: reused, table: table(), limits: { maxInflatedBytes: 1_000_000 } },
    /reused\.xlsx: sheet "Orders" \(xl\/worksheets\/sheet1\.xml\) would take the workbook past 1000000 unpacked bytes/,
  ]);
  const row3 = await xlsx('row3.xlsx', {
    sheets: [
      {
        name: 'Orders',
        xml: worksheet(xrow(1, ['a', 'b', 'c']) + xrow(2, ['0123456789', 'abcdefghij', 'ABCDEFGHIJ'])),
      },
    ],
  });
  cases.push(
    [
      'record',
      { file: row3, table: table(), limits: { maxRecordChars: 25 } },
      /row3\.xlsx, sheet "Orders", line 2: the row is longer than 25 characters, the record limit/,
    ],
    [
      'cell (inline string)',
      { file: row3, table: table(), limits: { maxCellChars: 9 } },
      /row3\.xlsx, sheet "Orders", line 2, column 1: longer than 9 characters, the cell limit/,
    ],
  );
  const formula = await xlsx('formula.xlsx', {
    sheets: [
      { name: 'Orders', xml: worksheet(HEAD + `<row r="2"><c r="A2"><f>${'1+'.repeat(100)}1</f></c></row>`) },
    ],
  });
  cases.push([
    'formula text',
    { file: formula, table: table(), limits: { maxCellChars: 100 } },
    /formula\.xlsx, sheet "Orders", line 2, column 1: longer than 100 characters, the cell limit/,
  ]);
  const sheetCases: [string, string, RegExp][] = [
    [
      'far right',
      HEAD + '<row r="2"><c r="XFD2"><v>1</v></c></row>',
      /sheet "Orders", line 2, column 16384: a value past column 500, the column limit/,
    ],
    [
      'row number',
      HEAD + '<row r="1048577"><c r="A1048577"><v>1</v></c></row>',
      /sheet "Orders": a row number "1048577" outside 1…1048576/,
    ],
    [
      'cell reference',
      HEAD + '<row r="2"><c r="XFE2"><v>1</v></c></row>',
      /sheet "Orders", line 2: a cell reference "XFE2" that is not between A1 and XFD1048576/,
    ],
    [
      'shared string index',
      HEAD + '<row r="2"><c r="A2" t="s"><v>7</v></c></row>',
      /sheet "Orders", line 2, column 1: shared string 7 does not exist \(the workbook has 0\)/,
    ],
    [
      'cell type',
      HEAD + '<row r="2"><c r="A2" t="evil"><v>1</v></c></row>',
      /sheet "Orders", line 2, column 1: a cell type "evil" that XLSX does not define/,
    ],
    [
      'entity',
      HEAD + '<row r="2"><c r="A2" t="inlineStr"><is><t>&xxe;</t></is></c></row>',
      /sheet "Orders" \(xl\/worksheets\/sheet1\.xml\): an entity reference "&xxe;" that XML does not define/,
    ],
    [
      'DOCTYPE',
      '',
      /sheet "Orders" \(xl\/worksheets\/sheet1\.xml\): a DOCTYPE \(document type declaration\)/,
    ],
    [
      'mismatched tags',
      HEAD + '<row r="2"><c r="A2"><v>1</c></v></row>',
      /sheet "Orders" .*: <\/c> closes <v>/,
    ],
    ['truncated', '<row r="1">', /sheet "Orders" .*: the XML ends before/],
    [
      'long tag',
      HEAD + `<row r="2" x="${'y'.repeat(70_000)}"/>`,
      /sheet "Orders" .*: an XML tag or instruction longer than 65536 characters/,
    ],
  ];
  for (const [what, rows, message] of sheetCases) {
    const xml =
      what === 'DOCTYPE'
        ? '<?xml version="1.0"?><!DOCTYPE worksheet SYSTEM "http://127.0.0.1:1/x.dtd"><worksheet/>'
        : what === 'truncated'
          ? '<?xml version="1.0"?><worksheet><sheetData><row r="1">'
          : worksheet(rows);
    const file = await xlsx(`limit-${what.replace(/\W/g, '-')}.xlsx`, { sheets: [{ name: 'Orders', xml }] });
    cases.push([what, { file, table: table() }, message]);
  }
  for (const [what, opts, message] of cases) {
    await assert.rejects(
      importFile(pool, opts),
      (err: unknown) => {
        assert.ok(err instanceof ImportError, `${what}: an ImportError, got ${String(err)}`);
        assert.match(err.message, message, what);
        return true;
      },
      what,
    );
    assert.equal(await tableExists(opts.table), false, `${what}: no table`);
    assert.equal(await importedRecord(opts.table), undefined, `${what}: nothing recorded`);
  }
  // An empty, styled cell far to the right is no value: no limit, no column.
  const styled = await xlsx('styled-right.xlsx', {
    sheets: [
      { name: 'Orders', xml: worksheet(HEAD + '<row r="2"><c r="A2"><v>1</v></c><c r="XFD2" s="0"/></row>') },
    ],
  });
  const t = table();
  assert.equal((await importFile(pool, { file: styled, table: t })).columns.length, 2);
});

test('XLSX: damaged or unusual containers fail as unreadable workbooks, naming why', async () => {
  const parts = workbookParts({ sheets: [{ name: 'Orders', xml: worksheet(HEAD) }] });
  const variants: [string, (file: string) => Promise<void>, RegExp][] = [
    [
      'no workbook',
      (f) =>
        writeZip(
          f,
          parts.filter((p) => p.name !== 'xl/workbook.xml'),
        ),
      /not a readable XLSX workbook \(no workbook part xl\/workbook\.xml; is it an \.xlsx file\?\)/,
    ],
    [
      'truncated',
      async (f) => {
        await writeZip(f, parts);
        const buf = readFileSync(f);
        writeFileSync(f, buf.subarray(0, buf.length - 30));
      },
      /not a readable XLSX workbook \(not a zip file\)/,
    ],
    [
      'encrypted part',
      async (f) => {
        await writeZip(f, parts);
        const buf = readFileSync(f);
        // Set the "encrypted" flag of every central directory entry.
        for (
          let i = buf.indexOf(Buffer.from([0x50, 0x4b, 1, 2]));
          i >= 0;
          i = buf.indexOf(Buffer.from([0x50, 0x4b, 1, 2]), i + 4)
        ) {
          buf.writeUInt16LE(buf.readUInt16LE(i + 8) | 1, i + 8);
        }
        writeFileSync(f, buf);
      },
      /is encrypted; save the workbook without a password/,
    ],
    [
      'external sheet',
      (f) =>
        writeZip(
          f,
          parts.map((p) =>
            p.name === 'xl/_rels/workbook.xml.rels'
              ? {
                  ...p,
                  data: (p.data as string).replace(
                    'Target="worksheets/sheet1.xml"',
                    'Target="http://127.0.0.1:1/sheet.xml" TargetMode="External"',
                  ),
                }
              : p,
          ),
        ),
      /sheet "Orders" has no part in the file \(http:\/\/127\.0\.0\.1:1\/sheet\.xml\)/,
    ],
  ];
  for (const [what, write, message] of variants) {
    const file = path.join(tmp, `container-${what.replace(/\W/g, '-')}.xlsx`);
    await write(file);
    await importRefused({ file, table: table() }, message);
  }
});

test('XLSX written by hand: inline and rich text, phonetic runs, escapes, 1904 dates, prefixes, CDATA, sheet order', async () => {
  const ns = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
  // Parts stored shared strings first, sheets in reverse: the workbook's order decides, not the zip's.
  const file = await xlsx('by-hand.xlsx', {
    order: 'strings-first',
    workbookPr: '<workbookPr date1904="1"/>',
    sheets: [
      { name: 'Chart', xml: '<?xml version="1.0"?><chartsheet/>', kind: 'chartsheet' },
      {
        name: 'Orders',
        xml:
          `<?xml version="1.0" encoding="UTF-8"?><!-- written by hand --><x:worksheet xmlns:x="${ns}"><x:sheetData>` +
          '<x:row r="1"><x:c t="inlineStr"><x:is><x:t>name</x:t></x:is></x:c><x:c t="s"><x:v>0</x:v></x:c>' +
          '<x:c t="inlineStr"><x:is><x:t>day</x:t></x:is></x:c><x:c t="inlineStr"><x:is><x:t>at</x:t></x:is></x:c>' +
          '<x:c t="inlineStr"><x:is><x:t>iso</x:t></x:is></x:c><x:c t="inlineStr"><x:is><x:t>ok</x:t></x:is></x:c>' +
          '<x:c t="inlineStr"><x:is><x:t>code</x:t></x:is></x:c></x:row>' +
          '<?ignored instruction?><x:row r="2">' +
          '<x:c r="A2" t="inlineStr"><x:is><x:r><x:t>Zoë </x:t></x:r><x:r><x:t xml:space="preserve">&amp; &#x4E2D;</x:t></x:r><x:rPh><x:t>ぞえ</x:t></x:rPh></x:is></x:c>' +
          '<x:c r="B2" t="s"><x:v>1</x:v></x:c>' +
          '<x:c r="C2" s="1"><x:v>0</x:v></x:c>' +
          '<x:c r="D2" s="2"><x:v>1.5</x:v></x:c>' +
          '<x:c r="E2" t="d"><x:v>2024-03-01T00:00:00Z</x:v></x:c>' +
          '<x:c r="F2" t="b"><x:v>0</x:v></x:c>' +
          '<x:c r="G2" t="inlineStr"><x:is><x:t><![CDATA[<b>&amp;</b>]]></x:t></x:is></x:c>' +
          '</x:row></x:sheetData></x:worksheet>',
      },
    ],
    sharedStrings:
      `<?xml version="1.0"?><sst xmlns="${ns}"><si><t>note</t></si>` +
      '<si><r><t>line_x000D_</t></r><r><t>\nbreak</t></r><rPh sb="0" eb="1"><t>phonetic</t></rPh></si></sst>',
    styles:
      `<?xml version="1.0"?><styleSheet xmlns="${ns}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/></numFmts>` +
      '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="22"/></cellXfs></styleSheet>',
  });
  const t = table();
  const r = await importFile(pool, { file, table: t });
  assert.deepEqual(
    r.columns.map((c) => `${c.name}:${c.type}`),
    ['name:text', 'note:text', 'day:date', 'at:text', 'iso:date', 'ok:boolean', 'code:text'],
  );
  const { rows } = await pool.query(`SELECT name, note, day::text, at, iso::text, ok, code FROM ${t}`);
  assert.deepEqual(rows, [
    {
      name: 'Zoë & 中',
      note: 'line\r\nbreak',
      day: '1904-01-01',
      at: '1904-01-02T12:00:00.000Z',
      iso: '2024-03-01',
      ok: false,
      code: '<b>&amp;</b>',
    },
  ]);
  await importRefused(
    { file, table: table(), sheet: 'Chart' },
    /by-hand\.xlsx: sheet "Chart" is not a worksheet of rows \(chartsheet\)/,
  );
});
