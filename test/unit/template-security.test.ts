/**
 * Templates are a security boundary (docs/design.md §4, §7). Each test below is one attacker's payload from the
 * findings, run through the real isolated renderer: it must be refused with a clear row error within a
 * second, or kept as data where the value is legitimate. After EVERY test (afterEach), a benign render in
 * this same process must be byte-identical to the one made before any attack, and the host's Object/Array/
 * Function/String prototypes and the shipper object must be unchanged.
 */
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { IsolateFailure, TemplateIsolate } from '../../inputs/template/isolate';
import {
  MAX_TEMPLATE_CHARS,
  openBatchRenderer,
  ROW_TIMEOUT_MS,
  TEMPLATE_LIMITS,
  type RenderResult,
} from '../../inputs/template/render';
import type { Shipper } from '../../domain/shipment-schema';

const shipper: Shipper = {
  Name: 'Acme Widgets Inc',
  ShipperNumber: 'A1B2C3',
  Address: {
    AddressLine: ['1 Main St'],
    City: 'Austin',
    StateProvinceCode: 'TX',
    PostalCode: '78744',
    CountryCode: 'US',
  },
};
const SHIPPER_JSON = JSON.stringify(shipper);

/** A benign Shipment template: values quoted by hand, as docs/design.md §4 allows. */
const shipment = (extra = '', shipTo = '') => `{
  "ShipTo": { "Name": "{{ name }}", "EMailAddress": "{{ email | default_value("") }}", ${shipTo}
    "Address": { "AddressLine": ["{{ street }}"], "City": "{{ city }}", "StateProvinceCode": "{{ state }}",
                 "PostalCode": "{{ zip }}", "CountryCode": "US" } },
  "Service": { "Code": "{{ service | lookup_service_code }}" },
  "Package": [{ "Packaging": { "Code": "02" },
                "PackageWeight": { "UnitOfMeasurement": { "Code": "LBS" }, "Weight": "{{ lbs | round_weight }}" } }]
  ${extra}
}`;
const BENIGN = shipment();
const ROW = {
  name: 'Jane Doe',
  email: 'jane@example.com',
  street: '12 Oak Ave',
  city: 'Denver',
  state: 'CO',
  zip: '80202',
  service: 'ground',
  lbs: '2.26',
};
const BATCH = { id: 'batch-sec', name: 'security' };

function hostSignature(): string {
  const protos = { Object, Array, Function, String, Number, Error, RegExp };
  return JSON.stringify(
    Object.entries(protos).map(([n, C]) => [
      n,
      Reflect.ownKeys(C.prototype).map((k) => {
        const d = Object.getOwnPropertyDescriptor(C.prototype, k)!;
        return `${String(k)}:${typeof d.value}:${typeof d.get}:${typeof d.set}`;
      }),
      Object.isExtensible(C.prototype),
    ]),
  );
}

async function render(
  templateSource: string,
  rows: readonly Record<string, unknown>[],
  opts: { templateSetsPayer?: boolean } = {},
): Promise<{ results: RenderResult[]; ms: number }> {
  const t0 = performance.now();
  const opened = await openBatchRenderer({ templateSource, shipper, batch: BATCH, ...opts });
  assert.ok(opened.ok, opened.ok ? '' : `template did not open: ${opened.error}`);
  try {
    const results = await opened.renderer.renderRows(rows.map((data, i) => ({ rowNo: i + 1, data })));
    return { results, ms: performance.now() - t0 };
  } finally {
    opened.renderer.dispose();
  }
}

/** A template refused when the batch opens it (compile time), with its message. */
async function refusedAtOpen(templateSource: string): Promise<string> {
  const opened = await openBatchRenderer({ templateSource, shipper, batch: BATCH });
  if (opened.ok) opened.renderer.dispose();
  assert.equal(opened.ok, false, 'the template should not open');
  return opened.ok ? '' : opened.error;
}

