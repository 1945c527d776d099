/**
 * Hostile import files through the real CLI (`shipbatch import FILE --table T`) with a fixed memory budget:
 * each runs under `node --max-old-space-size=256` against the harness's PostgreSQL, with its own TMPDIR.
 * A bomb, an oversized cell, a CSV of empty fields or deep XML ends in exit 2 with a message naming the limit
 * (and the sheet), below the memory budget, with no temporary file written, no table created and nothing
 * recorded in imported_tables. Formulas are never evaluated and external links never followed: such a
 * workbook imports its cached values, and a local HTTP server sees no request.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { openPool } from '../../db/pool';
import {
  row,
  sharedStrings,
  workbookParts,
  worksheet,
  writeWorkbook,
  writeZip,
} from '../helpers/xlsx-builder';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'shipbatch.js');
/** Peak RSS a refused import may reach: the 256 MB heap cap and Node, tsx and the loaded code around it. */
const RSS_BUDGET_MB = 320;
const HEAP_MB = 256;
/** Prints the process's peak RSS on exit (a data: URL module preloaded with --import). */
const RSS_REPORTER =
  'data:text/javascript,process.on("exit",()=>process.stderr.write("\\nmaxrss_kb="+process.resourceUsage().maxRSS+"\\n"))';

const suffix = randomUUID().slice(0, 8);
const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-hostile-'));
/** TMPDIR of the imports: must stay empty but for tsx's compile cache. */
const tmp = path.join(dir, 'tmp');
let pool: pg.Pool;
let n = 0;
const table = (): string => `hostile_${suffix}_${++n}`;

before(async () => {
  if (!process.env.DATABASE_URL) throw new Error('run through `npm test`, which starts PostgreSQL');
  pool = await openPool({ url: process.env.DATABASE_URL, max: 2 });
  mkdirSync(tmp);
});
after(async () => {
  const { rows } = await pool.query<{ t: string }>(
    `SELECT tablename AS t FROM pg_tables WHERE tablename LIKE $1`,
    [`hostile_${suffix}%`],
  );
  for (const r of rows) await pool.query(`DROP TABLE IF EXISTS "${r.t}"`);
  await pool.query(`DELETE FROM imported_tables WHERE table_name LIKE $1`, [`hostile_${suffix}%`]);
  await pool.end();
  rmSync(dir, { recursive: true, force: true });
});

/** Bytes of the files under `root` that are not tsx's compile cache. */
function tempBytes(root: string): { bytes: number; names: string[] } {
  let bytes = 0;
  const names: string[] = [];
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    const rel = path.relative(root, path.join(e.parentPath, e.name));
    if (rel.startsWith('tsx')) continue;
    names.push(rel);
    if (e.isFile()) {
      try {
        bytes += statSync(path.join(e.parentPath, e.name)).size;
      } catch {
        // removed meanwhile
      }
    }
  }
  return { bytes, names };
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  maxRssMb: number | undefined;
  /** Most bytes of temporary files seen while it ran, and any left behind. */
  tempPeak: number;
  tempLeft: string[];
  seconds: number;
}

