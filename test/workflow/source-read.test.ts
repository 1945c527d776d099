import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { openPool } from '../../db/pool';
import {
  checkSourceFilter,
  countSource,
  describeSource,
  FilterError,
  quoteLiteral,
  readSourcePage,
  SourceError,
  validateFilter,
  writeBackTracking,
} from '../../inputs/source';

let pool: pg.Pool;
const suffix = randomUUID().slice(0, 8);
const T = `src_read_${suffix}`;
const CANARY = `src_canary_${suffix}`;
const LOG = `src_log_${suffix}`;

before(async () => {
  if (!process.env.DATABASE_URL) throw new Error('run through `npm test`, which starts PostgreSQL');
  pool = await openPool({ url: process.env.DATABASE_URL, max: 4 });
  await pool.query(`
    CREATE TABLE ${T} (
      id integer PRIMARY KEY, state text, name text, weight_oz numeric, created timestamptz, due date,
      big bigint, shipped boolean, tracking text, "Mixed Case" text, meta jsonb, n integer);
    INSERT INTO ${T}
    SELECT i, CASE WHEN i % 3 = 0 THEN 'CA' ELSE 'OR' END, 'name ' || i, i * 1.25, 
           timestamptz '2024-03-01 12:00:00+00' + i * interval '1 hour', date '2024-03-01' + i,
           CASE WHEN i = 1 THEN 9007199254740993 ELSE i END, i % 2 = 0, NULL, 'm' || i,
           jsonb_build_object('i', i), i
      FROM generate_series(1, 25) i;
    CREATE TABLE ${CANARY} (x int); INSERT INTO ${CANARY} VALUES (1);
    CREATE TABLE ${LOG} (msg text);
    CREATE FUNCTION evil_${suffix}(i int) RETURNS int LANGUAGE plpgsql AS
      $$ BEGIN INSERT INTO ${LOG} VALUES ('wrote ' || i); RETURN i; END $$;
    CREATE VIEW evil_view_${suffix} AS SELECT evil_${suffix}(id) AS id, state FROM ${T};
    CREATE VIEW slow_view_${suffix} AS SELECT id, pg_sleep(0.05) IS NULL AS slept FROM ${T};
    CREATE TABLE dup_${suffix} (k text, v int);
    INSERT INTO dup_${suffix} VALUES ('a', 1), ('b', 2), ('b', 3), ('c', 4), (NULL, 5);
  `);
});
after(async () => {
  await pool?.query(
    `DROP VIEW IF EXISTS evil_view_${suffix}, slow_view_${suffix};
     DROP TABLE IF EXISTS ${T}, ${CANARY}, ${LOG}, dup_${suffix};
     DROP FUNCTION IF EXISTS evil_${suffix}(int);`,
  );
  await pool?.end();
});

/** count(*) of a table of this test. */
async function count(table: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]?.n ?? -1;
}

async function readAll(opts: { table: string; keyColumn: string; filter?: string; limit: number }) {
  const pages: string[][] = [];
  let afterKey: string | null = null;
  for (;;) {
    const page = await readSourcePage(pool, { ...opts, afterKey });
    if (page.rows.length === 0) {
      assert.equal(page.lastKey, null);
      return pages;
    }
    pages.push(page.rows.map((r) => r.key));
    afterKey = page.lastKey;
  }
}

