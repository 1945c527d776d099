/**
 * batch_preview's after-the-label arguments (issue 25): `pickup`, `track_for` and `track_every` become the
 * batch options the domain's schemas accept, and every bad value or combination is refused naming the
 * argument before the tool touches the client (a client that fails any use stands in for it). The e2e test
 * (test/e2e/agent-mcp.test.ts) sends them over MCP to a real batch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ShipbatchClient } from '../../client/index';
import { BatchOptionsSchema } from '../../domain/batch';
import { afterLabelOptionsOf } from '../../agent/checks';
import { callTool, inputSchemaOf, TOOLS } from '../../agent/tools/index';
import { SHIPPER, TEMPLATE } from '../helpers/batch';

test('pickup, track_for and track_every become the batch options, only those given', () => {
  assert.deepEqual(afterLabelOptionsOf({}, SHIPPER), {});
  const options = afterLabelOptionsOf(
    {
      pickup: { ready_time: '09:00', close_time: '17:30', date: '2026-12-08' },
      track_for: '30d',
      track_every: '6h',
    },
    SHIPPER,
  );
  assert.deepEqual(options, {
    pickup: { readyTime: '09:00', closeTime: '17:30', date: '2026-12-08' },
    trackFor: '30d',
    trackEvery: '6h',
  });
  // What the batch input takes: the options parse, the rest defaulted.
  const parsed = BatchOptionsSchema.parse(options);
  assert.deepEqual([parsed.trackFor, parsed.trackEvery, parsed.pickup?.date], ['30d', '6h', '2026-12-08']);
  // No date: none is sent (the batch picks the day shipping ends), and no tracking without track_every.
  assert.deepEqual(
    afterLabelOptionsOf({ pickup: { ready_time: '08:00', close_time: '09:00' }, track_for: '0s' }, SHIPPER),
    { pickup: { readyTime: '08:00', closeTime: '09:00' }, trackFor: '0s' },
  );
});

test('a window under an hour, track_every without tracking, a pickup with no phone: refused naming the argument', () => {
  const refused = (args: Parameters<typeof afterLabelOptionsOf>[0], pattern: RegExp, shipper = SHIPPER) =>
    assert.throws(
      () => afterLabelOptionsOf(args, shipper),
      (err: Error) => err.name === 'ToolError' && pattern.test(err.message),
    );
  refused(
    { pickup: { ready_time: '09:00', close_time: '09:30' } },
    /^pickup\.close_time: close_time must be at least 60 minutes after ready_time$/,
  );
  refused(
    { pickup: { ready_time: '17:00', close_time: '09:00' } },
    /^pickup\.close_time: close_time must be at least 60 minutes after ready_time$/,
  );
  refused(
    { pickup: { ready_time: '09:00', close_time: '17:00', date: '2026-02-30' } },
    /^pickup\.date: not a calendar date$/,
  );
  refused(
    { track_for: '0s', track_every: '1h' },
    /^track_every: applies only with tracking \(track_for is "0s": no tracking\)/,
  );
  refused(
    { pickup: { ready_time: '09:00', close_time: '17:00' } },
    /^pickup: needs shipper_info\.Phone\.Number/,
    { ...SHIPPER, Phone: undefined },
  );
});

/** A client no refused call may reach: any use fails the call with a message no pattern below matches. */
const untouchable = new Proxy({} as ShipbatchClient, {
  get: (_t, key) => {
    if (key === 'then') return undefined; // not a promise: Promise.resolve looks
    throw new Error(`the client was used (${String(key)})`);
  },
});

async function preview(extra: Record<string, unknown>): Promise<{ isError: boolean; text: string }> {
  const r = await callTool(() => Promise.resolve(untouchable), 'batch_preview', {
    source_table: 'orders',
    mapping_template: TEMPLATE,
    shipper_info: SHIPPER,
    ...extra,
  });
  return { isError: r.isError === true, text: r.content.map((c) => c.text).join('\n') };
}

