/**
 * UpsSessionPool decisions, with stub sessions that behave like a serial server reached over one MCP
 * session: the timeout runs from when the session gets the call. Real sandboxes: test/contract/ups-pool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { UpsClient } from '../../activities/ups/client';
import { UpsTransportError, type CallOptions } from '../../activities/ups/connection';
import { UpsError } from '../../activities/ups/errors';
import { MAX_UPS_SESSIONS, UpsSessionPool, type UpsSession } from '../../activities/ups/session-pool';
import { TOOL_NAMES, shipmentRequest } from '../helpers/ups-sandbox';

const OK: CallToolResult = { content: [{ type: 'text', text: '{}' }], structuredContent: {} };

/** What a stub call does: wait `ms`, then answer or throw. */
type Script = (args: Record<string, unknown>) => { ms: number; result?: CallToolResult; error?: Error };

interface StubWorld {
  pool: UpsSessionPool;
  sessions: StubSession[];
  /** Each call as the sessions saw it, in hand-off order. */
  handed: Array<{ session: number; id: unknown; at: number; timeoutMs: number }>;
  /** Most calls in flight at once, over all sessions and on any single session. */
  maxTotal(): number;
  maxPerSession(): number;
}

class StubSession implements UpsSession {
  inFlight = 0;
  maxInFlight = 0;
  closed = false;
  private readonly pending = new Set<(err: Error) => void>();

  constructor(
    readonly serial: number,
    private readonly world: { total: number; max: number; handed: StubWorld['handed'] },
    private readonly script: Script,
  ) {}

  async callTool(_name: string, args: Record<string, unknown>, opts: CallOptions): Promise<CallToolResult> {
    if (this.closed) throw new UpsTransportError('stub session closed', false);
    await opts.beforeSend?.();
    this.world.handed.push({ session: this.serial, id: args.id, at: Date.now(), timeoutMs: opts.timeoutMs });
    this.inFlight += 1;
    this.world.total += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.world.max = Math.max(this.world.max, this.world.total);
    const { ms, result, error } = this.script(args);
    try {
      // As the MCP SDK does: the timeout starts now, when the request goes out on this session.
      await new Promise<void>((resolve, reject) => {
        const work = setTimeout(resolve, ms);
        const timeout = setTimeout(
          () => reject(new UpsTransportError(`Request timed out after ${opts.timeoutMs} ms`, true)),
          opts.timeoutMs,
        );
        const fail = (err: Error) => {
          clearTimeout(work);
          clearTimeout(timeout);
          reject(err);
        };
        this.pending.add(fail);
        setTimeout(() => {
          clearTimeout(timeout);
          this.pending.delete(fail);
        }, ms).unref();
      });
    } finally {
      this.inFlight -= 1;
      this.world.total -= 1;
    }
    if (error) throw error;
    return result ?? OK;
  }

  listTools(): Promise<string[]> {
    return Promise.resolve(['create_shipment']);
  }

  close(): Promise<void> {
    this.closed = true;
    for (const fail of this.pending) fail(new UpsTransportError('Connection closed', true));
    this.pending.clear();
    return Promise.resolve();
  }
}

function stubPool(size: number, script: Script = () => ({ ms: 20 })): StubWorld {
  const sessions: StubSession[] = [];
  const state = { total: 0, max: 0, handed: [] as StubWorld['handed'] };
  const pool = new UpsSessionPool(size, () => {
    const s = new StubSession(sessions.length, state, script);
    sessions.push(s);
    return s;
  });
  return {
    pool,
    sessions,
    handed: state.handed,
    maxTotal: () => state.max,
    maxPerSession: () => Math.max(0, ...sessions.map((s) => s.maxInFlight)),
  };
}

const call = (w: StubWorld, id: unknown, timeoutMs = 5_000, signal?: AbortSignal) =>
  w.pool.callTool('create_shipment', { id }, { timeoutMs, signal });

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof Error);
    return err;
  }
  assert.fail('expected a rejection');
}

