import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  FaultPicker,
  KnobSource,
  KnobsSchema,
  drawLatencyMs,
  parseKnobs,
  slowDelayMs,
  type Knobs,
} from '../../ups-sandbox/knobs';
import { readCallLog } from '../../ups-sandbox/call-log';
import { readShipments } from '../../ups-sandbox/store';
import { inProcessSandbox, shipmentRequest } from '../helpers/ups-sandbox';
import { seeded as mulberry32 } from '../../chaos/scenario';

/** A random function that always returns `value` and counts its calls. */
function constant(value: number): (() => number) & { calls: number } {
  const fn = Object.assign(
    () => {
      fn.calls++;
      return value;
    },
    { calls: 0 },
  );
  return fn;
}

const knobs = (input: unknown): Knobs => KnobsSchema.parse(input);

/** The value at quantile q (0..1) of sorted values (nearest rank). */
function quantile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'ups-sandbox-knobs-'));
}

// --- drawLatencyMs ---

test('drawLatencyMs: none is 0 and fixed is its ms, whatever the random source', () => {
  const random = constant(0.7);
  assert.equal(drawLatencyMs({ kind: 'none' }, random), 0);
  assert.equal(drawLatencyMs({ kind: 'fixed', ms: 125 }, random), 125);
  assert.equal(drawLatencyMs({ kind: 'fixed', ms: 0 }, random), 0);
});

test('drawLatencyMs: uniform stays within [minMs, maxMs] and covers both halves', () => {
  const random = mulberry32(42);
  const latency = { kind: 'uniform', minMs: 20, maxMs: 60 } as const;
  let low = 0;
  let high = 0;
  for (let i = 0; i < 1000; i++) {
    const ms = drawLatencyMs(latency, random);
    assert.ok(ms >= 20 && ms <= 60, `draw ${i} = ${ms} outside [20, 60]`);
    if (ms < 40) low++;
    else high++;
  }
  assert.ok(low > 300, `only ${low} draws in the lower half`);
  assert.ok(high > 300, `only ${high} draws in the upper half`);
  // The extremes of the random source map onto the bounds.
  assert.equal(
    drawLatencyMs(latency, () => 0),
    20,
  );
  assert.ok(drawLatencyMs(latency, () => 0.999999) <= 60);
});

test('drawLatencyMs: longtail has the configured median and 99th percentile', () => {
  const random = mulberry32(20240601);
  const draws: number[] = [];
  for (let i = 0; i < 20_000; i++)
    draws.push(drawLatencyMs({ kind: 'longtail', medianMs: 50, p99Ms: 500 }, random));
  assert.ok(
    draws.every((ms) => Number.isFinite(ms) && ms > 0),
    'every draw is a positive finite number',
  );
  draws.sort((a, b) => a - b);
  const median = quantile(draws, 0.5);
  const p99 = quantile(draws, 0.99);
  assert.ok(Math.abs(median - 50) <= 50 * 0.15, `median ${median} not within ±15% of 50`);
  assert.ok(Math.abs(p99 - 500) <= 500 * 0.3, `p99 ${p99} not within ±30% of 500`);
});

// --- FaultPicker ---

test('FaultPicker: a rule with times fires exactly that many times, then stops', () => {
  const picker = new FaultPicker(constant(0.5));
  const k = knobs({ rules: [{ fault: 'unavailable', times: 3 }] });
  const picks = Array.from({ length: 6 }, () => picker.pick(k, 'rate_shipment', undefined));
  assert.deepEqual(picks, ['unavailable', 'unavailable', 'unavailable', undefined, undefined, undefined]);
});

test('FaultPicker: a rule without times fires on every matching call', () => {
  const picker = new FaultPicker(constant(0.5));
  const k = knobs({ rules: [{ fault: 'server_error', tool: 'track_package' }] });
  for (let i = 0; i < 5; i++) assert.equal(picker.pick(k, 'track_package', undefined), 'server_error');
  assert.equal(picker.pick(k, 'void_shipment', undefined), undefined);
});