test('describeSource lists the real columns and checks table and key column, naming the choices', async () => {
  const d = await describeSource(pool, T, 'id');
  assert.equal(d.table, `public.${T}`);
  assert.equal(d.keyColumn, 'id');
  assert.deepEqual(
    d.columns.map((c) => `${c.name}:${c.type}`),
    [
      'id:integer',
      'state:text',
      'name:text',
      'weight_oz:numeric',
      'created:timestamp with time zone',
      'due:date',
      'big:bigint',
      'shipped:boolean',
      'tracking:text',
      'Mixed Case:text',
      'meta:jsonb',
      'n:integer',
    ],
  );
  assert.equal((await describeSource(pool, `public.${T}`, 'name')).keyColumn, 'name');
  await assert.rejects(describeSource(pool, 'no_such_table', 'id'), (e: unknown) => {
    assert.ok(e instanceof SourceError);
    assert.equal(e.message, 'table or view "no_such_table" does not exist');
    return true;
  });
  await assert.rejects(describeSource(pool, T, 'nope'), (e: unknown) => {
    assert.ok(e instanceof SourceError);
    assert.match(e.message, /unknown key column "nope" in public\.src_read_\w+ \(columns: id, state, name,/);
    return true;
  });
  await assert.rejects(
    describeSource(pool, T, 'meta'),
    /key column "meta" has type jsonb, which can't order rows/,
  );
  for (const bad of [
    `${T}; DROP TABLE ${CANARY}`,
    `"${T}"`,
    'a.b.c',
    `${T} x`,
    '',
    'pg_catalog.pg_authid)--',
  ]) {
    await assert.rejects(describeSource(pool, bad, 'id'), SourceError, bad);
  }
  await assert.rejects(describeSource(pool, T, 'id; DROP TABLE x'), /invalid key column name/);
  // A view is a source too.
  assert.equal((await describeSource(pool, `evil_view_${suffix}`, 'id')).columns.length, 2);
});

test('readSourcePage pages by key (10, 10, 5 then empty) and returns JSON-safe values', async () => {
  const pages = await readAll({ table: T, keyColumn: 'id', limit: 10 });
  assert.deepEqual(
    pages.map((p) => p.length),
    [10, 10, 5],
  );
  assert.deepEqual(
    pages.flat(),
    Array.from({ length: 25 }, (_, i) => String(i + 1)),
  );

  const first = await readSourcePage(pool, { table: T, keyColumn: 'id', limit: 2 });
  assert.equal(first.lastKey, '2');
  const row1 = first.rows[0];
  assert.deepEqual(row1, {
    key: '1',
    data: {
      id: 1,
      state: 'OR',
      name: 'name 1',
      weight_oz: '1.25',
      created: '2024-03-01T13:00:00Z',
      due: '2024-03-02',
      big: '9007199254740993', // beyond 2^53: kept exact as text
      shipped: false,
      tracking: null,
      'Mixed Case': 'm1',
      meta: { i: 1 },
      n: 1,
    },
  });
  assert.equal(first.rows[1]?.data['big'], 2, 'a safe bigint is a number');
  assert.deepEqual(JSON.parse(JSON.stringify(first.rows)), first.rows, 'rows survive a JSON round trip');

  // Resuming after a key, given as a number or as text, and a text key column.
  const resumed = await readSourcePage(pool, { table: T, keyColumn: 'id', afterKey: 23, limit: 10 });
  assert.deepEqual(
    resumed.rows.map((r) => r.key),
    ['24', '25'],
  );
  const byName = await readAll({ table: T, keyColumn: 'name', limit: 7 });
  assert.equal(byName.flat().length, 25);
  assert.deepEqual(byName.flat().slice(0, 3), ['name 1', 'name 10', 'name 11']);
  await assert.rejects(readSourcePage(pool, { table: T, keyColumn: 'id', limit: 0 }), /page size/);
  await assert.rejects(readSourcePage(pool, { table: T, keyColumn: 'id', limit: 1e6 }), /page size/);
});

test('a filter selects rows across pages; countSource agrees', async () => {
  const filter = "state = 'CA' AND weight_oz > 5 AND \"Mixed Case\" <> 'm9'";
  const keys = (await readAll({ table: T, keyColumn: 'id', filter, limit: 2 })).flat();
  assert.deepEqual(keys, ['6', '12', '15', '18', '21', '24']);
  assert.deepEqual(await countSource(pool, { table: T, keyColumn: 'id', filter }), { total: 6, nullKeys: 0 });
  assert.deepEqual(await countSource(pool, { table: T }), { total: 25, nullKeys: 0 });
  const dates = await readSourcePage(pool, {
    table: T,
    keyColumn: 'id',
    filter: "due BETWEEN date '2024-03-10' AND date '2024-03-11' AND created::date >= '2024-03-01'",
    limit: 100,
  });
  assert.deepEqual(
    dates.rows.map((r) => r.key),
    ['9', '10'],
  );
});

test('injection attempts are refused before any row is read, and the source is untouched', async () => {
  const attempts = [
    `1=1; DROP TABLE ${CANARY}`,
    `id IN (SELECT x FROM ${CANARY})`,
    `${CANARY}.x = 1`,
    "state = 'CA' -- ",
    'state = /* */ 1',
    'pg_sleep(10) IS NULL',
    `evil_${suffix}(id) > 0`,
    'generate_series(1, 3) = id',
    'random() < 2',
    'now() > created',
    'nosuch = 1',
    'id = $1',
    `id = 1 UNION SELECT x FROM ${CANARY}`,
  ];
  for (const filter of attempts) {
    await assert.rejects(
      readSourcePage(pool, { table: T, keyColumn: 'id', filter, limit: 10 }),
      FilterError,
      filter,
    );
    await assert.rejects(countSource(pool, { table: T, filter }), FilterError, filter);
  }
  assert.equal(await count(CANARY), 1);
  assert.equal(await count(LOG), 0);
  assert.equal(await count(T), 25);
});

test('reads run READ ONLY: a view whose function writes fails and writes nothing', async () => {
  await assert.rejects(
    readSourcePage(pool, { table: `evil_view_${suffix}`, keyColumn: 'id', limit: 5 }),
    /read-only transaction/,
  );
  assert.equal(await count(LOG), 0);
});

test('a statement timeout stops a slow read with a clear error, and the pool stays usable', async () => {
  const started = Date.now();
  await assert.rejects(
    readSourcePage(pool, {
      table: `slow_view_${suffix}`,
      keyColumn: 'id',
      limit: 100,
      statementTimeoutMs: 300,
    }),
    (e: unknown) => {
      assert.ok(e instanceof SourceError);
      assert.match(e.message, /took longer than the statement timeout \(300 ms\)/);
      return true;
    },
  );
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 1_200, `stopped after ${elapsed} ms, well before the 1.25 s the read needs`);
  // The timeout was local to the transaction: the same connections run long-ish statements afterwards.
  const { rows } = await pool.query<{ ok: boolean }>('SELECT true AS ok FROM pg_sleep(0.4)');
  assert.equal(rows[0]?.ok, true);
  const page = await readSourcePage(pool, { table: `slow_view_${suffix}`, keyColumn: 'id', limit: 3 });
  assert.equal(page.rows.length, 3);
});

