import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FilterError, quoteLiteral, validateFilter } from '../../activities/source/filter';

const COLUMNS = ['id', 'state', 'name', 'weight_oz', 'created', 'Mixed Case', 'shipped'];

async function refused(filter: string, message: RegExp): Promise<void> {
  await assert.rejects(
    validateFilter(filter, COLUMNS),
    (err: unknown) => {
      assert.ok(err instanceof FilterError, `${filter}: a FilterError, got ${String(err)}`);
      assert.match(err.message, message, `${filter}`);
      return true;
    },
    filter,
  );
}

test('injection attempts of issue 10 are refused with a message naming what was refused', async () => {
  const cases: [string, RegExp][] = [
    ['1=1; DROP TABLE x', /only one expression is allowed \(found ';'\)/],
    ["state = 'CA'; DELETE FROM orders", /found ';'/],
    ["state = 'CA';", /found ';'/],
    ['id IN (SELECT id FROM pg_shadow)', /subqueries are not allowed/],
    ['EXISTS (SELECT 1)', /subqueries are not allowed/],
    ['id = (SELECT max(id) FROM orders)', /subqueries are not allowed/],
    ['id = ANY (SELECT 1)', /subqueries are not allowed/],
    ['other_table.id = 1', /column references with a table or schema \("other_table\.id"\)/],
    ['public.orders.id = 1', /table or schema/],
    ['orders.* IS NULL', /"\*" is not allowed/],
    ["state = 'CA' -- AND id = 1", /comments are not allowed/],
    ["state = 'CA' /* hidden */", /comments are not allowed/],
    ["state = /* nested /* */ */ 'CA'", /comments are not allowed/],
    ['pg_sleep(10) IS NULL', /function pg_sleep is not allowed/],
    ['pg_catalog.pg_sleep(10) IS NULL', /function pg_catalog\.pg_sleep is not allowed/],
    ['generate_series(1, 10) = id', /function generate_series is not allowed/],
    ['unnest(ARRAY[1,2]) = id', /function unnest is not allowed/],
    ['random() < 0.5', /function random is not allowed: its result changes/],
    ['now() > created', /function now is not allowed/],
    ['created < current_date', /current_date.*not allowed/],
    ['created < CURRENT_TIMESTAMP', /not allowed/],
    ["created < date 'today'", /'today' is not allowed: it changes from one read to the next/],
    ["created < 'NOW'::timestamp", /'NOW' is not allowed/],
    ["created < CAST(' tomorrow ' AS date)", /'tomorrow' is not allowed/],
    ["nextval('s') > 0", /function nextval is not allowed/],
    ["set_config('role', 'postgres', false) IS NULL", /function set_config is not allowed/],
    ["dblink('host=x', 'DROP TABLE y') IS NULL", /function dblink is not allowed/],
    ["lo_import('/etc/passwd') > 0", /function lo_import is not allowed/],
    ["pg_read_file('/etc/passwd') = ''", /function pg_read_file is not allowed/],
    ['count(*) > 1', /function count is not allowed/],
    ['sum(weight_oz) > 1', /function sum is not allowed/],
    ['lower(state) OVER () = 1', /window functions \(OVER\) are not allowed/],
    ['foo = 1', /unknown column "foo" \(columns: id, state, name, weight_oz, created, Mixed Case, shipped\)/],
    ['id = $1', /parameters \(\$1, \$2, …\) are not allowed/],
    ['xmin = 1', /system column "xmin" is not allowed/],
    ['ctid IS NOT NULL', /system column "ctid"/],
    ['"id"" = 1 OR ""x" = 1', /unknown column "id"" = 1 OR ""x"/],
    ['"ID" = 1', /unknown column "ID"/],
    ['U&"\\0069d" = 1 AND U&"st\\0061te\\0027" = 1', /unknown column "state'"/],
    ['state = 1 UNION SELECT 1 FROM pg_user', /UNION, INTERSECT and EXCEPT are not allowed/],
    ['state = 1 ORDER BY 1', /found ORDER BY/],
    ['state = 1 GROUP BY id', /found GROUP BY/],
    ['state = 1 LIMIT 1', /LIMIT/],
    ['state = 1 FOR UPDATE', /FOR UPDATE/],
    ['id::regclass IS NULL', /cast to type regclass is not allowed/],
    ["'pg_sleep'::regproc IS NULL", /cast to type regproc is not allowed/],
    ['id::public.mytype IS NULL', /cast to type public\.mytype is not allowed/],
    ['id::int[] IS NULL', /arrays or SETOF is not allowed/],
    ['id = ANY (ARRAY[1, 2])', /not allowed/],
    ["state SIMILAR TO '(a+)+b'", /SIMILAR TO is not allowed/],
    ["state ~ '(a+)+b'", /operator ~ is not allowed/],
    ['id OPERATOR(pg_catalog.=) 1', /schema-qualified operators/],
    ["(state || 'x') COLLATE \"C\" = 'a'", /COLLATE is not allowed/],
    ['CASE WHEN id = 1 THEN true END', /CASE is not allowed/],
    ["state = B'101'", /bit-string/],
    ['(id, state) = (1, 2)', /row constructors are not allowed/],
    ['WITH x AS (SELECT 1) SELECT 1', /not valid SQL/],
    ['', /the filter is empty/],
    ['   ', /the filter is empty/],
    ["state = 'unterminated", /not valid SQL at character 9: unterminated quoted string/],
    ['state = $$CA', /not valid SQL/],
    ['state = \u0000', /NUL characters/],
    ["lower(state, 'x') = 'a'", /takes 1–1 arguments, got 2/],
    ['lower(DISTINCT state) = 1', /aggregates are not allowed/],
    ["state = 'a' AND (id = 1 OR (SELECT true))", /subqueries are not allowed/],
    ["xmlparse(document '<a/>') IS NULL", /XML functions are not allowed/],
  ];
  for (const [filter, message] of cases) await refused(filter, message);
});