test('FaultPicker: rules filter by tool and by reference', () => {
  const picker = new FaultPicker(constant(0.5));
  const k = knobs({
    rules: [
      { fault: 'rate_limit', tool: 'create_shipment', times: 1 },
      { fault: 'busy', reference: 'ROW-7', times: 1 },
    ],
  });
  // Neither rule matches: wrong tool and wrong reference.
  assert.equal(picker.pick(k, 'rate_shipment', 'ROW-1'), undefined);
  // The reference rule matches any tool.
  assert.equal(picker.pick(k, 'rate_shipment', 'ROW-7'), 'busy');
  assert.equal(picker.pick(k, 'rate_shipment', 'ROW-7'), undefined);
  // The tool rule matches any reference (and none).
  assert.equal(picker.pick(k, 'create_shipment', undefined), 'rate_limit');
  assert.equal(picker.pick(k, 'create_shipment', 'ROW-1'), undefined);

  const both = new FaultPicker(constant(0.5));
  const k2 = knobs({ rules: [{ fault: 'hang', tool: 'create_shipment', reference: 'ROW-2' }] });
  assert.equal(both.pick(k2, 'create_shipment', 'ROW-1'), undefined);
  assert.equal(both.pick(k2, 'rate_shipment', 'ROW-2'), undefined);
  assert.equal(both.pick(k2, 'create_shipment', undefined), undefined);
  assert.equal(both.pick(k2, 'create_shipment', 'ROW-2'), 'hang');
});

test('FaultPicker: perReference counts times per reference', () => {
  const picker = new FaultPicker(constant(0.5));
  const k = knobs({
    rules: [{ tool: 'create_shipment', fault: 'rate_limit', times: 1, perReference: true }],
  });
  const calls = ['ROW-1', 'ROW-1', 'ROW-2', 'ROW-3', 'ROW-2', 'ROW-3', 'ROW-1'];
  const picks = calls.map((ref) => picker.pick(k, 'create_shipment', ref));
  assert.deepEqual(picks, [
    'rate_limit',
    undefined,
    'rate_limit',
    'rate_limit',
    undefined,
    undefined,
    undefined,
  ]);

  // Without perReference the same rule is used up by the first call, whatever its reference.
  const shared = new FaultPicker(constant(0.5));
  const k2 = knobs({ rules: [{ tool: 'create_shipment', fault: 'rate_limit', times: 1 }] });
  const picks2 = ['ROW-1', 'ROW-2', 'ROW-3'].map((ref) => shared.pick(k2, 'create_shipment', ref));
  assert.deepEqual(picks2, ['rate_limit', undefined, undefined]);
});

test('FaultPicker: perReference with times 2 faults the first two calls of each reference', () => {
  const picker = new FaultPicker(constant(0.5));
  const k = knobs({ rules: [{ fault: 'unavailable', times: 2, perReference: true }] });
  const picks = ['A', 'B', 'A', 'B', 'A', 'B'].map((ref) => picker.pick(k, 'create_shipment', ref));
  assert.deepEqual(picks, ['unavailable', 'unavailable', 'unavailable', 'unavailable', undefined, undefined]);
});

test('FaultPicker: rules take precedence over fault rates', () => {
  const random = constant(0);
  const picker = new FaultPicker(random);
  const k = knobs({ rules: [{ fault: 'unavailable', times: 1 }], faultRates: { rate_limit: 1 } });
  assert.equal(picker.pick(k, 'create_shipment', 'ROW-1'), 'unavailable');
  assert.equal(random.calls, 0, 'a rule hit draws no random number');
  // Once the rule is used up the rates apply again.
  assert.equal(picker.pick(k, 'create_shipment', 'ROW-1'), 'rate_limit');
});

test('FaultPicker: fault rates fire when the random draw is below p', () => {
  const k = knobs({ faultRates: { rate_limit: 0.1 } });
  assert.equal(new FaultPicker(constant(0.05)).pick(k, 'rate_shipment', undefined), 'rate_limit');
  assert.equal(new FaultPicker(constant(0.95)).pick(k, 'rate_shipment', undefined), undefined);
  // Zero (or absent) rates never fire, even with a random of 0.
  assert.equal(new FaultPicker(constant(0)).pick(knobs({}), 'rate_shipment', undefined), undefined);
  assert.equal(
    new FaultPicker(constant(0)).pick(knobs({ faultRates: { hang: 0 } }), 'rate_shipment', undefined),
    undefined,
  );
});