test('filter type errors are FilterErrors, caught by checkSourceFilter before reading', async () => {
  await assert.rejects(checkSourceFilter(pool, { table: T, filter: 'state > 5' }), (e: unknown) => {
    assert.ok(e instanceof FilterError);
    assert.match(
      e.message,
      /the filter "state > 5" failed in PostgreSQL: operator does not exist: text > integer/,
    );
    return true;
  });
  await assert.rejects(
    checkSourceFilter(pool, { table: T, filter: 'id + 1' }),
    /argument of WHERE must be type boolean/,
  );
  await assert.rejects(
    readSourcePage(pool, { table: T, keyColumn: 'id', filter: "id = 'x'", limit: 5 }),
    /invalid input syntax for type integer/,
  );
  const ok = await checkSourceFilter(pool, { table: T, filter: "lower(state) = 'ca'" });
  assert.equal(ok.sql, `((pg_catalog.lower("state") OPERATOR(pg_catalog.=) E'ca'))`);
});

test('a non-unique key is refused (not silently skipped), even across a page boundary; NULL keys are counted', async () => {
  const table = `dup_${suffix}`;
  // 'a' | 'b' … the duplicate 'b' sits exactly at the boundary of a page of 2.
  const p1 = readSourcePage(pool, { table, keyColumn: 'k', limit: 2 });
  await assert.rejects(p1, /key column "k" of dup_\w+ is not unique \(value "b" appears more than once\)/);
  await assert.rejects(readSourcePage(pool, { table, keyColumn: 'k', limit: 10 }), /not unique/);
  assert.deepEqual(await countSource(pool, { table, keyColumn: 'k' }), { total: 5, nullKeys: 1 });
  const page = await readSourcePage(pool, { table, keyColumn: 'k', limit: 1 });
  assert.deepEqual(
    page.rows.map((r) => r.key),
    ['a'],
  );
});