test('tricky literals cannot break out: dollar quotes, E-strings, U& strings, doubled quotes, backslashes', async () => {
  const cases: [string, string][] = [
    ["state = E'\\''", `(("state" = E''''))`],
    ["state = E'\\'; DROP TABLE x; --'", `(("state" = E'''; DROP TABLE x; --'))`],
    ["state = 'it''s -- not a comment'", `(("state" = E'it''s -- not a comment'))`],
    ["state = '/* not a comment */'", `(("state" = E'/* not a comment */'))`],
    ["state = $$'; DROP TABLE x; --$$", `(("state" = E'''; DROP TABLE x; --'))`],
    ['state = $tag$ $$ ; $tag$', `(("state" = E' $$ ; '))`],
    ["state = U&'\\0027; DROP'", `(("state" = E'''; DROP'))`],
    ["state = 'back\\slash'", `(("state" = E'back\\\\slash'))`],
    ['"Mixed Case" = \'x\'', `(("Mixed Case" = E'x'))`],
  ];
  for (const [filter, sql] of cases) {
    const v = await validateFilter(filter, COLUMNS);
    assert.equal(v.sql, sql, filter);
  }
});

test('the allowed language: comparisons, IN, BETWEEN, LIKE/ILIKE, IS NULL, casts, pure functions', async () => {
  const v = await validateFilter(
    "state IN ('CA', 'OR') AND weight_oz::int BETWEEN 1 AND 400 AND name ILIKE '%smith%' " +
      "AND NOT shipped AND created IS NOT NULL AND lower(trim(name)) <> 'x' AND id % 2 = 0 " +
      "AND coalesce(name, '') NOT LIKE 'A%' AND created::date >= date '2024-01-01' AND -id < 0 " +
      'AND shipped IS NOT TRUE AND abs(round(weight_oz::numeric, 1)) > 0.5 AND id NOT IN (1, 2)',
    COLUMNS,
  );
  assert.equal(
    v.sql,
    '((("state" IN (E\'CA\', E\'OR\')) AND (CAST("weight_oz" AS pg_catalog.int4) BETWEEN 1 AND 400) AND ' +
      '("name" ILIKE E\'%smith%\') AND (NOT "shipped") AND ("created" IS NOT NULL) AND ' +
      '(pg_catalog.lower(pg_catalog.btrim("name")) <> E\'x\') AND (("id" % 2) = 0) AND ' +
      '(COALESCE("name", E\'\') NOT LIKE E\'A%\') AND (CAST("created" AS pg_catalog.date) >= ' +
      'CAST(E\'2024-01-01\' AS pg_catalog.date)) AND ((- "id") < 0) AND ("shipped" IS NOT TRUE) AND ' +
      '(pg_catalog.abs(pg_catalog.round(CAST("weight_oz" AS pg_catalog.numeric), 1)) > 0.5) AND ' +
      '("id" NOT IN (1, 2))))',
  );
  assert.deepEqual(v.columns, ['state', 'weight_oz', 'name', 'shipped', 'created', 'id']);
  assert.equal(v.text.startsWith('state IN'), true);
});

test('negative literals are parenthesised so no emitted "--" can start a comment', async () => {
  const v = await validateFilter('id - -1 > 0 AND id--1\n= 2', COLUMNS).catch((e: unknown) => e);
  // `id--1` is a comment in SQL: refused rather than silently truncated.
  assert.ok(v instanceof FilterError);
  const ok = await validateFilter('id - -1 > 0 AND weight_oz = -2.5', COLUMNS);
  assert.equal(ok.sql, '(((("id" - (-1)) > 0) AND ("weight_oz" = (-2.5))))');
  assert.ok(!ok.sql.includes('--'));
});

test('size limits: a huge or deeply nested filter is refused before it reaches PostgreSQL', async () => {
  await refused(`id = 1 ${'OR id = 1 '.repeat(1100)}`, /too long \(11007 characters, at most 10000\)/);
  await refused(`${'NOT '.repeat(100)}shipped`, /nested too deeply/);
  await refused(`${'lower('.repeat(80)}name${')'.repeat(80)} = 'a'`, /nested too deeply/);
  // Redundant parentheses make no nodes: fine.
  const v = await validateFilter(`${'('.repeat(100)}id = 1${')'.repeat(100)}`, COLUMNS);
  assert.equal(v.sql, '(("id" = 1))');
  await refused(`id IN (${Array.from({ length: 2100 }, () => 7).join(',')})`, /too complex/);
});

test('quoteLiteral doubles quotes and backslashes inside an E-string and refuses NUL', () => {
  assert.equal(quoteLiteral("a'b\\c"), "E'a''b\\\\c'");
  assert.throws(() => quoteLiteral('a\0b'), FilterError);
});
