/**
 * The sandbox side of pooling: its per-process call lanes (serial by default, like the real server)
 * and fault-rule counts shared by all the processes of a pool through the data dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultPicker, FileRuleCounter, KnobsSchema } from '../../ups-sandbox/knobs';
import { CallLanes } from '../../ups-sandbox/server';

test('CallLanes with limit 1: one call at a time, the rest in arrival order', async () => {
  const lanes = new CallLanes(() => 1);
  const order: string[] = [];
  const serve = async (id: string, ms: number) => {
    const leave = await lanes.enter();
    order.push(`start ${id}`);
    await sleep(ms);
    order.push(`end ${id}`);
    leave();
  };
  await Promise.all([serve('a', 30), serve('b', 5), serve('c', 5)]);
  assert.deepEqual(order, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  assert.deepEqual(lanes.load, { active: 0, waiting: 0 });
});

test('CallLanes: a queued call whose client gives up leaves the queue; leaving twice frees one lane', async () => {
  const lanes = new CallLanes(() => 1);
  const leave = await lanes.enter();
  const controller = new AbortController();
  const abandoned = lanes.enter(controller.signal);
  const next = lanes.enter();
  assert.deepEqual(lanes.load, { active: 1, waiting: 2 });
  controller.abort(new Error('cancelled by client'));
  await assert.rejects(abandoned, /cancelled by client/);
  assert.deepEqual(lanes.load, { active: 1, waiting: 1 });
  leave();
  leave(); // idempotent: must not open a second lane
  const leaveNext = await next;
  assert.deepEqual(lanes.load, { active: 1, waiting: 0 });
  leaveNext();
  await assert.rejects(lanes.enter(AbortSignal.abort(new Error('gone'))), /gone/);
  assert.deepEqual(lanes.load, { active: 0, waiting: 0 });
});

test('CallLanes follow the concurrency knob as it changes', async () => {
  let limit = 1;
  const lanes = new CallLanes(() => limit);
  const first = await lanes.enter();
  const waiting = [lanes.enter(), lanes.enter(), lanes.enter()];
  assert.equal(lanes.load.waiting, 3);
  limit = 3;
  first(); // on the next exit the lanes open up to the new limit
  const leaves = await Promise.all(waiting);
  assert.deepEqual(lanes.load, { active: 3, waiting: 0 });
  for (const l of leaves) l();
});

test('the concurrency knob: 1 by default, a whole number from 1 to 1024', () => {
  assert.equal(KnobsSchema.parse({}).concurrency, 1);
  assert.equal(KnobsSchema.parse({ concurrency: 16 }).concurrency, 16);
  for (const bad of [0, -1, 1.5, 1025, '4', null]) {
    assert.throws(() => KnobsSchema.parse({ concurrency: bad }), JSON.stringify(bad));
  }
});

test('rule counts are shared through the data dir: two processes fire a times-2 rule twice in total', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-rules-'));
  const knobs = KnobsSchema.parse({ rules: [{ tool: 'create_shipment', fault: 'busy', times: 2 }] });
  // Two pickers over one directory stand for two sandbox processes of a pool.
  const a = new FaultPicker(Math.random, new FileRuleCounter(path.join(dir, 'fault-rules')));
  const b = new FaultPicker(Math.random, new FileRuleCounter(path.join(dir, 'fault-rules')));
  const picks = [a, b, a, b, a, b].map((p) => p.pick(knobs, 'create_shipment', 'r1'));
  assert.deepEqual(picks, ['busy', 'busy', undefined, undefined, undefined, undefined]);
  assert.equal(a.pick(knobs, 'rate_shipment', 'r1'), undefined, 'other tools never match');
});

test('perReference rules count per reference across processes; hostile references stay file names', () => {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'shipbatch-rules-')), 'fault-rules');
  const knobs = KnobsSchema.parse({ rules: [{ fault: 'rate_limit', times: 1, perReference: true }] });
  const a = new FaultPicker(Math.random, new FileRuleCounter(dir));
  const b = new FaultPicker(Math.random, new FileRuleCounter(dir));
  const refs = ['r1', 'r2', '../../etc/passwd', 'x'.repeat(5000), 'a/b\0c'];
  for (const r of refs) {
    assert.equal(a.pick(knobs, 'create_shipment', r), 'rate_limit', `first call of ${r.slice(0, 20)}`);
    assert.equal(b.pick(knobs, 'create_shipment', r), undefined, `second call of ${r.slice(0, 20)}`);
  }
  const files = readdirSync(dir);
  assert.equal(files.length, refs.length);
  assert.ok(
    files.every((f) => /^[0-9a-f]{32}-0$/.test(f)),
    files.join(', '),
  );
});

test('rules without times and random faults need no counting', () => {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'shipbatch-rules-')), 'fault-rules');
  const picker = new FaultPicker(() => 0, new FileRuleCounter(dir));
  const always = KnobsSchema.parse({ rules: [{ fault: 'unavailable' }] });
  assert.deepEqual(
    [1, 2, 3].map(() => picker.pick(always, 'track_package', undefined)),
    ['unavailable', 'unavailable', 'unavailable'],
  );
  assert.equal(picker.pick(KnobsSchema.parse({ faultRates: { busy: 1 } }), 'track_package', 'r'), 'busy');
  assert.deepEqual(readdirSync(path.dirname(dir)), [], 'no counter files were needed');
});