/** One row through a template: its error message (asserting it is a row error), within a second. */
async function refused(templateSource: string, row: Record<string, unknown> = ROW): Promise<string> {
  const { results, ms } = await render(templateSource, [row]);
  const r = results[0]!;
  assert.equal(r.ok, false, `should be refused: ${JSON.stringify(r).slice(0, 300)}`);
  assert.ok(ms < 1000, `took ${Math.round(ms)} ms`);
  if (r.ok) return '';
  assert.equal(r.errors[0]!.rowNo, 1);
  assert.equal(r.errors[0]!.code, 'E-4003');
  return r.errors.map((e) => e.message).join('; ');
}

async function shipped(templateSource: string, row: Record<string, unknown>, opts = {}) {
  const { results, ms } = await render(templateSource, [row], opts);
  const r = results[0]!;
  assert.ok(ms < 1000, `took ${Math.round(ms)} ms`);
  assert.equal(r.ok, true, JSON.stringify(r).slice(0, 400));
  if (!r.ok) throw new Error('unreachable');
  return r.request.ShipmentRequest.Shipment;
}

let baseline = '';
let hostBefore = '';
before(async () => {
  hostBefore = hostSignature();
  const { results } = await render(BENIGN, [ROW]);
  assert.equal(results[0]!.ok, true, JSON.stringify(results[0]));
  baseline = JSON.stringify(results);
});

afterEach(async () => {
  const { results } = await render(BENIGN, [ROW]);
  assert.equal(JSON.stringify(results), baseline, 'a benign render changed after the attack');
  assert.equal(hostSignature(), hostBefore, 'a host prototype changed');
  assert.equal(JSON.stringify(shipper), SHIPPER_JSON, 'the shipper object changed');
});

