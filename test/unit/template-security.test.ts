import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { compileTemplate, renderSafely } from '../../activities/template/environment';
import { renderShipmentRequest } from '../../activities/template/render';

const shipper = {
  Name: 'Acme',
  ShipperNumber: 'A1B2C3',
  Address: {
    AddressLine: ['1 Main St'],
    City: 'Austin',
    StateProvinceCode: 'TX',
    PostalCode: '78744',
    CountryCode: 'US',
  },
};

function attempt(src: string): string {
  try {
    return renderSafely(compileTemplate(src), { row: { a: 'x' }, a: 'x', shipper, batch: { id: 'b' } });
  } catch (e) {
    return `ERROR: ${e instanceof Error ? e.message : String(e)}`;
  }
}

test('stock nunjucks executes the constructor escape (proves the block below is needed)', () => {
  // A fresh nunjucks module instance, not patched by our environment.
  const require = createRequire(import.meta.url);
  const path = require.resolve('nunjucks');
  delete require.cache[path];
  for (const k of Object.keys(require.cache)) if (k.includes('/nunjucks/')) delete require.cache[k];
  const stock = require('nunjucks') as typeof import('nunjucks');
  const env = new stock.Environment();
  assert.equal(env.renderString('{{ range.constructor("return process.pid")() }}', {}), String(process.pid));
});

const ESCAPES: [string, RegExp][] = [
  ['{{ range.constructor("return process.pid")() }}', /"constructor" is not allowed/],
  ['{{ cycler.constructor("return process")().exit() }}', /"constructor" is not allowed/],
  ['{{ row["constructor"]["constructor"]("return process")() }}', /"constructor" is not allowed/],
  ['{{ "".constructor.constructor("return this")() }}', /"constructor" is not allowed/],
  ['{{ row.__proto__.polluted }}', /"__proto__" is not allowed/],
  ['{% set x = row.__proto__ %}{{ x }}', /"__proto__" is not allowed/],
  ['{{ constructor }}', /"constructor" is not allowed/],
  ['{{ global.process.pid }}', /undefined variable "global"/],
  ['{{ process.mainModule.require("fs").readFileSync("/etc/passwd") }}', /undefined variable "process"/],
  ['{{ require("child_process") }}', /undefined variable "require"/],
  ['{{ globalThis }}', /undefined variable "globalThis"/],
  ['{% include "/etc/passwd" %}', /cannot include, import or extend/],
  ['{% import "/etc/passwd" as x %}', /cannot include, import or extend/],
  ['{% extends "base.njk" %}', /cannot include, import or extend/],
  ['{% from "x.njk" import y %}', /cannot include, import or extend/],
  ['{% for i in range(0, 100000000) %}x{% endfor %}', /range\(\) is limited/],
  ['{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}', /too much work/],
  ['{% for i in range(9000) %}{{ "abcdefghijklmnopqrstuvwxyz0123456789" }}{% endfor %}', /larger than/],
  ['{{ range.call(null, 3) }}', /"call" is not allowed/],
  ['{{ row.toString.constructor }}', /not allowed|no readable members/],
];

for (const [src, expected] of ESCAPES) {
  test(`escape blocked: ${src}`, () => {
    const pidBefore = (globalThis as { polluted?: unknown }).polluted;
    const out = attempt(src);
    assert.match(out, /^ERROR: /, `should fail, rendered: ${out.slice(0, 80)}`);
    assert.match(out, expected);
    assert.ok(!out.includes(String(process.pid)));
    assert.equal(pidBefore, undefined);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
}

test('an escape attempt in a batch template becomes an E-4003 row error, not a crash', () => {
  const r = renderShipmentRequest('{{ range.constructor("return process.pid")() }}', {}, 7, shipper, {
    id: 'batch-x',
  });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.errors[0]?.code, 'E-4003');
  assert.equal(r.errors[0]?.rowNo, 7);
  assert.match(r.errors[0]?.message ?? '', /constructor/);
});

test('ordinary member access and string methods still work', () => {
  assert.equal(attempt('{{ row.a | upper }}-{{ "a,b".split(",") | length }}'), 'X-2');
});