test('readSourcePage works on a checked-out PoolClient too', async () => {
  const client = await pool.connect();
  try {
    const page = await readSourcePage(client, { table: T, keyColumn: 'id', afterKey: '20', limit: 2 });
    assert.deepEqual(
      page.rows.map((r) => r.key),
      ['21', '22'],
    );
    const { rows } = await client.query<{ tx: string }>('SELECT current_setting($1) AS tx', [
      'transaction_read_only',
    ]);
    assert.equal(rows[0]?.tx, 'off', 'the client is back out of the read-only transaction');
  } finally {
    client.release();
  }
});

test('writeBackTracking writes tracking numbers once (idempotent) and refuses a bad column', async () => {
  const rows = [
    { key: '3', trackingNumber: '1Z999AA10000000003' },
    { key: '4', trackingNumber: '1Z999AA10000000004' },
    { key: '999', trackingNumber: '1Z999AA10000000999' },
  ];
  assert.deepEqual(await writeBackTracking(pool, { table: T, keyColumn: 'id', column: 'tracking', rows }), {
    updated: 2,
    missing: 1,
  });
  assert.deepEqual(await writeBackTracking(pool, { table: T, keyColumn: 'id', column: 'tracking', rows }), {
    updated: 0,
    missing: 1,
  });
  const { rows: got } = await pool.query<{ id: number; tracking: string | null }>(
    `SELECT id, tracking FROM ${T} WHERE id IN (2, 3, 4) ORDER BY id`,
  );
  assert.deepEqual(got, [
    { id: 2, tracking: null },
    { id: 3, tracking: '1Z999AA10000000003' },
    { id: 4, tracking: '1Z999AA10000000004' },
  ]);
  await assert.rejects(
    writeBackTracking(pool, { table: T, keyColumn: 'id', column: 'weight_oz', rows }),
    /write-back column "weight_oz" has type numeric; it must be text or varchar/,
  );
  await assert.rejects(
    writeBackTracking(pool, { table: T, keyColumn: 'id', column: 'tracking"; DROP TABLE x; --', rows }),
    /invalid write-back column name/,
  );
  await assert.rejects(
    writeBackTracking(pool, { table: T, keyColumn: 'id', column: 'nope', rows }),
    /unknown write-back column "nope"/,
  );
  // A hostile tracking number is data.
  await writeBackTracking(pool, {
    table: T,
    keyColumn: 'id',
    column: 'tracking',
    rows: [{ key: '5', trackingNumber: "x'; DROP TABLE " + CANARY + '; --' }],
  });
  assert.equal(
    (await pool.query<{ tracking: string }>(`SELECT tracking FROM ${T} WHERE id = 5`)).rows[0]?.tracking,
    `x'; DROP TABLE ${CANARY}; --`,
  );
  assert.equal(await count(CANARY), 1);
});

test('filters that would read the time or a pattern are refused before any row is read', async () => {
  const attempts: [string, RegExp][] = [
    ["substring(name, '(a+)+$') IS NOT NULL", /substring with a text pattern is not allowed/],
    ["substring(name similar '%(a|aa)*%' escape '#') IS NOT NULL", /substring with a text pattern/],
    ["due < 'yesterday'::text::date", /cast to date is only allowed from a column or a literal/],
    ["created < CAST(lower('now') AS timestamp)", /cast to timestamp is only allowed from a column/],
    ["created > date_trunc('day', 'now')", /'now' is not allowed: it changes from one read to the next/],
    ["created < 'today 12:00'::timestamp", /'today 12:00' is not allowed/],
    ["created < 'tomorrow'", /'tomorrow' is not allowed/],
  ];
  for (const [filter, message] of attempts) {
    const reads = [
      () => readSourcePage(pool, { table: T, keyColumn: 'id', filter, limit: 10 }),
      () => countSource(pool, { table: T, filter }),
      () => checkSourceFilter(pool, { table: T, filter }),
    ];
    for (const read of reads) {
      await assert.rejects(
        read(),
        (e: unknown) => e instanceof FilterError && message.test(e.message),
        filter,
      );
    }
  }
});