after(() => {
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

// ---- 1. Code execution: Object's built-ins as filters/tests, constructor chains ----

const CODE_EXECUTION: [string, RegExp][] = [
  ['{{ 1 | valueOf }}', /unknown filter "valueOf"/],
  ['{{ "x" | constructor }}', /unknown filter "constructor"/],
  ['{% for k, v in (1 | valueOf) %}{{ k }}{% endfor %}', /unknown filter "valueOf"/],
  ['{{ 1 | valueOf | dictsort }}', /unknown filter "valueOf"/],
  ['{{ (1 | valueOf).env.getFilter.call(range, "x") }}', /unknown filter "valueOf"/],
  ['{{ (1 | valueOf).env.renderString(payload, {}) }}', /unknown filter "valueOf"/],
  ['{{ [] | __lookupGetter__("length") }}', /unknown filter "__lookupGetter__"/],
  ['{% if 1 is constructor %}x{% endif %}', /unknown test "constructor"/],
  ['{% if 1 is valueOf %}x{% endif %}', /unknown test "valueOf"/],
  ['{{ range.constructor("return process.pid")() }}', /functions have no readable members/],
  ['{{ cycler.constructor("return process")().exit() }}', /functions have no readable members/],
  ['{{ row["constructor"]["constructor"]("return process")() }}', /"constructor" is not allowed/],
  ['{{ "".constructor.constructor("return this")() }}', /"constructor" is not allowed/],
  ['{{ "".toString.call(row) }}', /"toString" is not allowed/],
  ['{{ [].map.call(row, range) }}', /functions have no readable members/],
  ['{{ joiner().constructor }}', /functions have no readable members/],
  ['{{ process.pid }}', /undefined variable "process"/],
  ['{{ require("child_process") }}', /undefined variable "require"/],
  ['{{ globalThis }}', /undefined variable "globalThis"/],
  ['{{ constructor }}', /undefined variable "constructor"/],
  ['{{ toString }}', /undefined variable "toString"/],
  ['{% include "/etc/passwd" %}', /cannot include, import or extend/],
  ['{% import "/etc/passwd" as x %}', /cannot include, import or extend/],
  ['{% extends "base.njk" %}', /cannot include, import or extend/],
];
for (const [src, expected] of CODE_EXECUTION) {
  test(`1. code execution refused: ${src}`, async () => {
    const msg = await refused(src, { ...ROW, payload: '{{ range.constructor("return process.pid")() }}' });
    assert.match(msg, expected);
    assert.ok(!msg.includes(String(process.pid)));
  });
}

test('1. even a Function reached inside the isolate has no host: nothing of Node is there', async () => {
  // The constructor chain is refused above; the isolate is the boundary behind that refusal. Its globals
  // (as a template sees them) hold no process, require, or Buffer.
  for (const name of ['process', 'require', 'Buffer', 'module', 'setTimeout', 'fetch', 'nunjucks', 'self']) {
    assert.match(await refused(`{{ ${name} }}`), new RegExp(`undefined variable "${name}"`));
  }
});

// ---- 2. State that outlives a render: poisoning between rows and batches ----

test('2. addFilter from a template cannot replace json for later renders', async () => {
  assert.match(await refused('{{ (1 | valueOf).env.addFilter("json", range) }}'), /unknown filter/);
  const s = await shipped(shipment(', "Description": {{ name | json }}'), ROW);
  assert.equal(s['Description'], 'Jane Doe');
});

test('2. "__proto__" | lookup_service_code is just text, and a loop variable named loop is refused', async () => {
  const s = await shipped(shipment(', "Description": "{{ "__proto__" | lookup_service_code }}"'), ROW);
  assert.equal(s['Description'], '__proto__');
  assert.match(
    await refusedAtOpen('{% for loop in ["__proto__" | lookup_service_code] %}x{% endfor %}'),
    /"loop" is reserved/,
  );
  assert.match(await refused('{% set loop = row %}'), /"loop" is reserved/);
});

test('2. no row can leave state for the next row of the same batch (cycler/map thisArg, prototypes, Array methods)', async () => {
  const tpl = shipment(
    `, "Description": "{% if poison %}{{ [0].map(cycler("a", "b").next, row) | length }}{{ [].concat([1]).push(2) }}{% endif %}{{ row | dictsort | length }}-{{ [] | length }}-{{ range(2) | join(",") }}"`,
  );
  const { results } = await render(tpl, [
    { ...ROW, poison: true },
    { ...ROW, poison: false },
  ]);
  const [poisoned, next] = results;
  assert.ok(poisoned?.ok, JSON.stringify(poisoned));
  assert.ok(next?.ok, JSON.stringify(next));
  // 1 (map) 2 (push) then the row's own 9 columns, and fresh [] and range() in both rows.
  assert.equal(poisoned.request.ShipmentRequest.Shipment['Description'], '129-0-0,1');
  assert.equal(next.request.ShipmentRequest.Shipment['Description'], '9-0-0,1');
});

test('2. poisoning attempts on shared objects fail inside the isolate, and the next batch sees nothing', async () => {
  for (const src of [
    '{{ shipper.__proto__ }}',
    '{{ row.__proto__.polluted }}',
    '{% set x = row.__proto__ %}{{ x }}',
    '{{ [].__proto__ }}',
    '{{ "".__defineGetter__ }}',
    '{{ range.prototype }}',
  ])
    assert.match(await refused(src), /not allowed|no readable members/);
});

// ---- 3. Mutating the caller's objects ----

test('3. the shipper cannot be changed by a template, neither for this row nor for the next', async () => {
  const tpl = `{% if evil %}{{ shipper.Address.AddressLine.splice(0, 1, "666 Evil Rd") }}{% endif %}${shipment(
    ', "Description": "{{ shipper.Address.AddressLine | join("|") }}"',
  )}`;
  const { results } = await render(tpl, [
    { ...ROW, evil: true },
    { ...ROW, evil: false },
  ]);
  assert.equal(results[0]!.ok, false);
  if (!results[0]!.ok)
    assert.match(results[0]!.errors[0]!.message, /read only|Cannot (add|delete|assign)|not extensible/);
  const next = results[1];
  assert.ok(next?.ok, JSON.stringify(next));
  assert.equal(next.request.ShipmentRequest.Shipment['Description'], '1 Main St');
  assert.deepEqual(next.request.ShipmentRequest.Shipment.Shipper.Address.AddressLine, ['1 Main St']);
});

test('3. a row cannot be changed: {% for loop in [row] %} is refused and a column list stays as it was', async () => {
  assert.match(await refusedAtOpen('{% for loop in [row] %}{% endfor %}'), /"loop" is reserved/);
  const row = { ...ROW, items: ['a', 'b'] };
  assert.match(
    await refused('{{ items.pop() }}', row),
    /read only|Cannot (add|delete|assign)|not extensible/,
  );
  assert.deepEqual(row.items, ['a', 'b']);
  const s = await shipped(shipment(', "Description": "{{ items | join(",") }}"'), row);
  assert.equal(s['Description'], 'a,b');
});

// ---- 4. Hangs: stopped at the deadline, only the guilty row fails ----

const HANGS: [string, string, Record<string, unknown>][] = [
  ['regex literal in replace', '{{ city | replace(r/^(a+)+$/, "x") }}', { city: `${'a'.repeat(33)}!` }],
  [
    'regex as a string pattern to .match',
    '{% if city.match("^(a+)+$") %}x{% endif %}',
    { city: `${'a'.repeat(33)}!` },
  ],
  ['stock striptags on a 120 KB value', '{{ big | striptags | length }}', { big: '<a'.repeat(60_000) }],
  [
    '7,000 sorts of a 10,000-item list',
    '{% set l = range(10000) | reverse %}{% for i in range(7000) %}{% set s = l | sort %}{% endfor %}',
    {},
  ],
];
for (const [what, src, row] of HANGS) {
  test(`4. hang stopped at the deadline: ${what}`, async () => {
    const t0 = performance.now();
    const msg = await refused(src, { ...ROW, ...row });
    assert.match(msg, new RegExp(`did not finish within ${ROW_TIMEOUT_MS} ms`));
    assert.ok(performance.now() - t0 < 1000);
  });
}

test("4. a hang triggered by one row's 33-character city fails that row only; the page around it renders", async () => {
  const tpl = shipment(', "Description": "{% if city.match("^(a+)+$") %}x{% endif %}ok"');
  const rows = [ROW, { ...ROW, city: `${'a'.repeat(33)}!` }, ROW, ROW];
  const { results, ms } = await render(tpl, rows);
  assert.deepEqual(
    results.map((r) => r.ok),
    [true, false, true, true],
  );
  const bad = results[1]!;
  if (!bad.ok) {
    assert.equal(bad.errors[0]!.rowNo, 2);
    assert.match(bad.errors[0]!.message, /did not finish within/);
  }
  assert.ok(ms < 1500, `took ${Math.round(ms)} ms`);
});

test('4. unbounded loops run into the operation budget at once', async () => {
  assert.match(
    await refused('{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}'),
    /too much work/,
  );
  assert.match(await refused('{% for i in range(0, 100000000) %}x{% endfor %}'), /range\(\) is limited/);
});

test('4. the host event loop keeps running while a hostile template spins until its deadline', async () => {
  const ticks: number[] = [];
  const timer = setInterval(() => ticks.push(performance.now()), 10);
  try {
    const t0 = performance.now();
    const msg = await refused('{{ city | replace(r/^(a+)+$/, "x") }}', {
      ...ROW,
      city: `${'a'.repeat(40)}!`,
    });
    const spent = performance.now() - t0;
    assert.match(msg, /did not finish within/);
    assert.ok(spent >= ROW_TIMEOUT_MS, `spun ${Math.round(spent)} ms`);
  } finally {
    clearInterval(timer);
  }
  // Blocked, the loop would show one gap of the whole deadline (250 ms and more); running, ~10 ms gaps.
  const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!);
  assert.ok(ticks.length >= 10, `only ${ticks.length} ticks`);
  assert.ok(Math.max(...gaps) < 200, `the event loop stalled for ${Math.round(Math.max(...gaps))} ms`);
});

test('4. a template stopped on every row gives up after a few rows instead of spending a deadline on each', async () => {
  const rows = Array.from({ length: 40 }, () => ({ ...ROW, city: `${'a'.repeat(33)}!` }));
  const t0 = performance.now();
  const { results } = await render('{{ city | replace(r/^(a+)+$/, "x") }}', rows);
  assert.ok(results.every((r) => !r.ok));
  const last = results[39]!;
  if (!last.ok)
    assert.match(last.errors[0]!.message, /stopped \(or needed more than 125 ms\) on 5 rows of this batch/);
  assert.ok(performance.now() - t0 < 3500);
});

// ---- 5. Allocations that would kill V8 ----

test('5. allocation bombs are refused before they allocate', async () => {
  assert.match(
    await refused('{{ "x".repeat(536870888).split("") }}'),
    /repeat\(\) would build a text longer/,
  );
  assert.match(await refused('{{ [1] | batch(1000000000, "x") }}'), /batch: the size 1000000000 is larger/);
  assert.match(await refused('{{ [1] | slice(1000000000) }}'), /slice: the size 1000000000 is larger/);
  assert.match(await refused('{{ "x" | center(1000000000) }}'), /center: the size/);
  assert.match(await refused('{{ "x".padStart(1000000000) }}'), /padStart\(\) would build/);
  assert.match(
    await refused(
      '{% set s = "xxxxxxxxxx" %}{% for i in range(40) %}{% set s = s ~ s %}{% endfor %}{{ s | length }}',
    ),
    /Invalid string length/,
  );
});

test("5. a render that fills the isolate's memory is stopped; the isolate is replaced and the next row renders", async () => {
  const tpl = `{% if bomb %}{% set keep = [] %}{% set big = "x".repeat(100000) %}{% for i in range(5000) %}{% if keep.push(big.padEnd(131072, i).toUpperCase()) %}{% endif %}{% endfor %}{% endif %}${BENIGN}`;
  const t0 = performance.now();
  const { results } = await render(tpl, [
    { ...ROW, bomb: true },
    { ...ROW, bomb: false },
  ]);
  assert.equal(results[0]!.ok, false);
  if (!results[0]!.ok)
    assert.match(results[0]!.errors[0]!.message, /more than 128 MB of memory|did not finish within/);
  assert.equal(results[1]!.ok, true, JSON.stringify(results[1]));
  assert.ok(performance.now() - t0 < 2500);
});

// ---- 6. Order data rewriting the request: values stay data ----

const INJECTION =
  '"]}}}, "PaymentInformation": {"ShipmentCharge": [{"Type": "01", "BillThirdParty": {"AccountNumber": "EV1L01"}}]}, "x": {"y": [{"z": "';

test('6. a value that tries to close its string and add PaymentInformation stays one value', async () => {
  const { results } = await render(BENIGN, [{ ...ROW, email: `jane@example.com${INJECTION}` }]);
  const r = results[0]!;
  // The whole value is the e-mail address (too long for UPS: a row error on that field, nothing else).
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.deepEqual(
      r.errors.map((e) => e.path),
      ['ShipTo.EMailAddress'],
    );
    assert.equal(r.errors[0]!.value, `jane@example.com${INJECTION}`);
  }
});