test('each session carries one call at a time; at most `size` calls in flight; sessions open on demand', async () => {
  const w = stubPool(3);
  await call(w, 'first');
  assert.equal(w.sessions.length, 1, 'one call needed one session');
  await Promise.all(Array.from({ length: 12 }, (_, i) => call(w, i)));
  assert.equal(w.sessions.length, 3);
  assert.equal(w.maxPerSession(), 1, 'never two calls on one session');
  assert.equal(w.maxTotal(), 3, 'all three sessions were used at once');
  assert.equal(w.handed.length, 13);
  assert.deepEqual(w.pool.stats(), { size: 3, open: 3, busy: 0, waiting: 0, replaced: 0 });
  await w.pool.close();
});

test('waiting for a session is not part of the timeout: it starts when the session gets the call', async () => {
  // One session, busy for 400 ms; the next call allows 150 ms and needs 20 ms once it is sent.
  const w = stubPool(1, (args) => ({ ms: args.id === 'slow' ? 400 : 20 }));
  const started = Date.now();
  const slow = call(w, 'slow', 5_000);
  const quick = call(w, 'quick', 150);
  await sleep(50);
  assert.deepEqual(w.pool.stats().waiting, 1, 'the second call waits in the pool, not in the server');
  await Promise.all([slow, quick]);
  const handed = w.handed.find((h) => h.id === 'quick')!;
  assert.ok(handed.at - started >= 390, `handed over after the slow call (${handed.at - started} ms)`);
  assert.equal(handed.timeoutMs, 150, 'the full timeout, not what is left of it');
  await w.pool.close();
});

test('waiters are served in arrival order', async () => {
  const w = stubPool(1, () => ({ ms: 5 }));
  await Promise.all(['a', 'b', 'c', 'd', 'e'].map((id) => call(w, id)));
  assert.deepEqual(
    w.handed.map((h) => h.id),
    ['a', 'b', 'c', 'd', 'e'],
  );
  await w.pool.close();
});

test('a session whose call broke after sending is closed and replaced; the next call gets a fresh one', async () => {
  const w = stubPool(1, (args) =>
    args.id === 'breaks' ? { ms: 10, error: new UpsTransportError('pipe closed', true) } : { ms: 10 },
  );
  await call(w, 'before');
  const err = await rejection(call(w, 'breaks'));
  assert.ok(err instanceof UpsTransportError && err.sent);
  assert.equal(w.sessions[0]!.closed, true, 'the broken session is closed');
  await call(w, 'after');
  assert.equal(w.sessions.length, 2);
  assert.deepEqual(
    w.handed.map((h) => [h.id, h.session]),
    [
      ['before', 0],
      ['breaks', 0],
      ['after', 1],
    ],
  );
  assert.equal(w.pool.stats().replaced, 1);
  await w.pool.close();
});

test('a timed-out call replaces its session (a serial server may still be busy with it)', async () => {
  const w = stubPool(1, (args) => ({ ms: args.id === 'hangs' ? 10_000 : 10 }));
  const err = await rejection(call(w, 'hangs', 100));
  assert.match(err.message, /timed out/);
  await call(w, 'next', 100);
  assert.deepEqual(
    w.handed.map((h) => h.session),
    [0, 1],
  );
  await w.pool.close();
});

test('answers over a healthy session keep it: tool errors, JSON-RPC errors, never-sent failures', async () => {
  const answers: Record<string, { ms: number; result?: CallToolResult; error?: Error }> = {
    isError: { ms: 1, result: { isError: true, content: [{ type: 'text', text: 'Error executing tool' }] } },
    rpc: { ms: 1, error: new McpError(-32602, 'Invalid params') },
    refused: { ms: 1, error: new UpsTransportError('ECONNREFUSED', false) },
  };
  const w = stubPool(1, (args) => answers[String(args.id)] ?? { ms: 1 });
  assert.equal((await call(w, 'isError')).isError, true);
  assert.ok((await rejection(call(w, 'rpc'))) instanceof McpError);
  assert.ok((await rejection(call(w, 'refused'))) instanceof UpsTransportError);
  await call(w, 'ok');
  assert.equal(w.sessions.length, 1, 'still the first session');
  assert.equal(w.pool.stats().replaced, 0);
  await w.pool.close();
});