test('the rewritten IN, BETWEEN, IS DISTINCT FROM, NULLIF and substring select what PostgreSQL would', async () => {
  const filters = [
    "state IN ('CA', NULL)",
    // Constant lists become one array literal: its quoting must keep every value as written.
    `name IN ('name 1', 'a"b', 'c\\d', '{x}', 'NULL', '', ' name 2', 'name 3 ', 'name,4', 'name 5')`,
    `meta IN ('{"i": 1}', '{"i": 22}') AND meta NOT IN ('{"i": 2}')`,
    'id NOT IN (1, 2, 3)',
    'id NOT IN (1, NULL)',
    'id IN (n, 5)',
    'id IN (n + 1, 7)',
    'id NOT IN (n + 1, 7)',
    'weight_oz BETWEEN 2 AND 5',
    'id NOT BETWEEN 3 AND 20',
    'id BETWEEN SYMMETRIC 10 AND 5',
    'id NOT BETWEEN SYMMETRIC 20 AND 3',
    'tracking IS DISTINCT FROM NULL',
    'tracking IS NOT DISTINCT FROM NULL',
    "tracking IS DISTINCT FROM '1Z999AA10000000003'",
    "state IS DISTINCT FROM 'CA'",
    "nullif(state, 'CA') IS NULL",
    "created IN ('2024-03-01 13:00:00+00', '2024-03-01 14:00:00+00')",
    "due IN ('2024-03-02', '2024-03-05')",
    'shipped IN (true)',
    'big IN (9007199254740993, 2)',
    'weight_oz IN (2.5, 5)',
    '-id < -20',
    "name LIKE 'name 1%' AND name NOT ILIKE 'NAME 12%'",
    "\"Mixed Case\" || 'x' = 'm1x'",
    "substring(name, n) = 'me 3'",
    "substring(name from 6 for 1) = '2'",
    'id % 7 = 0 AND id * 2 / 2 + 1 - 1 = id',
    "created >= '2024-03-01 20:00' AND due < date '2024-03-20'",
  ];
  for (const filter of filters) {
    const { rows } = await pool.query<{ id: string }>(
      `SELECT id::text FROM ${T} WHERE ${filter} ORDER BY ${T}.id`,
    );
    const keys = (await readAll({ table: T, keyColumn: 'id', filter, limit: 4 })).flat();
    assert.deepEqual(
      keys,
      rows.map((r) => r.id),
      filter,
    );
  }
});

test('an IN list of awkward strings matches exactly those strings', async () => {
  const values = ['a"b', 'c\\d', '{x}', 'NULL', '', ' x', 'y ', 'a,b', "it's", '\\"}'];
  const list = values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ');
  const rows = `(VALUES ${values.map((v) => `(${quoteLiteral(v)})`).join(', ')}, ('other')) AS t(name)`;
  const matched = async (filter: string) => {
    const { sql } = await validateFilter(filter, ['name']);
    const r = await pool.query<{ name: string }>(`SELECT name FROM ${rows} WHERE ${sql}`);
    return r.rows.map((x) => x.name);
  };
  assert.deepEqual(await matched(`name IN (${list})`), values);
  assert.deepEqual(await matched(`name NOT IN (${list})`), ['other']);
});

test('the read does not depend on the session: DateStyle and TimeZone are pinned for the filter', async () => {
  const filter = "due = '03/04/2024' OR created::date = '2024-03-02'";
  const expected = (await readAll({ table: T, keyColumn: 'id', filter, limit: 50 })).flat();
  assert.deepEqual(expected, [
    '3',
    '12',
    '13',
    '14',
    '15',
    '16',
    '17',
    '18',
    '19',
    '20',
    '21',
    '22',
    '23',
    '24',
    '25',
  ]);
  const client = await pool.connect();
  try {
    await client.query(`SET DateStyle = 'SQL, DMY'; SET TimeZone = 'Pacific/Kiritimati'`);
    const page = await readSourcePage(client, { table: T, keyColumn: 'id', filter, limit: 50 });
    assert.deepEqual(
      page.rows.map((r) => r.key),
      expected,
    );
    assert.equal(page.rows[0]?.data['due'], '2024-03-04', 'dates still come back as YYYY-MM-DD');
    assert.deepEqual(await countSource(client, { table: T, filter }), {
      total: expected.length,
      nullKeys: 0,
    });
  } finally {
    await client.query('RESET DateStyle; RESET TimeZone');
    client.release();
  }
});