test('6. values cannot replace the Shipper, upgrade the service, add COD, a package or an address line', async () => {
  const row = {
    ...ROW,
    name: 'X", "Shipper": {"Name": "E',
    street: '1 A"], "AddressLine": ["x", "y',
    city: 'D", "COD": {"Amount": "999',
    lbs: '2", "Weight": "1',
  };
  const { results } = await render(BENIGN, [row]);
  const r = results[0]!;
  // Only the weight, a number field, fails: as the exact (bad) value it is. Nothing was added or replaced.
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.errors.length, 1, JSON.stringify(r.errors));
    assert.match(r.errors[0]!.message, /round_weight: not a decimal number: "2\\", \\"Weight\\": \\"1"/);
  }
  const s = await shipped(BENIGN, { ...row, lbs: '2' });
  assert.equal(s.ShipTo.Name, row.name);
  assert.equal(s.Shipper.ShipperNumber, 'A1B2C3');
  assert.deepEqual(s.ShipTo.Address.AddressLine, [row.street]);
  assert.equal(s.ShipTo.Address.City, row.city);
  assert.equal(s.Package.length, 1);
  assert.equal(s.Service.Code, '03');
  assert.deepEqual(Object.keys(s).sort(), ['Package', 'PaymentInformation', 'Service', 'ShipTo', 'Shipper']);
  assert.deepEqual(s.PaymentInformation, {
    ShipmentCharge: [{ Type: '01', BillShipper: { AccountNumber: 'A1B2C3' } }],
  });
  const upgraded = await render(BENIGN, [{ ...ROW, service: '01", "Code": "14' }]);
  assert.equal(upgraded.results[0]!.ok, false);
  if (!upgraded.results[0]!.ok)
    assert.deepEqual(
      upgraded.results[0]!.errors.map((e) => e.path),
      ['Service.Code'],
    );
});

