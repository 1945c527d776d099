/**
 * The session pool against real, serial sandboxes over stdio (the worker's way): the sandbox answers
 * one call at a time per process like the real server; a pool of N sessions (N processes) carries N
 * calls at once, one per process; waiting for a session never eats into a call's timeout; dead and
 * timed-out sessions are replaced. Facts are read from the sandboxes' call log (when each process
 * served each call), not from wall-clock thresholds.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UpsClient } from '../../activities/ups/client';
import { sandboxTarget, UpsMcpConnection } from '../../activities/ups/connection';
import { UpsError } from '../../activities/ups/errors';
import { createUpsClient } from '../../activities/ups/from-config';
import type { UpsSessionPool } from '../../activities/ups/session-pool';
import { rateRequestFromShipmentRequest } from '../../activities/ups/rate-request';
import {
  callsPerReference,
  readCallLog,
  shipmentsPerReference,
  type CallLogEntry,
} from '../../ups-sandbox/call-log';
import { loadConfig } from '../../temporal.config';
import { openSandboxHarness, SHIPPER, shipmentRequest, TOOL_NAMES } from '../helpers/ups-sandbox';

interface Interval {
  pid: number;
  start: number;
  end: number;
}

/** When each call was in service (the log's `at` is when the process started serving it). */
function served(entries: CallLogEntry[]): Interval[] {
  return entries.map((e) => ({ pid: e.pid, start: Date.parse(e.at), end: Date.parse(e.at) + e.ms }));
}

/** Most intervals in service at the same instant (touching ends do not overlap). */
function maxOverlap(intervals: Interval[]): number {
  const events = intervals.flatMap((i) => [
    [i.start, 1],
    [i.end, -1],
  ]);
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let max = 0;
  for (const [, d] of events) {
    now += d!;
    max = Math.max(max, now);
  }
  return max;
}

function maxOverlapPerProcess(intervals: Interval[]): number {
  const pids = new Set(intervals.map((i) => i.pid));
  return Math.max(0, ...[...pids].map((pid) => maxOverlap(intervals.filter((i) => i.pid === pid))));
}

const span = (intervals: Interval[]) =>
  Math.max(...intervals.map((i) => i.end)) - Math.min(...intervals.map((i) => i.start));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A data dir with a knobs file, and a client from configuration with `sessions` sandbox processes. */
function configuredPool(
  name: string,
  sessions: number,
  knobs: Record<string, unknown>,
  callTimeout = '30s',
): { dataDir: string; client: UpsClient; pool: UpsSessionPool; setKnobs(k: Record<string, unknown>): void } {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `shipbatch-pool-${name}-`));
  const knobsFile = path.join(dataDir, 'knobs.json');
  writeFileSync(knobsFile, JSON.stringify(knobs));
  const config = loadConfig({
    SHIPBATCH_UPS_SESSIONS: String(sessions),
    SHIPBATCH_UPS_SANDBOX_DATA_DIR: dataDir,
    SHIPBATCH_UPS_CALL_TIMEOUT: callTimeout,
    UPS_SANDBOX_KNOBS_FILE: knobsFile,
  });
  const client = createUpsClient(config.ups);
  return {
    dataDir,
    client,
    pool: client.connection as UpsSessionPool,
    setKnobs: (k) => writeFileSync(knobsFile, JSON.stringify(k)),
  };
}