test('a hostile operator earlier in search_path is never called by a read (CVE-2018-1058)', async () => {
  const evil = `evil_${suffix}_ops`;
  const VC = `src_vc_${suffix}`;
  // Operators of the reader's own types in a schema searched before (or instead of) pg_catalog, each
  // raising when called: a read that resolves any operator through search_path fails with that error.
  await pool.query(`
    CREATE SCHEMA ${evil};
    CREATE TABLE ${VC} (id integer PRIMARY KEY, code varchar(10));
    INSERT INTO ${VC} SELECT i, CASE WHEN i % 2 = 0 THEN 'CA' ELSE 'OR' END FROM generate_series(1, 6) i;
    DO $do$
    DECLARE
      t text; o text;
    BEGIN
      FOREACH t IN ARRAY ARRAY['text', 'varchar', 'integer', 'bigint', 'numeric', 'timestamptz', 'date',
                               'boolean', 'oid'] LOOP
        EXECUTE format('CREATE FUNCTION ${evil}.cmp(%1$s, %1$s) RETURNS boolean LANGUAGE plpgsql AS '
                       '$f$BEGIN RAISE EXCEPTION %2$L; END$f$', t, 'hostile operator called on ' || t);
        FOREACH o IN ARRAY ARRAY['=', '<>', '<', '>', '<=', '>='] LOOP
          EXECUTE format('CREATE OPERATOR ${evil}.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = ${evil}.cmp)', o, t, t);
        END LOOP;
      END LOOP;
      FOREACH t IN ARRAY ARRAY['integer', 'numeric'] LOOP
        EXECUTE format('CREATE FUNCTION ${evil}.calc(%1$s, %1$s) RETURNS %1$s LANGUAGE plpgsql AS '
                       '$f$BEGIN RAISE EXCEPTION %2$L; END$f$', t, 'hostile arithmetic on ' || t);
        EXECUTE format('CREATE FUNCTION ${evil}.neg(%1$s) RETURNS %1$s LANGUAGE plpgsql AS '
                       '$f$BEGIN RAISE EXCEPTION %2$L; END$f$', t, 'hostile minus on ' || t);
        FOREACH o IN ARRAY ARRAY['+', '-', '*', '/', '%'] LOOP
          EXECUTE format('CREATE OPERATOR ${evil}.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = ${evil}.calc)', o, t, t);
        END LOOP;
        EXECUTE format('CREATE OPERATOR ${evil}.- (RIGHTARG = %s, FUNCTION = ${evil}.neg)', t);
      END LOOP;
      FOREACH t IN ARRAY ARRAY['text', 'varchar'] LOOP
        FOREACH o IN ARRAY ARRAY['~~', '!~~', '~~*', '!~~*'] LOOP
          EXECUTE format('CREATE OPERATOR ${evil}.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = ${evil}.cmp)', o, t, t);
        END LOOP;
      END LOOP;
      CREATE FUNCTION ${evil}.cat(text, text) RETURNS text LANGUAGE plpgsql AS
        $f$BEGIN RAISE EXCEPTION 'hostile ||'; END$f$;
      CREATE OPERATOR ${evil}.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = ${evil}.cat);
      -- The catalog lookups of the read: oid = regclass, int2 > int4.
      CREATE FUNCTION ${evil}.cmp(oid, regclass) RETURNS boolean LANGUAGE plpgsql AS
        $f$BEGIN RAISE EXCEPTION 'hostile oid = regclass'; END$f$;
      CREATE OPERATOR ${evil}.= (LEFTARG = oid, RIGHTARG = regclass, FUNCTION = ${evil}.cmp);
      CREATE FUNCTION ${evil}.cmp(int2, int4) RETURNS boolean LANGUAGE plpgsql AS
        $f$BEGIN RAISE EXCEPTION 'hostile int2 > int4'; END$f$;
      CREATE OPERATOR ${evil}.> (LEFTARG = int2, RIGHTARG = int4, FUNCTION = ${evil}.cmp);
    END
    $do$;
  `);
  const filters = [
    "state = 'CA' AND weight_oz > 10",
    "state IN ('CA', 'OR') AND id NOT IN (1, 2) AND id IN (n, 30)",
    'id BETWEEN 2 AND 20 AND id NOT BETWEEN SYMMETRIC 9 AND 7',
    "name LIKE 'name 1%' OR name ILIKE 'NAME 2%' OR name NOT LIKE 'x%' AND name NOT ILIKE 'y%'",
    "state IS DISTINCT FROM 'OR' AND tracking IS NOT DISTINCT FROM NULL",
    "nullif(state, 'OR') IS NOT NULL",
    '-id < -3 AND id + 1 - 1 = id AND id * 2 / 2 = id AND id % 2 = 0 AND weight_oz * 2 > 1',
    "\"Mixed Case\" || 'x' <> 'm1x'",
    "due >= '2024-03-05' AND due <= date '2024-03-30' AND created < '2024-03-02' AND shipped = true",
  ];
  const expected: string[][] = [];
  for (const filter of filters) {
    const { rows } = await pool.query<{ id: string }>(
      `SELECT id::text FROM ${T} WHERE ${filter} ORDER BY ${T}.id`,
    );
    expected.push(rows.map((r) => r.id));
  }
  const client = await pool.connect();
  try {
    // As in the CVE: the hostile schema first, before pg_catalog itself.
    await client.query(`SET search_path = ${evil}, pg_catalog, public`);
    // Prove the trap is armed: a bare operator in this session reaches the hostile one.
    await assert.rejects(
      client.query(`SELECT 1 FROM ${T} WHERE state = 'CA'`),
      /hostile operator called on text/,
    );
    for (const [i, filter] of filters.entries()) {
      const keys: string[] = [];
      let afterKey: string | null = null;
      for (;;) {
        const page: Awaited<ReturnType<typeof readSourcePage>> = await readSourcePage(client, {
          table: T,
          keyColumn: 'id',
          filter,
          afterKey,
          limit: 3,
        });
        if (page.rows.length === 0) break;
        keys.push(...page.rows.map((r) => r.key));
        afterKey = page.lastKey;
      }
      assert.deepEqual(keys, expected[i], filter);
      assert.equal(
        (await countSource(client, { table: T, keyColumn: 'id', filter })).total,
        keys.length,
        filter,
      );
      await checkSourceFilter(client, { table: T, filter });
    }
    // A text key column: its comparisons with the page boundary too.
    const byName = await readSourcePage(client, {
      table: T,
      keyColumn: 'name',
      afterKey: 'name 24',
      limit: 5,
    });
    assert.deepEqual(
      byName.rows.map((r) => r.key),
      ['name 25', 'name 3', 'name 4', 'name 5', 'name 6'],
    );
    // The write-back's key match and change test.
    assert.deepEqual(
      await writeBackTracking(client, {
        table: T,
        keyColumn: 'id',
        column: 'tracking',
        rows: [{ key: '20', trackingNumber: '1Z999AA10000000020' }],
      }),
      { updated: 1, missing: 0 },
    );
    // The CVE's own case: pg_catalog searched first (implicitly), but a varchar = varchar operator in a
    // later schema matches a varchar column exactly, where pg_catalog's text = text needs a coercion.
    await client.query(`SET search_path = ${evil}, public`);
    await assert.rejects(
      client.query(`SELECT 1 FROM ${VC} WHERE code = 'CA'`),
      /hostile operator called on varchar/,
    );
    const vc = await readSourcePage(client, {
      table: VC,
      keyColumn: 'id',
      filter: "code = 'CA' AND code IN ('CA', 'x') AND code LIKE 'C%' AND code BETWEEN 'A' AND 'Z'",
      limit: 10,
    });
    assert.deepEqual(
      vc.rows.map((r) => r.key),
      ['2', '4', '6'],
    );
  } finally {
    await client.query('RESET search_path').catch(() => undefined);
    client.release();
    await pool.query(`DROP SCHEMA ${evil} CASCADE; DROP TABLE ${VC}`);
  }
});