test('6. ordinary data with quotes, backslashes, tabs, newlines and markers ships as the exact value', async () => {
  const values = {
    name: 'Dwayne "The Rock" Johnson',
    street: 'Unit 4\\B\t12 Oak Ave',
    city: 'Line\nBreak \u2028 \uE001x',
  };
  const s = await shipped(BENIGN, { ...ROW, ...values });
  assert.equal(s.ShipTo.Name, values.name);
  assert.deepEqual(s.ShipTo.Address.AddressLine, [values.street]);
  assert.equal(s.ShipTo.Address.City, values.city);
});

test('6. a value written outside quotes must be one number/true/false/null', async () => {
  const tpl = shipment(', "Quantity": {{ qty }}');
  const s = await shipped(tpl, { ...ROW, qty: '2' });
  assert.equal(s['Quantity'], 2);
  const msg = await refused(tpl, { ...ROW, qty: '1, "PaymentInformation": {"ShipmentCharge": []}' });
  assert.match(msg, /outside a JSON string/);
  assert.match(await refused(tpl, { ...ROW, qty: 'true }, "x": { "y": 1' }), /outside a JSON string/);
});

test('6. a value right after a backslash, and | json inside quotes, are refused', async () => {
  assert.match(await refused(shipment(', "D": "\\{{ name }}"')), /must not follow a backslash/);
  assert.match(await refused(shipment(', "D": "{{ name | json }}"')), /do not put it inside quotes/);
  assert.match(await refused('{{ name | safe }}'), /safe filter is not available/);
});