test('FaultPicker: faultTools limits the random faults to those tools', () => {
  const picker = new FaultPicker(constant(0));
  const k = knobs({ faultRates: { unavailable: 1 }, faultTools: ['create_shipment'] });
  assert.equal(picker.pick(k, 'create_shipment', 'ROW-1'), 'unavailable');
  assert.equal(picker.pick(k, 'rate_shipment', 'ROW-1'), undefined);
  assert.equal(picker.pick(k, 'void_shipment', undefined), undefined);
  // Rules are not limited by faultTools.
  const withRule = knobs({
    faultTools: ['create_shipment'],
    rules: [{ fault: 'busy', tool: 'track_package' }],
  });
  assert.equal(picker.pick(withRule, 'track_package', undefined), 'busy');
});

test('FaultPicker: after-create faults are only picked for create_shipment, even at p=1', () => {
  const k = knobs({ faultRates: { hang_after_create: 1, timeout_after_create: 1 } });
  const picker = new FaultPicker(constant(0));
  for (const tool of [
    'rate_shipment',
    'void_shipment',
    'recover_label',
    'validate_address',
    'track_package',
  ]) {
    assert.equal(picker.pick(k, tool, 'ROW-1'), undefined, tool);
  }
  assert.equal(picker.pick(k, 'create_shipment', 'ROW-1'), 'hang_after_create');
  const onlyTimeout = knobs({ faultRates: { timeout_after_create: 1 } });
  assert.equal(picker.pick(onlyTimeout, 'void_shipment', undefined), undefined);
  assert.equal(picker.pick(onlyTimeout, 'create_shipment', undefined), 'timeout_after_create');
});

// --- KnobSource and parseKnobs ---