describe('the sandbox is serial by default, like the real server', () => {
  test('one process answers one call at a time, even over one multiplexed session; knob concurrency lifts that', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-serial-'));
    const knobsFile = path.join(dataDir, 'knobs.json');
    writeFileSync(knobsFile, JSON.stringify({ latency: { kind: 'fixed', ms: 300 } }));
    // A single session without a pool sends all three at once: the server must queue them.
    const connection = new UpsMcpConnection(
      sandboxTarget({ UPS_SANDBOX_DATA_DIR: dataDir, UPS_SANDBOX_KNOBS_FILE: knobsFile }),
    );
    const rate = (ref: string) =>
      connection.callTool(
        'rate_shipment',
        { requestoption: 'Rate', request_body: rateRequestFromShipmentRequest(shipmentRequest(ref)) },
        { timeoutMs: 30_000 },
      );
    try {
      await connection.listTools();
      const answers = await Promise.all(['SBser-1', 'SBser-2', 'SBser-3'].map(rate));
      assert.ok(answers.every((a) => !a.isError));
      const serial = served(readCallLog(dataDir));
      assert.equal(serial.length, 3);
      assert.equal(maxOverlap(serial), 1, 'never two calls in service at once');
      assert.ok(span(serial) >= 900, `three 300 ms calls one after another (${span(serial)} ms)`);

      writeFileSync(knobsFile, JSON.stringify({ latency: { kind: 'fixed', ms: 300 }, concurrency: 3 }));
      await Promise.all(['SBser-4', 'SBser-5', 'SBser-6'].map(rate));
      const concurrent = served(readCallLog(dataDir).slice(3));
      assert.equal(maxOverlap(concurrent), 3, 'with concurrency 3 all three are served together');
    } finally {
      await connection.close();
    }
  });
});

describe('a serial sandbox over HTTP', () => {
  test('the sessions of one server process share its one lane: a pool of 3 sessions gains nothing', async () => {
    const h = await openSandboxHarness(
      'http',
      {},
      { sessions: 3, knobs: { latency: { kind: 'fixed', ms: 300 } } },
    );
    try {
      const rate = (i: number) => h.client.rateShipmentRequest(shipmentRequest(`SBhttp-lane-${i}`));
      await Promise.all([0, 1, 2].map(rate));
      const serial = served(readCallLog(h.dataDir));
      assert.equal(h.connection.stats().open, 3, 'three HTTP sessions were opened');
      assert.equal(maxOverlap(serial), 1, 'the process served them one after another');
      h.setKnobs({ latency: { kind: 'fixed', ms: 300 }, concurrency: 3 });
      await Promise.all([3, 4, 5].map(rate));
      assert.equal(maxOverlap(served(readCallLog(h.dataDir).slice(3))), 3, 'with concurrency 3, together');
    } finally {
      await h.close();
    }
  });
});