test('6. | escape and | e write a JSON-string escape; a template with the marker characters is refused at open', async () => {
  const s = await shipped(shipment(', "D": "{{ name | e }}|{{ name | escape }}"'), {
    ...ROW,
    name: 'a"b\\c',
  });
  assert.equal(s['D'], 'a"b\\c|a"b\\c');
  const opened = await openBatchRenderer({ templateSource: '{"a": "\uE000"}', shipper, batch: BATCH });
  assert.equal(opened.ok, false);
  if (!opened.ok) assert.match(opened.error, /U\+E000/);
});

// ---- 7. Limits and smaller findings ----

test('7. output nested too deep is refused (literal text and | json alike)', async () => {
  assert.match(
    await refused(`{"a": ${'['.repeat(5000)}${']'.repeat(5000)}}`),
    /nested deeper than 16 levels/,
  );
  assert.match(
    await refused(`{% set x = ${'['.repeat(40)}1${']'.repeat(40)} %}{"a": {{ x | json }} }`),
    /nested deeper than 16 levels/,
  );
});

test('7. {% set %} captures and literal text count against the output cap', async () => {
  assert.match(
    await refused(
      '{% set x %}{% for i in range(10000) %}{{ "abcdefghijklmnopqrstuvwxyz" }}{% endfor %}{% endset %}',
    ),
    /output is larger than/,
  );
  assert.match(
    await refused('{% for i in range(10000) %}abcdefghijklmnopqrstuvwxyz{% endfor %}'),
    /output is larger than/,
  );
  assert.match(
    await refused(
      '{% set s = "x".repeat(100000) %}{% for i in range(4000) %}{% set t %}{{ s }}{% endset %}{% endfor %}',
    ),
    /output is larger than/,
  );
});