test('KnobSource: the defaults when there is neither inline knobs nor a file', () => {
  const dir = tempDir();
  try {
    const defaults = KnobsSchema.parse({});
    assert.deepEqual(new KnobSource({}).current(), defaults);
    const warnings: string[] = [];
    const missing = new KnobSource({ UPS_SANDBOX_KNOBS_FILE: path.join(dir, 'absent.json') }, (m) =>
      warnings.push(m),
    );
    assert.deepEqual(missing.current(), defaults);
    assert.equal(defaults.latency.kind, 'none');
    assert.equal(defaults.voidWindowHours, 336);
    assert.equal(defaults.hangMs, 3_600_000);
    assert.equal(defaults.retryAfterSeconds, 1);
    assert.equal(defaults.negotiatedRates, true);
    assert.deepEqual(warnings, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('KnobSource: inline UPS_SANDBOX_KNOBS applies; file values override inline ones', () => {
  const dir = tempDir();
  const file = path.join(dir, 'knobs.json');
  try {
    const inline = JSON.stringify({ hangMs: 1000, retryAfterSeconds: 5, latency: { kind: 'fixed', ms: 10 } });
    assert.equal(new KnobSource({ UPS_SANDBOX_KNOBS: inline }).current().hangMs, 1000);

    const env = { UPS_SANDBOX_KNOBS: inline, UPS_SANDBOX_KNOBS_FILE: file };
    const before = new KnobSource(env, () => assert.fail('no warning expected'));
    assert.equal(before.current().hangMs, 1000);
    assert.deepEqual(before.current().latency, { kind: 'fixed', ms: 10 });

    writeFileSync(file, JSON.stringify({ hangMs: 2000, negotiatedRates: false }));
    const source = new KnobSource(env, () => assert.fail('no warning expected'));
    const k = source.current();
    assert.equal(k.hangMs, 2000, 'the file wins');
    assert.equal(k.negotiatedRates, false);
    assert.equal(k.retryAfterSeconds, 5, 'inline values the file does not set stay');
    assert.deepEqual(k.latency, { kind: 'fixed', ms: 10 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('KnobSource: a rewritten file is picked up on the next current(); a removed one falls back to inline', () => {
  const dir = tempDir();
  const file = path.join(dir, 'knobs.json');
  try {
    const source = new KnobSource(
      { UPS_SANDBOX_KNOBS: '{"hangMs": 1000}', UPS_SANDBOX_KNOBS_FILE: file },
      () => assert.fail('no warning expected'),
    );
    assert.equal(source.current().hangMs, 1000);
    assert.deepEqual(source.current().faultRates, {});

    writeFileSync(file, JSON.stringify({ faultRates: { hang: 1 } }));
    assert.deepEqual(source.current().faultRates, { hang: 1 });
    assert.equal(source.current().hangMs, 1000);

    writeFileSync(
      file,
      JSON.stringify({ faultRates: { rate_limit: 0.5 }, rules: [{ fault: 'busy', times: 1 }] }),
    );
    assert.deepEqual(source.current().faultRates, { rate_limit: 0.5 });
    assert.deepEqual(source.current().rules, [{ fault: 'busy', times: 1 }]);

    unlinkSync(file);
    assert.deepEqual(source.current().faultRates, {});
    assert.deepEqual(source.current().rules, []);
    assert.equal(source.current().hangMs, 1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('KnobSource: a same-size rewrite with an unchanged mtime is still picked up', () => {
  // Simulates a filesystem with coarse timestamps (1 s, or one kernel tick on Linux before multigrain
  // timestamps): turning a fault off right after turning it on rewrites the file with the same size.
  const dir = tempDir();
  const file = path.join(dir, 'knobs.json');
  const stamp = new Date('2024-01-01T00:00:00Z');
  try {
    const on = JSON.stringify({ faultRates: { hang: 1 } });
    const off = JSON.stringify({ faultRates: { hang: 0 } });
    assert.equal(on.length, off.length);
    writeFileSync(file, on);
    utimesSync(file, stamp, stamp);
    const source = new KnobSource({ UPS_SANDBOX_KNOBS_FILE: file });
    assert.deepEqual(source.current().faultRates, { hang: 1 });
    writeFileSync(file, off);
    utimesSync(file, stamp, stamp);
    // Same size, same timestamp: only the content tells the change.
    assert.deepEqual(source.current().faultRates, { hang: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('KnobSource: invalid JSON or an invalid value in the file keeps the previous knobs and warns', () => {
  const dir = tempDir();
  const file = path.join(dir, 'knobs.json');
  try {
    const warnings: string[] = [];
    writeFileSync(file, JSON.stringify({ hangMs: 2000 }));
    const source = new KnobSource({ UPS_SANDBOX_KNOBS_FILE: file }, (m) => warnings.push(m));
    assert.equal(source.current().hangMs, 2000);

    writeFileSync(file, '{"hangMs": 30'); // half-written
    assert.equal(source.current().hangMs, 2000);
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0]!.includes(file), `warning names the file: ${warnings[0]}`);
    assert.match(warnings[0]!, /not valid JSON/);

    writeFileSync(file, JSON.stringify({ faultRates: { rate_limit: 2 } }));
    assert.deepEqual(source.current().faultRates, {});
    assert.equal(source.current().hangMs, 2000);
    const last = warnings.at(-1)!;
    assert.ok(last.includes(file), `warning names the file: ${last}`);
    assert.match(last, /faultRates\.rate_limit/);

    // Fixed again: picked up.
    writeFileSync(file, JSON.stringify({ hangMs: 4000 }));
    const count = warnings.length;
    assert.equal(source.current().hangMs, 4000);
    assert.equal(warnings.length, count, 'no warning once the file is valid');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('KnobSource: an invalid file at start leaves the inline knobs in force', () => {
  const dir = tempDir();
  const file = path.join(dir, 'knobs.json');
  try {
    writeFileSync(file, '{"latency": {"kind": "sometimes"}}');
    const warnings: string[] = [];
    const source = new KnobSource(
      { UPS_SANDBOX_KNOBS: '{"hangMs": 1500}', UPS_SANDBOX_KNOBS_FILE: file },
      (m) => warnings.push(m),
    );
    assert.equal(source.current().hangMs, 1500);
    assert.deepEqual(source.current().latency, { kind: 'none' });
    assert.ok(warnings.length >= 1);
    assert.ok(
      warnings.every((w) => w.includes(file) && w.includes('latency.kind')),
      warnings.join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parseKnobs: empty text is no knobs; valid text is returned as given', () => {
  assert.deepEqual(parseKnobs('SRC', undefined), {});
  assert.deepEqual(parseKnobs('SRC', '   '), {});
  assert.deepEqual(parseKnobs('SRC', '{"hangMs": 5}'), { hangMs: 5 });
});

test('parseKnobs: unknown keys are rejected and bad fields are named', () => {
  assert.throws(() => parseKnobs('SRC', '{"hangMS": 5}'), /^Error: SRC: .*hangMS/);
  assert.throws(() => parseKnobs('SRC', '{"latency": {"kind": "sometimes"}}'), /SRC: latency\.kind: /);
  assert.throws(() => parseKnobs('SRC', '{"latency": {"kind": "fixed"}}'), /SRC: latency\.ms: /);
  assert.throws(() => parseKnobs('SRC', '{"faultRates": {"hang": 1.5}}'), /SRC: faultRates\.hang: /);
  assert.throws(() => parseKnobs('SRC', '{"faultRates": {"meteor": 0.5}}'), /SRC: faultRates/);
  assert.throws(() => parseKnobs('SRC', '{"rules": [{"fault": "meteor"}]}'), /SRC: rules\.0\.fault: /);
  assert.throws(
    () => parseKnobs('SRC', '{"rules": [{"fault": "hang", "times": 0}]}'),
    /SRC: rules\.0\.times: /,
  );
  assert.throws(() => parseKnobs('SRC', '{"voidWindowHours": -1}'), /SRC: voidWindowHours: /);
  assert.throws(() => parseKnobs('SRC', '[1, 2]'), /SRC: \(root\): /);
  assert.throws(() => parseKnobs('SRC', '{nope'), /SRC: not valid JSON/);
});

test('KnobSource: an invalid UPS_SANDBOX_KNOBS throws at construction', () => {
  assert.throws(
    () => new KnobSource({ UPS_SANDBOX_KNOBS: '{"latency": {"kind": "x"}}' }),
    /UPS_SANDBOX_KNOBS: latency\.kind/,
  );
  assert.throws(
    () => new KnobSource({ UPS_SANDBOX_KNOBS: '{"unknown": true}' }),
    /UPS_SANDBOX_KNOBS: .*unknown/,
  );
  assert.throws(() => new KnobSource({ UPS_SANDBOX_KNOBS: 'not json' }), /UPS_SANDBOX_KNOBS: not valid JSON/);
});

// --- slow and recoverVisibleAfterMs: knobs ---

test('KnobsSchema: slowMs defaults to 10 s and recoverVisibleAfterMs to 0; rule ms only with slow', () => {
  const defaults = knobs({});
  assert.equal(defaults.slowMs, 10_000);
  assert.equal(defaults.recoverVisibleAfterMs, 0);
  const k = knobs({
    slowMs: 250,
    recoverVisibleAfterMs: 5000,
    rules: [{ tool: 'create_shipment', fault: 'slow', ms: 25_000, times: 1, perReference: true }],
  });
  assert.deepEqual(k.rules, [
    { tool: 'create_shipment', fault: 'slow', ms: 25_000, times: 1, perReference: true },
  ]);
  assert.deepEqual(parseKnobs('SRC', '{"faultRates": {"slow": 0.5}}'), { faultRates: { slow: 0.5 } });
  assert.throws(() => parseKnobs('SRC', '{"recoverVisibleAfterMs": -1}'), /SRC: recoverVisibleAfterMs: /);
  assert.throws(() => parseKnobs('SRC', '{"slowMs": 1.5}'), /SRC: slowMs: /);
  assert.throws(() => parseKnobs('SRC', '{"rules": [{"fault": "slow", "ms": -1}]}'), /SRC: rules\.0\.ms: /);
  assert.throws(
    () => parseKnobs('SRC', '{"rules": [{"fault": "hang", "ms": 100}]}'),
    /SRC: rules\.0\.ms: ms applies only to the fault "slow"/,
  );
});

test('FaultPicker: a slow rule carries its ms, counts times per reference like any rule; else slowMs', () => {
  const picker = new FaultPicker(constant(0.5));
  const k = knobs({
    slowMs: 77,
    rules: [
      { tool: 'create_shipment', fault: 'slow', ms: 25_000, times: 1, perReference: true },
      { tool: 'track_package', fault: 'slow', times: 1 },
    ],
  });
  const picks = ['ROW-1', 'ROW-1', 'ROW-2', 'ROW-2'].map((ref) => picker.choose(k, 'create_shipment', ref));
  assert.deepEqual(picks, [{ kind: 'slow', ms: 25_000 }, undefined, { kind: 'slow', ms: 25_000 }, undefined]);
  assert.equal(slowDelayMs(picks[0]!, k), 25_000);
  // pick() still names the kind alone.
  assert.equal(picker.pick(k, 'create_shipment', 'ROW-3'), 'slow');
  const track = picker.choose(k, 'track_package', undefined);
  assert.deepEqual(track, { kind: 'slow' });
  assert.equal(slowDelayMs(track, k), 77, 'no ms on the rule: the knob slowMs');
  assert.equal(picker.choose(k, 'track_package', undefined), undefined);
  // In faultRates, slow applies to any tool (it is not an after-create fault).
  const rates = knobs({ faultRates: { slow: 0.5 } });
  assert.deepEqual(new FaultPicker(constant(0)).choose(rates, 'recover_label', 'ROW-1'), { kind: 'slow' });
  assert.equal(new FaultPicker(constant(0.99)).choose(rates, 'recover_label', 'ROW-1'), undefined);
});

// --- slow and recoverVisibleAfterMs: through a sandbox server (in process) ---

const textOf = (res: CallToolResult): string =>
  res.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

function createArgs(ref: string): Record<string, unknown> {
  return { request_body: shipmentRequest(ref, { format: 'ZPL' }) };
}

function trackingOf(res: CallToolResult): string {
  assert.ok(!res.isError, textOf(res));
  const body = res.structuredContent as {
    ShipmentResponse: { ShipmentResults: { PackageResults: { TrackingNumber: string }[] } };
  };
  return body.ShipmentResponse.ShipmentResults.PackageResults[0]!.TrackingNumber;
}

const recoverByReference = (ref: string) => ({
  request_body: {
    LabelRecoveryRequest: {
      LabelSpecification: { LabelImageFormat: { Code: 'ZPL' } },
      ReferenceValues: { ReferenceNumber: { Value: ref }, ShipperNumber: 'A1B2C3' },
    },
  },
});
const recoverByTracking = (trackingNumber: string) => ({
  request_body: {
    LabelRecoveryRequest: {
      LabelSpecification: { LabelImageFormat: { Code: 'ZPL' } },
      TrackingNumber: trackingNumber,
    },
  },
});

/** The recovered shipment's tracking number, or the UPS code of the error. */
function recovered(res: CallToolResult): string {
  if (!res.isError) {
    return (
      res.structuredContent as { LabelRecoveryResponse: { LabelResults: { TrackingNumber: string }[] } }
    ).LabelRecoveryResponse.LabelResults[0]!.TrackingNumber;
  }
  return /"errors": \[\{"code": "(\d+)"/.exec(textOf(res))?.[1] ?? textOf(res);
}

test('recoverVisibleAfterMs: recover_label answers 190202 until the shipment is that old; void and track see it at once', async (t) => {
  const sbx = await inProcessSandbox(t, { recoverVisibleAfterMs: 400 });
  // Unknown reference: the same answer.
  assert.equal(recovered(await sbx.call('recover_label', recoverByReference('ROW-0'))), '190202');

  const created = Date.now();
  const tn = trackingOf(await sbx.call('create_shipment', createArgs('ROW-1')));
  assert.equal(readShipments(sbx.dir).length, 1, 'recorded at once');
  assert.equal(recovered(await sbx.call('recover_label', recoverByReference('ROW-1'))), '190202');
  assert.equal(recovered(await sbx.call('recover_label', recoverByTracking(tn))), '190202');
  const track = await sbx.call('track_package', { inquiryNumber: tn });
  assert.ok(!track.isError, textOf(track));

  // A second shipment of another row, voided at once: void is not delayed either.
  const other = trackingOf(await sbx.call('create_shipment', createArgs('ROW-2')));
  const voided = await sbx.call('void_shipment', { shipmentidentificationnumber: other });
  assert.ok(!voided.isError, textOf(voided));

  await new Promise((r) => setTimeout(r, Math.max(0, created + 450 - Date.now())));
  assert.equal(recovered(await sbx.call('recover_label', recoverByReference('ROW-1'))), tn);
  assert.equal(recovered(await sbx.call('recover_label', recoverByTracking(tn))), tn);
});

test('recoverVisibleAfterMs: by reference, the oldest live shipment UPS already shows; the knob turns off at once', async (t) => {
  const sbx = await inProcessSandbox(t, {});
  const first = trackingOf(await sbx.call('create_shipment', createArgs('ROW-1')));
  await sbx.call('void_shipment', { shipmentidentificationnumber: first });
  sbx.setKnobs({ recoverVisibleAfterMs: 60_000 });
  const second = trackingOf(await sbx.call('create_shipment', createArgs('ROW-1')));
  // The live duplicate is not visible yet: the older, voided one is what UPS shows.
  assert.equal(recovered(await sbx.call('recover_label', recoverByReference('ROW-1'))), '190202');
  assert.equal(recovered(await sbx.call('recover_label', recoverByTracking(second))), '190202');
  assert.equal(recovered(await sbx.call('recover_label', recoverByTracking(first))), '190202');
  sbx.setKnobs({});
  assert.equal(recovered(await sbx.call('recover_label', recoverByReference('ROW-1'))), second);
  assert.equal(recovered(await sbx.call('recover_label', recoverByTracking(first))), first);
});

test('slow: a create is recorded only after the delay, once per reference with times 1 and perReference', async (t) => {
  const sbx = await inProcessSandbox(t, {
    rules: [{ tool: 'create_shipment', fault: 'slow', ms: 300, times: 1, perReference: true }],
  });
  const started = Date.now();
  const pending = sbx.call('create_shipment', createArgs('ROW-1'));
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(readShipments(sbx.dir).length, 0, 'not recorded during the delay');
  const tn = trackingOf(await pending);
  assert.ok(Date.now() - started >= 300, 'answered after the delay');
  assert.deepEqual(
    readShipments(sbx.dir).map((r) => r.packages[0]!.trackingNumber),
    [tn],
  );
  const before = Date.now();
  trackingOf(await sbx.call('create_shipment', createArgs('ROW-1')));
  assert.ok(Date.now() - before < 300, 'the second create of ROW-1 is not delayed');
  const slowStart = Date.now();
  trackingOf(await sbx.call('create_shipment', createArgs('ROW-2')));
  assert.ok(Date.now() - slowStart >= 300, 'the first create of ROW-2 is');

  const log = readCallLog(sbx.dir).filter((e) => e.tool === 'create_shipment');
  assert.deepEqual(
    log.map((e) => [e.reference, e.outcome, e.slowMs]),
    [
      ['ROW-1', 'ok', 300],
      ['ROW-1', 'ok', undefined],
      ['ROW-2', 'ok', 300],
    ],
  );
  assert.ok(log[0]!.ms >= 300 && log[2]!.ms >= 300, 'ms includes the delay');
  assert.equal(log[0]!.trackingNumbers?.[0], tn);
});

test('slow: in serial mode the call holds its lane; the delay defaults to slowMs', async (t) => {
  const sbx = await inProcessSandbox(t, { slowMs: 300, rules: [{ tool: 'create_shipment', fault: 'slow' }] });
  const order: string[] = [];
  const started = Date.now();
  const create = sbx.call('create_shipment', createArgs('ROW-1')).then((r) => (order.push('create'), r));
  await new Promise((r) => setTimeout(r, 20));
  const track = sbx.call('track_package', { inquiryNumber: '1Z0000000000000000' }).then(() => {
    order.push('track');
    return Date.now() - started;
  });
  trackingOf(await create);
  assert.ok((await track) >= 300, 'the track call waited for the slow create');
  assert.deepEqual(order, ['create', 'track']);
  assert.equal(readCallLog(sbx.dir).find((e) => e.tool === 'create_shipment')?.slowMs, 300);
});

for (const concurrency of [1, 4]) {
  test(`slow: a create the client cancelled is still recorded after the delay (concurrency ${concurrency})`, async (t) => {
    const sbx = await inProcessSandbox(t, {
      concurrency,
      rules: [{ tool: 'create_shipment', fault: 'slow', ms: 300 }],
    });
    const abort = new AbortController();
    const call = sbx.call('create_shipment', createArgs('ROW-1'), abort.signal);
    await new Promise((r) => setTimeout(r, 50));
    abort.abort(new Error('client timeout'));
    await assert.rejects(call);
    assert.equal(readShipments(sbx.dir).length, 0);
    await sbx.settled();
    // The create goes on to its end after the delay.
    for (let i = 0; i < 50 && readShipments(sbx.dir).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(readShipments(sbx.dir).length, 1);
    assert.equal(readShipments(sbx.dir)[0]!.customerContext, 'ROW-1');
  });
}