/** `shipbatch import FILE --table T` under the heap cap, watching its temporary files. */
async function importUnderBudget(file: string, t: string): Promise<Run> {
  // Leftovers of an earlier run are its failure, not this one's.
  for (const name of tempBytes(tmp).names) rmSync(path.join(tmp, name), { recursive: true, force: true });
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [`--max-old-space-size=${HEAP_MB}`, '--import', RSS_REPORTER, BIN, 'import', file, '--table', t],
    {
      cwd: dir,
      env: { ...process.env, TMPDIR: tmp, SHIPBATCH_DATA_DIR: path.join(dir, 'data') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  let tempPeak = 0;
  const watch = setInterval(() => (tempPeak = Math.max(tempPeak, tempBytes(tmp).bytes)), 50);
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearInterval(watch);
  clearTimeout(killer);
  const left = tempBytes(tmp);
  const rss = /maxrss_kb=(\d+)/.exec(err);
  return {
    code,
    signal,
    out,
    err: err.replace(/\n?maxrss_kb=\d+\n?/, ''),
    maxRssMb: rss ? Math.round(Number(rss[1]) / 1024) : undefined,
    tempPeak: Math.max(tempPeak, left.bytes),
    tempLeft: left.names,
    seconds: (Date.now() - started) / 1000,
  };
}

async function recorded(t: string): Promise<boolean> {
  const { rows } = await pool.query('SELECT 1 FROM imported_tables WHERE table_name = $1', [t]);
  return rows.length > 0;
}

async function tableExists(t: string): Promise<boolean> {
  const { rows } = await pool.query<{ e: boolean }>('SELECT to_regclass($1) IS NOT NULL AS e', [t]);
  return rows[0]?.e === true;
}

/** The import of `file` is refused (exit 2) with `message`, within the budget, leaving nothing behind. */
async function refused(t: TestContext, file: string, message: RegExp): Promise<void> {
  const name = table();
  const r = await importUnderBudget(file, name);
  const what = `${path.basename(file)}: exit ${r.code} (signal ${r.signal}), ${r.seconds} s, ${r.maxRssMb} MB RSS, stderr: ${r.err.slice(0, 600)}`;
  t.diagnostic(`${path.basename(file)}: exit ${r.code} in ${r.seconds} s, peak RSS ${r.maxRssMb} MB`);
  assert.equal(r.code, 2, what);
  assert.match(r.err, message, what);
  assert.ok(
    r.maxRssMb !== undefined && r.maxRssMb < RSS_BUDGET_MB,
    `peak RSS within ${RSS_BUDGET_MB} MB: ${what}`,
  );
  assert.equal(r.tempPeak, 0, `no temporary file written (${r.tempLeft.join(', ')}): ${what}`);
  assert.deepEqual(r.tempLeft, [], what);
  assert.equal(await tableExists(name), false, `no table created: ${what}`);
  assert.equal(await recorded(name), false, `nothing recorded in imported_tables: ${what}`);
}

/** `count` pieces of `piece` repeated, in chunks of about 1 MB (a part streamed, never held whole). */
function* repeated(piece: string, count: number): Generator<string> {
  const per = Math.max(1, Math.floor((1 << 20) / piece.length));
  const chunk = piece.repeat(per);
  let left = count;
  for (; left >= per; left -= per) yield chunk;
  if (left > 0) yield piece.repeat(left);
}

const HEADER = row(1, ['order_id', 'name']);

test('zip bomb: a sheet padded to 400 MB, stored before the shared strings, is refused by its compression ratio', async (t) => {
  const file = path.join(dir, 'padded.xlsx');
  await writeWorkbook(file, {
    sheets: [
      {
        name: 'Orders',
        xml: worksheet(
          (function* () {
            yield HEADER + row(2, ['A-1', 'Ann']);
            yield* repeated(' ', 400 << 20);
          })(),
        ),
      },
    ],
    sharedStrings: sharedStrings(['unused']),
  });
  assert.ok(statSync(file).size < 600_000, 'a small file');
  await refused(
    t,
    file,
    /padded\.xlsx: sheet "Orders" \(xl\/worksheets\/sheet1\.xml\) unpacks to more than 100 times its \d+ packed bytes/,
  );
});

test('shared-strings bomb: 18 M empty shared strings in a small file are refused', async (t) => {
  const file = path.join(dir, 'strings-bomb.xlsx');
  await writeWorkbook(file, {
    sheets: [{ name: 'Orders', xml: worksheet(HEADER) }],
    sharedStrings: (function* () {
      yield '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">';
      yield* repeated('<si><t/></si>', 18_000_000);
      yield '</sst>';
    })(),
  });
  assert.ok(statSync(file).size < 1_000_000, 'a small file');
  await refused(
    t,
    file,
    /strings-bomb\.xlsx: the shared strings \(xl\/sharedStrings\.xml\) unpack to more than 100 times their \d+ packed bytes/,
  );
});

test('huge cell: a 300 M-character shared string, and the same as an inline cell, stop at the cell limit', async (t) => {
  const big = path.join(dir, 'huge-shared.xlsx');
  await writeWorkbook(big, {
    sheets: [{ name: 'Orders', xml: worksheet(HEADER + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>') }],
    sharedStrings: (function* () {
      yield '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>';
      yield* repeated('A', 300_000_000);
      yield '</t></si></sst>';
    })(),
  });
  await refused(
    t,
    big,
    /huge-shared\.xlsx: shared string 1 in xl\/sharedStrings\.xml is longer than 4194304 characters, the cell limit/,
  );
  const inline = path.join(dir, 'huge-inline.xlsx');
  await writeWorkbook(inline, {
    sheets: [
      {
        name: 'Orders',
        xml: worksheet(
          (function* () {
            yield HEADER + '<row r="2"><c r="A2" t="inlineStr"><is><t>';
            yield* repeated('A', 300_000_000);
            yield '</t></is></c></row>';
          })(),
        ),
      },
    ],
  });
  await refused(
    t,
    inline,
    /huge-inline\.xlsx, sheet "Orders", line 2, column 1: longer than 4194304 characters, the cell limit/,
  );
});

test('wide CSV: a 50 MB line of commas is refused at the column limit', async (t) => {
  const file = path.join(dir, 'commas.csv');
  writeFileSync(
    file,
    Buffer.concat([Buffer.from('a,b\n'), Buffer.alloc(50_000_000, ','), Buffer.from('\n')]),
  );
  await refused(t, file, /commas\.csv, line 2: more than 500 columns, the column limit/);
  const header = path.join(dir, 'wide-header.tsv');
  writeFileSync(header, Buffer.concat([Buffer.alloc(50_000_000, '\t'), Buffer.from('\nx\n')]));
  await refused(t, header, /wide-header\.tsv, line 1: more than 500 columns, the column limit/);
});

test('deep XML and a DOCTYPE (entity expansion) are refused, naming the part', async (t) => {
  const deep = path.join(dir, 'deep.xlsx');
  await writeWorkbook(deep, {
    sheets: [
      {
        name: 'Orders',
        xml: worksheet(
          (function* () {
            yield HEADER;
            yield* repeated('<x>', 1_000_000);
            yield* repeated('</x>', 1_000_000);
          })(),
        ),
      },
    ],
  });
  await refused(
    t,
    deep,
    /deep\.xlsx: sheet "Orders" \(xl\/worksheets\/sheet1\.xml\): XML nested deeper than 64 elements/,
  );
  const laughs = path.join(dir, 'laughs.xlsx');
  const entities = ['<!ENTITY l0 "lol">'];
  for (let i = 1; i < 10; i++) entities.push(`<!ENTITY l${i} "${`&l${i - 1};`.repeat(10)}">`);
  await writeWorkbook(laughs, {
    sheets: [{ name: 'Orders', xml: worksheet(HEADER + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>') }],
    sharedStrings:
      `<?xml version="1.0"?><!DOCTYPE sst [${entities.join('')}]>` +
      '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&l9;</t></si></sst>',
  });
  await refused(
    t,
    laughs,
    /laughs\.xlsx: the shared strings \(xl\/sharedStrings\.xml\): a DOCTYPE \(document type declaration\), which an XLSX part never needs/,
  );
});

test('a zip whose central directory lists a part twice is refused (readers would disagree on which one holds the data)', async (t) => {
  const file = path.join(dir, 'twice.xlsx');
  const parts = workbookParts({ sheets: [{ name: 'Orders', xml: worksheet(HEADER) }] });
  parts.push({ name: 'xl/worksheets/sheet1.xml', data: worksheet(HEADER + row(2, ['evil', 'x'])) });
  await writeZip(file, parts);
  await refused(
    t,
    file,
    /twice\.xlsx: not a readable XLSX workbook \(the zip holds xl\/worksheets\/sheet1\.xml twice\)/,
  );
});

test('formulas are never evaluated and external links never followed: cached values are the data', async (t) => {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    res.end('1');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const file = path.join(dir, 'linked.xlsx');
    const cells = [
      // A cell of another workbook through the external link: its cached value.
      `<c r="A2" t="str"><f>[1]Sheet1!A1</f><v>cached elsewhere</v></c>`,
      // A formula with no cached value: its text, as text; nothing fetches the URL.
      `<c r="B2" t="str"><f>WEBSERVICE("${url}/webservice")</f></c>`,
      `<c r="C2"><f>1+1</f><v>2</v></c>`,
      `<c r="D2" t="b"><f>TRUE()</f><v>1</v></c>`,
      `<c r="E2" s="1"><f>DATE(2024,3,1)</f><v>45352</v></c>`,
      `<c r="F2" t="e"><f>1/0</f><v>#DIV/0!</v></c>`,
    ].join('');
    const linkRels =
      '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      `<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" Target="${url}/book.xlsx" TargetMode="External"/>` +
      '</Relationships>';
    await writeWorkbook(file, {
      sheets: [
        {
          name: 'Orders',
          xml: worksheet(
            row(1, ['linked', 'service', 'sum', 'flag', 'day', 'err']) + `<row r="2">${cells}</row>`,
          ),
        },
      ],
      styles:
        '<?xml version="1.0"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' +
        '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs></styleSheet>',
      workbookTail: '<externalReferences><externalReference r:id="rIdX"/></externalReferences>',
      rels: `<Relationship Id="rIdX" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLink" Target="externalLinks/externalLink1.xml"/>`,
      extraParts: [
        {
          name: 'xl/externalLinks/externalLink1.xml',
          data:
            '<?xml version="1.0"?><externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ' +
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">' +
            '<externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames></externalBook></externalLink>',
        },
        { name: 'xl/externalLinks/_rels/externalLink1.xml.rels', data: linkRels },
      ],
    });
    const name = table();
    const r = await importUnderBudget(file, name);
    t.diagnostic(`linked.xlsx: exit ${r.code} in ${r.seconds} s, peak RSS ${r.maxRssMb} MB`);
    assert.equal(r.code, 0, r.err);
    assert.ok(r.maxRssMb !== undefined && r.maxRssMb < RSS_BUDGET_MB, `${r.maxRssMb} MB`);
    assert.equal(r.tempPeak, 0, 'no temporary file');
    const { rows } = await pool.query(`SELECT linked, service, sum, flag, day::text, err FROM ${name}`);
    assert.deepEqual(rows, [
      {
        linked: 'cached elsewhere',
        service: `=WEBSERVICE("${url}/webservice")`,
        sum: '2',
        flag: true,
        day: '2024-03-01',
        err: '#DIV/0!',
      },
    ]);
    assert.equal(await recorded(name), true, 'the import is recorded in imported_tables');
    assert.deepEqual(hits, [], 'no request to the linked URLs');
  } finally {
    server.close();
  }
});