test('7. round_weight and convert_weight refuse hex, negative, huge precision and inherited unit names', async () => {
  for (const [expr, expected] of [
    ['"0x96" | round_weight', /not a decimal number: "0x96"/],
    ['"-40" | round_weight', /cannot be negative/],
    ['4 | round_weight(400)', /decimals must be a whole number from 0 to 6/],
    ['"1e3" | round_weight', /not a decimal number/],
    ['10 | convert_weight("constructor", "lb")', /unknown unit "constructor"/],
    ['10 | convert_weight("oz", "__proto__")', /unknown unit "__proto__"/],
  ] as const)
    assert.match(await refused(shipment(`, "W": "{{ ${expr} }}"`)), expected);
  const s = await shipped(
    shipment(', "W": "{{ "0.04" | round_weight }}/{{ 16 | convert_weight("oz", "lb") }}"'),
    ROW,
  );
  assert.equal(s['W'], '0.1/1');
});

test("7. a column named __proto__ (or constructor) is data, never the context's prototype", async () => {
  const row = JSON.parse(
    '{"name": "Jane", "__proto__": {"polluted": "yes", "name": "Evil"}, "constructor": "ctor-col"}',
  ) as Record<string, unknown>;
  const s = await shipped(
    shipment(', "D": "{{ row["__proto__"].polluted }}/{{ row.constructor }}/{{ name }}"'),
    { ...ROW, ...row },
  );
  assert.equal(s['D'], 'yes/ctor-col/Jane');
  assert.match(await refused('{{ polluted }}', { ...ROW, ...row }), /undefined variable "polluted"/);
});

test('7. {% call %} works (caller is not blocked) and its body is escaped once', async () => {
  const tpl = shipment(
    ', {% macro field(key) %}"{{ key }}": "{{ caller() }}"{% endmacro %}{% call field("D") %}{{ name }} of {{ city }}{% endcall %}',
  );
  const s = await shipped(tpl, { ...ROW, name: 'Dwayne "The Rock"' });
  assert.equal(s['D'], 'Dwayne "The Rock" of Denver');
});

test('7. the template source has a size limit', async () => {
  const opened = await openBatchRenderer({
    templateSource: `{"a": "${'x'.repeat(MAX_TEMPLATE_CHARS)}"}`,
    shipper,
    batch: BATCH,
  });
  assert.equal(opened.ok, false);
  if (!opened.ok) assert.match(opened.error, new RegExp(`at most ${MAX_TEMPLATE_CHARS}`));
});

test('the renderer is per batch: dispose is idempotent and a disposed renderer refuses more work', async () => {
  const opened = await openBatchRenderer({ templateSource: BENIGN, shipper, batch: BATCH });
  assert.ok(opened.ok);
  if (!opened.ok) return;
  const [r] = await opened.renderer.renderRows([{ rowNo: 3, data: ROW }]);
  assert.equal(r!.ok, true);
  opened.renderer.dispose();
  opened.renderer.dispose();
  await assert.rejects(opened.renderer.renderRows([{ rowNo: 4, data: ROW }]), /disposed/);
});

test('frozen isolate: built-ins cannot be changed, and the one left unfrozen (RegExp, for speed) trips a wire', async () => {
  const opened = await TemplateIsolate.open({
    limits: { ...TEMPLATE_LIMITS },
    templateSource: '{"a": "{{ x | replace(r/b/, "c") }}"}',
    shipperJson: SHIPPER_JSON,
    batchJson: JSON.stringify(BATCH),
  });
  assert.ok(opened.ok);
  if (!opened.ok) return;
  const iso = opened.isolate;
  try {
    // Code run inside the isolate itself (not by a template) cannot change the frozen built-ins either.
    assert.equal(
      await iso.evalForTests(
        '"use strict"; const r = []; for (const f of [() => { Object.prototype.polluted = 1 }, () => { Array.prototype.push = null }, () => { JSON.parse = null }]) { try { f(); r.push("changed") } catch (e) { r.push(e.constructor.name) } } r.join(",")',
      ),
      'TypeError,TypeError,TypeError',
    );
    assert.deepEqual(await iso.renderPage('[{"x": "abc"}]', 1000), [{ o: '{"a": "acc"}' }]);
    await iso.evalForTests('RegExp.prototype.polluted = 1');
    await assert.rejects(iso.renderPage('[{"x": "abc"}]', 1000), (e: unknown) => {
      assert.ok(e instanceof IsolateFailure);
      assert.equal(e.kind, 'crash');
      assert.match(e.message, /changed RegExp/);
      return true;
    });
  } finally {
    iso.dispose();
  }
});