test('an abort while waiting removes the waiter: nothing is sent, the line moves on', async () => {
  const w = stubPool(1, (args) => ({ ms: args.id === 'busy' ? 200 : 5 }));
  const busy = call(w, 'busy');
  const controller = new AbortController();
  const abandoned = call(w, 'abandoned', 5_000, controller.signal);
  const third = call(w, 'third');
  await sleep(20);
  assert.equal(w.pool.stats().waiting, 2);
  controller.abort(new Error('activity cancelled'));
  const err = await rejection(abandoned);
  assert.ok(err instanceof UpsTransportError);
  assert.equal(err.sent, false, 'it never reached a server');
  assert.match(err.message, /cancelled while waiting for a free UPS MCP session/);
  assert.equal(w.pool.stats().waiting, 1);
  await Promise.all([busy, third]);
  assert.deepEqual(
    w.handed.map((h) => h.id),
    ['busy', 'third'],
  );
  const already = AbortSignal.abort();
  assert.equal(((await rejection(call(w, 'late', 5_000, already))) as UpsTransportError).sent, false);
  await w.pool.close();
});

test('close: waiters fail as never sent, calls in flight fail, every session (and replaced ones) closed', async () => {
  const w = stubPool(2, (args) =>
    args.id === 'broken' ? { ms: 1, error: new UpsTransportError('reset', true) } : { ms: 10_000 },
  );
  await rejection(call(w, 'broken')); // replaced: session 0 closed, session 1 takes its slot
  const inFlight = [call(w, 'a'), call(w, 'b')];
  const waiting = call(w, 'c');
  await sleep(20);
  await w.pool.close();
  const waitErr = await rejection(waiting);
  assert.ok(waitErr instanceof UpsTransportError && !waitErr.sent);
  assert.match(waitErr.message, /closed/);
  for (const p of inFlight) assert.ok((await rejection(p)) instanceof UpsTransportError);
  assert.ok(
    w.sessions.every((s) => s.closed),
    'every session closed',
  );
  const after = await rejection(call(w, 'after-close'));
  assert.ok(after instanceof UpsTransportError && !after.sent);
  assert.equal(w.handed.filter((h) => h.id === 'c' || h.id === 'after-close').length, 0);
});

test('pool size must be a whole number from 1 to the maximum', () => {
  for (const bad of [0, -1, 1.5, Number.NaN, MAX_UPS_SESSIONS + 1]) {
    assert.throws(
      () => new UpsSessionPool(bad, () => assert.fail('no session should open')),
      (err: unknown) => err instanceof RangeError && err.message.includes(String(bad)),
    );
  }
});

const SHIPPED: CallToolResult = {
  content: [{ type: 'text', text: '' }],
  structuredContent: {
    ShipmentResponse: {
      ShipmentResults: {
        ShipmentIdentificationNumber: '1ZA1B2C30300000017',
        PackageResults: [{ TrackingNumber: '1ZA1B2C30300000017' }],
        ShipmentCharges: { TotalCharges: { CurrencyCode: 'USD', MonetaryValue: '12.34' } },
      },
    },
  },
};

test('through UpsClient: a create that waited longer than its timeout ships; one abandoned in line is retryable', async () => {
  const w = stubPool(1, () => ({ ms: 150, result: SHIPPED }));
  const client = new UpsClient(w.pool, { tools: TOOL_NAMES, callTimeoutMs: 200, callsPerSecond: 0 });
  // 4 × 150 ms in line for one session: the last waited ~450 ms, more than its 200 ms timeout.
  const results = await Promise.all(
    Array.from({ length: 4 }, (_, i) => client.createShipment(shipmentRequest(`SBpool-${i}`))),
  );
  assert.deepEqual(
    results.map((r) => r.totalCents),
    [1234, 1234, 1234, 1234],
  );
  const last = w.handed.at(-1)!.at - w.handed[0]!.at;
  assert.ok(last >= 400, `the last create was handed over ${last} ms after the first`);

  const controller = new AbortController();
  const first = client.createShipment(shipmentRequest('SBpool-a'));
  const abandoned = client.createShipment(shipmentRequest('SBpool-b'), controller.signal);
  controller.abort();
  const err = await rejection(abandoned);
  assert.ok(err instanceof UpsError);
  assert.deepEqual(
    [err.category, err.errorClass],
    ['transport', 'retryable'],
    'never sent, so not ambiguous',
  );
  assert.equal((await first).shipmentId, '1ZA1B2C30300000017');
  assert.equal(w.handed.length, 5, 'the abandoned create never reached a session');
  await client.close();
});