describe('a pool of serial sandboxes', () => {
  const open: UpsClient[] = [];
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
  });

  test('4 sessions carry 4 calls at once, one per process; no call times out while waiting; ~4x a pool of 1', async (t) => {
    const LATENCY = 400;
    const CALLS = 12;
    const TIMEOUT_MS = 2500; // one call needs ~LATENCY; CALLS × LATENCY in line is far longer
    const run = async (sessions: number) => {
      const p = configuredPool(`x${sessions}`, sessions, {}, `${TIMEOUT_MS}ms`);
      open.push(p.client);
      // Warm every process up (spawn, fonts for the first label: seconds on a busy machine) through
      // the same pool with a patient client, before measuring.
      const patient = new UpsClient(p.pool, { tools: TOOL_NAMES, callTimeoutMs: 60_000 });
      await Promise.all(
        Array.from({ length: sessions }, (_, i) =>
          patient.createShipment(shipmentRequest(`SBpool${sessions}-warm-${i}`)),
        ),
      );
      assert.equal(p.pool.stats().open, sessions);
      const warm = readCallLog(p.dataDir).length;
      p.setKnobs({ latency: { kind: 'fixed', ms: LATENCY } });
      const refs = Array.from({ length: CALLS }, (_, i) => `SBpool${sessions}-${i}`);
      // ZPL labels: the sandbox's own CPU (GIF drawing) on a 2-core machine is not what is measured.
      const results = await Promise.allSettled(
        refs.map((r) => p.client.createShipment(shipmentRequest(r, { format: 'ZPL' }))),
      );
      const failures = results.filter((r) => r.status === 'rejected').map((r) => String(r.reason));
      assert.deepEqual(failures, [], `pool ${sessions}: every create shipped, none timed out waiting`);
      const calls = served(readCallLog(p.dataDir).slice(warm));
      assert.equal(calls.length, CALLS);
      for (const r of refs) {
        assert.equal(callsPerReference(p.dataDir).get(r), 1, `${r}: one call`);
        assert.equal(shipmentsPerReference(p.dataDir).get(r), 1, `${r}: one shipment`);
      }
      return { calls, pool: p.pool };
    };

    const one = await run(1);
    assert.equal(new Set(one.calls.map((c) => c.pid)).size, 1);
    assert.equal(maxOverlap(one.calls), 1);
    assert.ok(
      span(one.calls) >= CALLS * LATENCY && span(one.calls) > TIMEOUT_MS,
      `the last calls waited longer than their ${TIMEOUT_MS} ms timeout (span ${span(one.calls)} ms)`,
    );

    const four = await run(4);
    assert.equal(new Set(four.calls.map((c) => c.pid)).size, 4, 'four sandbox processes served');
    assert.equal(maxOverlap(four.calls), 4, 'four calls in service at once');
    assert.equal(maxOverlapPerProcess(four.calls), 1, 'each process one at a time');
    assert.deepEqual((await four.pool.serverPids()).length, 4);
    const speedup = span(one.calls) / span(four.calls);
    t.diagnostic(`${CALLS} creates: pool 1 ${span(one.calls)} ms, pool 4 ${span(four.calls)} ms`);
    assert.ok(
      speedup >= 2.5,
      `pool 4 vs pool 1: ${speedup.toFixed(2)}x (≈4 expected; spans ${span(one.calls)} / ${span(four.calls)} ms)`,
    );
  });

  test('a batch of 200 rows, 32 in flight, through 4 serial sandboxes with the default timeouts: each ships once', async () => {
    const p = configuredPool('batch', 4, { latency: { kind: 'longtail', medianMs: 60, p99Ms: 400 } }, '60s');
    open.push(p.client);
    const refs = Array.from({ length: 200 }, (_, i) => `SBbatch-${i}`);
    let next = 0;
    const outcomes: string[] = [];
    // 32 workers like the worker's activity slots, each shipping rows until none are left.
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < refs.length) {
          const ref = refs[next++]!;
          try {
            await p.client.createShipment(shipmentRequest(ref, { format: 'ZPL' }));
            outcomes.push('shipped');
          } catch (err) {
            outcomes.push(err instanceof UpsError ? `${err.errorClass}: ${err.message}` : String(err));
          }
        }
      }),
    );
    assert.deepEqual(
      outcomes.filter((o) => o !== 'shipped'),
      [],
      'no ambiguous create, no failure',
    );
    const perRef = shipmentsPerReference(p.dataDir);
    assert.ok(
      refs.every((r) => perRef.get(r) === 1 && callsPerReference(p.dataDir).get(r) === 1),
      'one call and one shipment per row',
    );
    const calls = served(readCallLog(p.dataDir));
    assert.equal(new Set(calls.map((c) => c.pid)).size, 4);
    assert.equal(maxOverlapPerProcess(calls), 1);
    assert.equal(maxOverlap(calls), 4);
  });

  test('the pool never puts two calls on one session, even when the server could take them', async () => {
    const p = configuredPool('conc', 3, { concurrency: 8, latency: { kind: 'fixed', ms: 200 } });
    open.push(p.client);
    await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        p.client.rate(rateRequestFromShipmentRequest(shipmentRequest(`SBconc-${i}`))),
      ),
    );
    const calls = served(readCallLog(p.dataDir));
    assert.equal(calls.length, 9);
    assert.equal(maxOverlapPerProcess(calls), 1, 'one call per session (process) at a time');
    assert.equal(maxOverlap(calls), 3, 'three sessions busy at once');
  });

  test('a killed server process is replaced; the other sessions carry on', async () => {
    const p = configuredPool('dead', 2, { latency: { kind: 'fixed', ms: 100 } });
    open.push(p.client);
    await Promise.all([0, 1].map((i) => p.client.createShipment(shipmentRequest(`SBdead-${i}`))));
    const pids = await p.pool.serverPids();
    assert.equal(pids.length, 2);
    process.kill(pids[0]!, 'SIGKILL');
    await sleep(300);
    const after = await Promise.all(
      [2, 3, 4, 5].map((i) => p.client.createShipment(shipmentRequest(`SBdead-${i}`))),
    );
    assert.equal(new Set(after.map((s) => s.shipmentId)).size, 4);
    const now = await p.pool.serverPids();
    assert.equal(now.length, 2);
    assert.ok(!now.includes(pids[0]!), 'the killed process is gone from the pool');
    assert.ok(now.includes(pids[1]!), 'the healthy session kept its process');
    assert.equal(p.pool.stats().size, 2);
  });

  test('a call that timed out does not hold up the next one: its session (process) is replaced', async () => {
    const p = configuredPool(
      'hang',
      1,
      { hangMs: 120_000, rules: [{ tool: 'create_shipment', fault: 'hang_after_create', times: 1 }] },
      '1500ms',
    );
    open.push(p.client);
    await p.pool.listTools(); // the session is open before the timed call
    const lost = await p.client.createShipment(shipmentRequest('SBhang-1')).then(
      () => assert.fail('the hung create should time out'),
      (err: unknown) => err as UpsError,
    );
    assert.ok(lost instanceof UpsError);
    assert.deepEqual([lost.category, lost.errorClass], ['transport', 'ambiguous']);
    const hungPid = readCallLog(p.dataDir).find((e) => e.outcome === 'hang')!.pid;
    // The serial server is still inside its 120 s hang: a call sent there would wait behind it and time
    // out. The pool sent the next call to a new process instead.
    const next = await p.client.createShipment(shipmentRequest('SBhang-2'));
    assert.ok(next.shipmentId);
    const ok = readCallLog(p.dataDir).find((e) => e.reference === 'SBhang-2')!;
    assert.notEqual(ok.pid, hungPid);
    await sleep(500);
    assert.equal(isAlive(hungPid), false, 'the hung server process was stopped');
    assert.ok(
      await p.client.recoverByReference('SBhang-1', SHIPPER.ShipperNumber),
      'the lost create shipped',
    );
    assert.equal(p.pool.stats().replaced, 1);
  });

  // The chaos partition scenario's sequence: a worker gives up on a create UPS is still making (its
  // activity timed out), its session's process is stopped, and UPS finishes the shipment anyway.
  test('a slow create whose call timed out still lands at UPS after its sandbox process was stopped', async () => {
    const p = configuredPool(
      'slow-gone',
      1,
      { rules: [{ tool: 'create_shipment', fault: 'slow', ms: 4000, times: 1 }] },
      '1s',
    );
    open.push(p.client);
    await p.client.rateShipmentRequest(shipmentRequest('SBgone-rate'));
    const pid = readCallLog(p.dataDir).find((e) => e.reference === 'SBgone-rate')!.pid;
    const started = Date.now();
    const lost = await p.client.createShipment(shipmentRequest('SBgone-1')).then(
      () => assert.fail('the slow create should time out'),
      (err: unknown) => err as UpsError,
    );
    assert.deepEqual([lost.category, lost.errorClass], ['transport', 'ambiguous']);
    // The next call goes to a new process; the one serving the slow create is stopped.
    await p.client.rateShipmentRequest(shipmentRequest('SBgone-rate-2'));
    for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
    assert.equal(isAlive(pid), false, 'the process serving the slow create was stopped');
    assert.ok(Date.now() - started < 4000, 'stopped while UPS was still making the shipment');
    assert.equal(
      await p.client.recoverByReference('SBgone-1', SHIPPER.ShipperNumber),
      undefined,
      'not found while UPS is still making it',
    );
    await sleep(Math.max(0, started + 4300 - Date.now()));
    const landed = await p.client.recoverByReference('SBgone-1', SHIPPER.ShipperNumber);
    assert.ok(landed?.shipmentId, 'the create landed at UPS after its delay');
    assert.equal(shipmentsPerReference(p.dataDir).get('SBgone-1'), 1);
  });
});

describe('UpsClient over a single session still works (no pool)', () => {
  test('createShipment through UpsMcpConnection', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-single-'));
    const client = new UpsClient(new UpsMcpConnection(sandboxTarget({ UPS_SANDBOX_DATA_DIR: dataDir })), {
      tools: TOOL_NAMES,
      callTimeoutMs: 30_000,
    });
    try {
      assert.ok((await client.createShipment(shipmentRequest('SBsingle-1'))).shipmentId);
      assert.match(client.connection.describe(), /^stdio /);
    } finally {
      await client.close();
    }
  });
});