test('6. a row value inserted into an already escaped text (replace, truncate end) is escaped too', async () => {
  const tpl = shipment(
    ', {% set d %}"D": "CITY", "E": "{{ name }}"{% endset %}{{ d | replace("CITY", city) }}, {% set f %}more words {{ name }}{% endset %}"F": "{{ f | truncate(4, true, city) }}"',
  );
  const city = 'Denver", "PaymentInformation": {"x": "y';
  const s = await shipped(tpl, { ...ROW, city: 'Denver', name: 'Jane "J"' });
  assert.equal(s['D'], 'Denver');
  assert.equal(s['E'], 'Jane "J"');
  assert.equal(s['F'], 'moreDenver');
  // A cut through an escaped value is refused, not shipped half-escaped.
  assert.match(
    await refused(
      shipment(', {% set f %}"F": "{{ name }} and more"{% endset %}{{ f | truncate(9, true) }}"'),
    ),
    /cut or reordered an escaped \{\{ value \}\}/,
  );
  const { results } = await render(tpl, [{ ...ROW, city }]);
  const r = results[0]!;
  // The injected text is one value: too long for City, and nowhere a key.
  assert.equal(r.ok, false);
  if (!r.ok)
    assert.deepEqual(
      r.errors.map((e) => e.path),
      ['ShipTo.Address.City'],
    );
});

test('filters that take keys read own properties only: sum, groupby, selectattr, sort, dictsort', async () => {
  const tpl = shipment(
    ', "D": "{{ items | sum("n") }}/{{ items | sum("constructor") }}/{% for k, v in items | groupby("k") %}{{ k }}={{ v | length }};{% endfor %}/{{ items | selectattr("constructor") | length }}/{{ (items | sort(false, false, "n"))[2].k }}/{{ items[0] | dictsort | length }}"',
  );
  const items = [
    { n: 1, k: 'constructor' },
    { n: 2, k: '__proto__' },
    { n: 3, k: 'constructor' },
  ];
  const s = await shipped(tpl, { ...ROW, items });
  assert.equal(s['D'], '6/NaN/constructor=2;__proto__=1;/0/constructor/2');
  assert.match(
    await refused('{{ items | sort(false, false, "toString") }}', { ...ROW, items }),
    /attribute "toString" resolved to undefined/,
  );
});

test('7. an escaped block turned into plain text by a filter or method is refused, not escaped twice', async () => {
  assert.match(
    await refused(shipment(', "D": "{% filter upper %}{{ name }}{% endfilter %}"')),
    /the filter upper turned an escaped block .* into plain text/,
  );
  assert.match(
    await refused(shipment(', {% set d %}{{ name }}{% endset %}"D": "{{ d.toUpperCase() }}"')),
    /toUpperCase\(\) turned an escaped block/,
  );
  // Filters on values, and safe-preserving filters on blocks, are fine.
  const s = await shipped(
    shipment(
      ', {% set d %}{{ name }}{% endset %}"D": "{{ name | upper }}/{{ d | trim }}/{{ d | length > 0 }}"',
    ),
    { ...ROW, name: ' Jo "J" ' },
  );
  assert.equal(s['D'], ' JO "J" / Jo "J" /true');
});

test('4. a template slow (or stopped) on every row is given up after a few rows', async () => {
  // About 300 ms of CPU per row here (each extra 'a' doubles it): over half the deadline even on a faster
  // machine, and on this one mostly stopped at it. Either way each such row is a strike, and from the
  // sixth row on nothing is rendered.
  const rows = Array.from({ length: 30 }, () => ({ ...ROW, city: `${'a'.repeat(26)}!` }));
  const t0 = performance.now();
  const { results } = await render('{{ city | replace(r/^(a+)+$/, "x") }}', rows);
  const ms = performance.now() - t0;
  for (const r of results.slice(5)) {
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.errors[0]!.message, /on 5 rows of this batch/);
  }
  assert.ok(ms < 4000, `took ${Math.round(ms)} ms`);
});