test('hostile values are refused before the client is used, naming the argument, without echoing them', async () => {
  const huge = '9'.repeat(100_000);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ pickup: 'tomorrow 9-5' }, /pickup: .*expected object, received string/],
    [{ pickup: ['09:00', '17:00'] }, /pickup: .*expected object, received array/],
    [
      { pickup: { ready_time: 900, close_time: '17:00' } },
      /pickup\.ready_time: .*expected string, received number/,
    ],
    [{ pickup: { close_time: '17:00' } }, /pickup\.ready_time: .*expected string, received undefined/],
    [{ pickup: { ready_time: '25:00', close_time: '26:00' } }, /pickup\.ready_time: expected a time of day/],
    [{ pickup: { ready_time: '9:00', close_time: '17:00' } }, /pickup\.ready_time: expected a time of day/],
    [
      { pickup: { ready_time: '09:00', close_time: '09:30' } },
      /pickup\.close_time: close_time must be at least 60 minutes/,
    ],
    [
      { pickup: { ready_time: '09:00', close_time: '17:00', readyTime: '09:00', sql: 'DROP TABLE x' } },
      /pickup: Unrecognized keys: "readyTime", "sql"/,
    ],
    [
      { pickup: { ready_time: '09:00', close_time: '17:00', date: 'next monday' } },
      /pickup\.date: expected a date/,
    ],
    [{ pickup: { ready_time: '09:00', close_time: '17:00', date: huge } }, /pickup\.date: expected a date/],
    [{ pickup: { ready_time: huge, close_time: '17:00' } }, /pickup\.ready_time: expected a time of day/],
    [{ track_for: 14 }, /track_for: .*expected string, received number/],
    [{ track_for: '14 days' }, /track_for: expected a duration such as/],
    [{ track_for: '400d' }, /track_for: at most 365 days/],
    [{ track_for: '999999999d' }, /track_for: at most 365 days/],
    [{ track_for: `${huge}d` }, /track_for: expected a duration such as/],
    [{ track_every: '0s' }, /track_every: at least 1s/],
    [{ track_every: '500ms' }, /track_every: at least 1s/],
    [{ track_every: null }, /track_every: .*expected string, received null/],
    [{ track_for: '0s', track_every: '4h' }, /track_every: applies only with tracking/],
  ];
  for (const [extra, pattern] of cases) {
    const r = await preview(extra);
    assert.equal(r.isError, true, `${JSON.stringify(extra).slice(0, 200)} answered ${r.text.slice(0, 200)}`);
    assert.match(r.text, pattern, JSON.stringify(extra).slice(0, 200));
    assert.ok(r.text.length < 400, `a short answer, not the value back: ${r.text.length} chars`);
  }
});

test('tools/list describes pickup (its fields, patterns, which are required), track_for and track_every', () => {
  const schema = inputSchemaOf(TOOLS[0].schema) as unknown as {
    properties: Record<string, { description?: string; pattern?: string; [k: string]: unknown }>;
  };
  const pickup = schema.properties.pickup as {
    description: string;
    properties: Record<string, { description?: string; pattern?: string }>;
    required: string[];
    additionalProperties: boolean;
  };
  assert.match(pickup.description, /UPS on-call pickup/);
  assert.deepEqual(Object.keys(pickup.properties), ['ready_time', 'close_time', 'date', 'time_zone']);
  assert.deepEqual(pickup.required, ['ready_time', 'close_time']);
  assert.equal(pickup.additionalProperties, false);
  for (const [name, prop] of Object.entries(pickup.properties)) {
    assert.ok(prop.description, `pickup.${name} is described`);
    // A time zone is checked against the runtime's list, not a pattern; the others have theirs.
    if (name !== 'time_zone') assert.ok(prop.pattern, `pickup.${name} has its pattern`);
  }
  assert.match(String(schema.properties.track_for?.description), /"0s" for no tracking/);
  assert.match(String(schema.properties.track_every?.description), /at least 1s/);
  assert.equal(schema.properties.track_for?.default, undefined, 'no default sent when left out');
});
