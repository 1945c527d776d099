/**
 * The sandbox's pickup tools (rate_pickup, schedule_pickup, cancel_pickup, get_pickup_status): the real
 * server's arguments and its refusals before UPS (pydantic's errors, its own checks, worded as it words
 * them), then the simulated Pickup API: a PRN per pickup kept durably in the data dir and shared by the
 * pool's processes, UPS's "same PRN for the same address" rule that makes a repeated request safe, pending
 * status per account, cancellation once. Over MCP in-process (real clock), directly where the clock matters.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ToolFailure } from '../../ups-sandbox/errors';
import { KnobSource } from '../../ups-sandbox/knobs';
import { PICKUPS_FILE, readPickups } from '../../ups-sandbox/pickups';
import { createSandboxServer, openSandboxState } from '../../ups-sandbox/server';
import { ShipmentStore } from '../../ups-sandbox/store';
import { TOOLS } from '../../ups-sandbox/tools';
import * as ups from '../../ups-sandbox/ups';

type Obj = Record<string, unknown>;
const DAY = 86_400_000;
const ACCOUNT = 'A1B2C3';

const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
/** The day after tomorrow (UTC): a future-day pickup whatever the time of day. */
const LATER = ymd(Date.now() + 2 * DAY);

/** Complete schedule_pickup arguments for an Austin warehouse. */
function pickupArgs(over: Obj = {}): Obj {
  return {
    pickup_date: LATER,
    ready_time: '0900',
    close_time: '1700',
    address_line: '1200 Industrial Blvd',
    city: 'Austin',
    state: 'TX',
    postal_code: '78744',
    country_code: 'US',
    contact_name: 'Shipping Dept',
    phone_number: '5125550100',
    account_number: ACCOUNT,
    ...over,
  };
}

const textOf = (r: CallToolResult): string =>
  r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

/** An in-process sandbox server on `dataDir` (a pool process), with UPS_ACCOUNT_NUMBER when given. */
async function sandbox(t: TestContext, dataDir: string, account?: string) {
  const knobsFile = path.join(dataDir, '..', 'knobs.json');
  writeFileSync(knobsFile, '{}');
  const state = openSandboxState(dataDir, {
    UPS_SANDBOX_KNOBS_FILE: knobsFile,
    ...(account ? { UPS_ACCOUNT_NUMBER: account } : {}),
  });
  const server = createSandboxServer(state);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'pickup-test', version: '0' });
  await client.connect(clientSide);
  t.after(async () => {
    await client.close();
    await server.close();
    state.store.close();
  });
  const call = async (name: string, args: unknown) =>
    (await client.callTool({ name, arguments: args as Obj })) as CallToolResult;
  return {
    call,
    /** A success's body. */
    async ok(name: string, args: unknown): Promise<Obj> {
      const r = await call(name, args);
      assert.ok(!r.isError, textOf(r));
      return r.structuredContent as Obj;
    },
    /** A failure's text after the real server's prefix. */
    async fails(name: string, args: unknown): Promise<string> {
      const r = await call(name, args);
      assert.equal(r.isError, true, `expected ${name} to fail: ${textOf(r).slice(0, 300)}`);
      const prefix = `Error executing tool ${name}: `;
      assert.ok(textOf(r).startsWith(prefix), textOf(r).slice(0, 200));
      return textOf(r).slice(prefix.length);
    },
  };
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-pickup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'data');
}

/** A UPS error's status and code (under details.response.errors, as the Pickup API nests them). */
function upsCode(body: string): [number, string] {
  const p = JSON.parse(body) as {
    status_code: number;
    details: { response: { errors: { code: string }[] } };
  };
  return [p.status_code, p.details.response.errors[0]!.code];
}

const prnOf = (body: Obj) => (body.PickupCreationResponse as { PRN: string }).PRN;
const pending = (body: Obj) => (body.PickupPendingStatusResponse as { PendingStatus: Obj[] }).PendingStatus;

test('schedule → PRN; get_pickup_status lists it for the account; cancel once; a second cancel is "already cancelled"', async (t) => {
  const dir = tempDir(t);
  const sbx = await sandbox(t, dir);
  const created = await sbx.ok('schedule_pickup', pickupArgs());
  const prn = prnOf(created);
  assert.match(prn, /^[0-9A-Z]{11}$/);
  assert.deepEqual((created.PickupCreationResponse as Obj).RateStatus, {
    Code: '04',
    Description: 'Rate not requested',
  });
  assert.deepEqual(
    ((created.PickupCreationResponse as Obj).Response as Obj).TransactionReference,
    { CustomerContext: 'ups-mcp' },
    'the real server sends transaction_src as the CustomerContext',
  );
  assert.deepEqual(
    readPickups(dir).map((p) => [p.prn, p.pickupDate, p.account, p.quantity, p.weight]),
    [[prn, LATER, ACCOUNT, '1', '5.0']],
  );

  const status = pending(
    await sbx.ok('get_pickup_status', { pickup_type: 'oncall', account_number: ACCOUNT }),
  );
  assert.deepEqual(
    status.map((s) => [s.PRN, s.ServiceDate, s.PickupType, s.ContactName]),
    [[prn, LATER, '01', 'Shipping Dept']],
  );
  assert.equal(status[0]!.PickupStatusMessage, 'Your pickup request is being processed');
  assert.equal(
    pending(await sbx.ok('get_pickup_status', { pickup_type: 'both', account_number: 'a1b2c3' })).length,
    1,
    'accounts compare without case',
  );
  assert.deepEqual(
    pending(await sbx.ok('get_pickup_status', { pickup_type: 'smart', account_number: ACCOUNT })),
    [],
  );
  assert.deepEqual(
    pending(await sbx.ok('get_pickup_status', { pickup_type: 'oncall', account_number: 'Z9Z9Z9' })),
    [],
  );

  const cancelled = await sbx.ok('cancel_pickup', { cancel_by: 'prn', prn });
  assert.deepEqual((cancelled.PickupCancelResponse as Obj).PickupType, '01');
  assert.deepEqual(upsCode(await sbx.fails('cancel_pickup', { cancel_by: 'prn', prn })), [400, '9510113']);
  assert.deepEqual(
    pending(await sbx.ok('get_pickup_status', { pickup_type: 'oncall', account_number: ACCOUNT })),
    [],
  );
  assert.ok(readPickups(dir)[0]!.cancelledAt, 'the cancellation is on record');

  // A new request for the same address and date after the cancellation is a new pickup.
  const again = prnOf(await sbx.ok('schedule_pickup', pickupArgs()));
  assert.notEqual(again, prn);
});

test('a lost answer: scheduling again for the same address and date gives the same PRN (UPS’s rule), and status finds it', async (t) => {
  const dir = tempDir(t);
  const sbx = await sandbox(t, dir);
  const first = prnOf(await sbx.ok('schedule_pickup', pickupArgs()));
  // The same pickup point written differently, another window and quantity: still UPS's pickup of that address.
  const second = prnOf(
    await sbx.ok(
      'schedule_pickup',
      pickupArgs({
        address_line: ' 1200  industrial blvd',
        city: 'AUSTIN',
        ready_time: '1000',
        quantity: 40,
      }),
    ),
  );
  assert.equal(second, first);
  assert.equal(readPickups(dir).length, 1, 'one pickup');
  assert.equal(readPickups(dir)[0]!.quantity, '1', 'the first request stands');
  const found = pending(
    await sbx.ok('get_pickup_status', { pickup_type: 'oncall', account_number: ACCOUNT }),
  );
  assert.deepEqual(
    found.map((s) => s.PRN),
    [first],
  );
  // Another date, or another address: another pickup.
  const otherDay = prnOf(
    await sbx.ok('schedule_pickup', pickupArgs({ pickup_date: ymd(Date.now() + 3 * DAY) })),
  );
  const otherDock = prnOf(
    await sbx.ok('schedule_pickup', pickupArgs({ address_line: '1300 Industrial Blvd' })),
  );
  assert.equal(new Set([first, otherDay, otherDock]).size, 3);
  const all = pending(await sbx.ok('get_pickup_status', { pickup_type: 'oncall', account_number: ACCOUNT }));
  assert.deepEqual(
    all.map((s) => s.ServiceDate),
    [LATER, LATER, ymd(Date.now() + 3 * DAY)],
    'by date',
  );
});

test('knob: timeout_after_create on schedule_pickup — the pickup is on record, the answer is lost; scheduling again gives its PRN', async (t) => {
  const dir = tempDir(t);
  const sbx = await sandbox(t, dir);
  writeFileSync(
    path.join(dir, '..', 'knobs.json'),
    JSON.stringify({ rules: [{ fault: 'timeout_after_create', tool: 'schedule_pickup', times: 1 }] }),
  );
  const lost = await sbx.fails('schedule_pickup', pickupArgs());
  assert.match(lost, /REQUEST_ERROR|timed out|timeout/i, lost);
  assert.equal(readPickups(dir).length, 1, 'UPS has the pickup although the caller heard nothing');
  const prn = readPickups(dir)[0]!.prn;
  assert.deepEqual(
    pending(await sbx.ok('get_pickup_status', { pickup_type: 'oncall', account_number: ACCOUNT })).map(
      (s) => s.PRN,
    ),
    [prn],
  );
  assert.equal(prnOf(await sbx.ok('schedule_pickup', pickupArgs())), prn, 'the rule struck once');
  assert.equal(readPickups(dir).length, 1);
});

test('the pool: processes on one data dir agree — concurrent requests for one address give one PRN, concurrent cancels one success', async (t) => {
  const dir = tempDir(t);
  const pool = await Promise.all([1, 2, 3, 4].map(() => sandbox(t, dir)));
  const prns = await Promise.all(
    pool.flatMap((p) => [1, 2, 3].map(() => p.ok('schedule_pickup', pickupArgs()).then(prnOf))),
  );
  assert.equal(new Set(prns).size, 1, `one PRN for twelve requests: ${[...new Set(prns)].join(', ')}`);
  assert.equal(readPickups(dir).length, 1);
  assert.equal(
    readFileSync(path.join(dir, PICKUPS_FILE), 'utf8').trim().split('\n').length,
    12,
    'each request on record',
  );

  const results = await Promise.all(
    pool.map((p) => p.call('cancel_pickup', { cancel_by: 'prn', prn: prns[0] })),
  );
  assert.equal(results.filter((r) => !r.isError).length, 1, 'exactly one cancellation succeeds');
  for (const r of results.filter((x) => x.isError)) assert.match(textOf(r), /"code": "9510113"/);

  // A sandbox started later on the same data dir (a restart) sees it all.
  const restarted = await sandbox(t, dir);
  assert.deepEqual(upsCode(await restarted.fails('cancel_pickup', { cancel_by: 'prn', prn: prns[0] })), [
    400,
    '9510113',
  ]);
});

test('durable file: a torn line is skipped, the rest is read', async (t) => {
  const dir = tempDir(t);
  const sbx = await sandbox(t, dir);
  const prn = prnOf(await sbx.ok('schedule_pickup', pickupArgs()));
  appendFileSync(path.join(dir, PICKUPS_FILE), '{"type": "pickup", "prn": "BROKEN\n');
  const other = prnOf(
    await sbx.ok('schedule_pickup', pickupArgs({ pickup_date: ymd(Date.now() + 4 * DAY) })),
  );
  assert.deepEqual(
    readPickups(dir).map((p) => p.prn),
    [prn, other],
  );
});

test('rate_pickup: base charge, residential surcharge, fuel; same-day dearer than future-day', async (t) => {
  const sbx = await sandbox(t, tempDir(t));
  const args = {
    pickup_type: 'oncall',
    address_line: '1200 Industrial Blvd',
    city: 'Austin',
    state: 'TX',
    postal_code: '78744',
    country_code: 'US',
    pickup_date: LATER,
    ready_time: '0900',
    close_time: '1700',
  };
  const rate = async (over: Obj) =>
    ((await sbx.ok('rate_pickup', { ...args, ...over })).PickupRateResponse as { RateResult: Obj })
      .RateResult;
  const resi = await rate({});
  assert.deepEqual(
    resi.ChargeDetail,
    [
      { ChargeCode: 'B', ChargeDescription: 'BASE CHARGE', ChargeAmount: '6.50', TaxAmount: '0.00' },
      {
        ChargeCode: 'A',
        ChargeDescription: 'RESIDENTIAL SURCHARGE',
        ChargeAmount: '4.50',
        TaxAmount: '0.00',
      },
      { ChargeCode: 'S', ChargeDescription: 'FUEL SURCHARGE', ChargeAmount: '1.65', TaxAmount: '0.00' },
    ],
    'residential_indicator defaults to Y in rate_pickup',
  );
  assert.equal(resi.GrandTotalOfAllCharge, '12.65');
  assert.equal(resi.RateType, 'FD');
  const commercial = await rate({ residential_indicator: 'N' });
  assert.equal(commercial.GrandTotalOfAllCharge, '7.48');
  const sameDay = await rate({ residential_indicator: 'N', service_date_option: '01' });
  assert.deepEqual([sameDay.RateType, sameDay.GrandTotalOfAllCharge], ['SD', '9.78']);
  // rate_pickup does not compare the times itself; rating a window does not need it to be valid.
  await sbx.ok('rate_pickup', { ...args, ready_time: '1700', close_time: '0900' });
  // schedule_pickup with rate_pickup_indicator Y rates the pickup it makes.
  const rated = (await sbx.ok('schedule_pickup', pickupArgs({ rate_pickup_indicator: 'Y' })))
    .PickupCreationResponse as Obj;
  assert.deepEqual(rated.RateStatus, { Code: '01', Description: 'Rate available' });
  assert.equal((rated.RateResult as Obj).GrandTotalOfAllCharge, '7.48');
});

test('the real server’s refusals before UPS: pydantic argument errors, worded as it words them', async (t) => {
  const sbx = await sandbox(t, tempDir(t));
  const missing = (loc: string) =>
    `${loc}\n  Field required [type=missing, input_value={}, input_type=dict]\n    For further information visit https://errors.pydantic.dev/2.14/v/missing`;
  assert.equal(
    await sbx.fails('schedule_pickup', {}),
    `10 validation errors for schedule_pickupArguments\n${[
      'pickup_date',
      'ready_time',
      'close_time',
      'address_line',
      'city',
      'state',
      'postal_code',
      'country_code',
      'contact_name',
      'phone_number',
    ]
      .map(missing)
      .join('\n')}`,
  );
  assert.match(
    await sbx.fails('rate_pickup', {}),
    /^9 validation errors for rate_pickupArguments\npickup_type\n/,
  );
  assert.equal(
    await sbx.fails('cancel_pickup', {}),
    `1 validation error for cancel_pickupArguments\n${missing('cancel_by')}`,
  );
  assert.equal(
    await sbx.fails('get_pickup_status', { pickup_type: 'ONCALL' }),
    "1 validation error for get_pickup_statusArguments\npickup_type\n  Input should be 'oncall', 'smart' or 'both' [type=literal_error, input_value='ONCALL', input_type=str]\n    For further information visit https://errors.pydantic.dev/2.14/v/literal_error",
  );
  assert.match(
    await sbx.fails('get_pickup_status', { pickup_type: 'null' }),
    /input_value=None, input_type=NoneType/,
    'a JSON null in a string is parsed first',
  );
  const five = await sbx.fails(
    'schedule_pickup',
    pickupArgs({
      quantity: 2.5,
      weight: 'heavy',
      weight_unit: 'lbs',
      residential_indicator: true,
      rate_pickup_indicator: 'y',
    }),
  );
  assert.deepEqual(
    [...five.matchAll(/^(\S+)\n {2}[^\n]*\[type=([a-z_]+)/gm)].map((m) => `${m[1]} ${m[2]}`),
    [
      'residential_indicator literal_error',
      'quantity int_from_float',
      'weight float_parsing',
      'weight_unit literal_error',
      'rate_pickup_indicator literal_error',
    ],
  );
  assert.match(five, /Input should be a valid integer, got a number with a fractional part/);
  const types = async (over: Obj) =>
    [...(await sbx.fails('schedule_pickup', pickupArgs(over))).matchAll(/\[type=([a-z_]+)/g)].map(
      (m) => m[1],
    );
  assert.deepEqual(await types({ quantity: 'abc', weight: null }), ['int_parsing', 'float_type']);
  assert.deepEqual(await types({ quantity: '[1]', weight: 'null' }), ['int_type', 'float_type']);
  assert.deepEqual(await types({ quantity: 1e21 }), ['int_parsing_size']);
  assert.deepEqual(await types({ quantity: '9'.repeat(5000) }), ['int_parsing_size']);
  assert.deepEqual(await types({ contact_name: 7, pickup_date: 20261210 }), ['string_type', 'string_type']);
  assert.deepEqual(await types({ account_number: null }), ['string_type']);
  // What pydantic reads as numbers: padded, underscored, booleans; "1e3" is a float but not an int.
  for (const over of [
    { quantity: ' 3 ', weight: ' 2.5 ' },
    { quantity: '1_0', weight: '1_0.5' },
    { quantity: true, weight: '1e1' },
    { quantity: '2.000' },
  ]) {
    await sbx.ok('schedule_pickup', pickupArgs(over));
  }
  assert.deepEqual(await types({ quantity: '1e3' }), ['int_parsing']);
});

test('the real server’s own checks: ready before close (as Python compares text), the account, the PRN', async (t) => {
  const dir = tempDir(t);
  const sbx = await sandbox(t, dir);
  assert.equal(
    await sbx.fails('schedule_pickup', pickupArgs({ ready_time: '1700', close_time: '0900' })),
    'ready_time (1700) must be before close_time (0900)',
  );
  assert.equal(
    await sbx.fails('schedule_pickup', pickupArgs({ ready_time: '1700', close_time: '1700' })),
    'ready_time (1700) must be before close_time (1700)',
  );
  assert.equal(
    await sbx.fails('schedule_pickup', pickupArgs({ ready_time: '900', close_time: '1700' })),
    'ready_time (900) must be before close_time (1700)',
    '"900" sorts after "1700" as text',
  );
  assert.equal(
    await sbx.fails('schedule_pickup', pickupArgs({ ready_time: '', close_time: '' })),
    'ready_time () must be before close_time ()',
  );
  const noAccount =
    "Account number is required when payment_method='01' (pay by shipper account). Provide account_number argument or set UPS_ACCOUNT_NUMBER env var.";
  assert.equal(await sbx.fails('schedule_pickup', pickupArgs({ account_number: '' })), noAccount);
  // Without payment by account no account is needed — and the pickup is listed for none.
  await sbx.ok('schedule_pickup', pickupArgs({ account_number: '', payment_method: '00' }));
  assert.equal(readPickups(dir)[0]!.account, undefined);
  const needsAccount = 'AccountNumber is required via argument or UPS_ACCOUNT_NUMBER env var';
  assert.equal(await sbx.fails('get_pickup_status', { pickup_type: 'oncall' }), needsAccount);
  assert.equal(
    await sbx.fails('cancel_pickup', { cancel_by: 'account' }),
    needsAccount,
    'cancel by account takes the account from UPS_ACCOUNT_NUMBER only',
  );
  assert.equal(
    await sbx.fails('cancel_pickup', { cancel_by: 'prn' }),
    "prn is required when cancel_by='prn'",
  );
  assert.equal(
    await sbx.fails('cancel_pickup', { cancel_by: 'prn', prn: '' }),
    "prn is required when cancel_by='prn'",
  );

  // With UPS_ACCOUNT_NUMBER the account argument may be left out.
  const withEnv = await sandbox(t, dir, ACCOUNT);
  // (Another date: the pickup above, without an account, holds this address on LATER.)
  const prn = prnOf(
    await withEnv.ok(
      'schedule_pickup',
      pickupArgs({ account_number: '', pickup_date: ymd(Date.now() + 5 * DAY) }),
    ),
  );
  assert.deepEqual(
    pending(await withEnv.ok('get_pickup_status', { pickup_type: 'oncall' })).map((s) => s.PRN),
    [prn],
  );
  assert.deepEqual(upsCode(await withEnv.fails('cancel_pickup', { cancel_by: 'account' })), [400, '9510112']);
});

test('UPS’s answers to hostile or wrong values: schema limits (20007/20008), dates, windows, PRNs, headers', async (t) => {
  const sbx = await sandbox(t, tempDir(t));
  const code = async (over: Obj, tool = 'schedule_pickup') =>
    upsCode(await sbx.fails(tool, pickupArgs(over)));
  const bad = (field: string) => async (over: Obj) => {
    const body = await sbx.fails('schedule_pickup', pickupArgs(over));
    assert.deepEqual(upsCode(body), [400, '20008'], body);
    assert.match(body, new RegExp(`The field, ${field.replaceAll('.', '\\.')}, contains invalid data`));
  };
  await bad('PickupAddress.AddressLine')({ address_line: 'x'.repeat(100_000) });
  await bad('PickupAddress.ContactName')({ contact_name: 'A contact name of 23 ch' });
  await bad('PickupDateInfo.PickupDate')({ pickup_date: '2026-12-10' });
  await bad('PickupDateInfo.PickupDate')({ pickup_date: '20270230' });
  await bad('PickupDateInfo.ReadyTime')({ ready_time: '0960' });
  await bad('PickupDateInfo.CloseTime')({ close_time: '2500', ready_time: '0900' });
  await bad('PickupAddress.PostalCode')({ postal_code: '78744-1234' });
  await bad('PickupAddress.CountryCode')({ country_code: 'USA' });
  await bad('PickupPiece.Quantity')({ quantity: 1000 });
  await bad('PickupPiece.Quantity')({ quantity: -5 });
  await bad('PickupPiece.ContainerCode')({ container_code: '09' });
  await bad('TotalWeight.Weight')({ weight: 2.55 });
  await bad('TotalWeight.Weight')({ weight: 'inf' });
  await bad('TotalWeight.Weight')({ weight: 0 });
  // The weight goes to UPS as Python's str() of a float: "1e+16", "1e-05" — not one decimal digit.
  assert.match(await sbx.fails('schedule_pickup', pickupArgs({ weight: 1e16 })), /invalid data, 1e\+16\./);
  assert.match(await sbx.fails('schedule_pickup', pickupArgs({ weight: 0.00001 })), /invalid data, 1e-05\./);
  await bad('Shipper.Account.AccountNumber')({ account_number: 'ACCT' });
  await bad('PaymentMethod')({ payment_method: '99' });
  assert.deepEqual(await code({ city: '   ' }), [400, '20007']);
  assert.deepEqual(
    await code({ payment_method: '03' }),
    [400, '20007'],
    'a charge card the tool cannot send',
  );
  assert.deepEqual(await code({ pickup_date: ymd(Date.now() - DAY) }), [400, '9560131'], 'yesterday');
  assert.deepEqual(
    await code({ pickup_date: ymd(Date.now() + 45 * DAY) }),
    [400, '9560131'],
    'too far ahead',
  );
  assert.deepEqual(await code({ ready_time: '0900', close_time: '0930' }), [400, '9560134'], 'half an hour');

  // PRNs: unknown, malformed, huge.
  assert.deepEqual(upsCode(await sbx.fails('cancel_pickup', { cancel_by: 'prn', prn: '1234ABCDEFG' })), [
    400,
    '9510112',
  ]);
  for (const prn of ['12-34', 'P'.repeat(100_000)]) {
    assert.deepEqual(upsCode(await sbx.fails('cancel_pickup', { cancel_by: 'prn', prn })), [400, '20008']);
  }
  assert.deepEqual(
    upsCode(await sbx.fails('get_pickup_status', { pickup_type: 'oncall', account_number: 'x' })),
    [400, '20008'],
  );
  // Values the real server puts in HTTP headers: requests refuses line breaks and leading spaces,
  // http.client anything past Latin-1.
  assert.deepEqual(JSON.parse(await sbx.fails('cancel_pickup', { cancel_by: 'prn', prn: 'A\nB' })), {
    code: 'REQUEST_ERROR',
    message:
      "Invalid leading whitespace, reserved character(s), or return character(s) in header value: 'A\\nB'",
  });
  assert.equal(
    await sbx.fails('cancel_pickup', { cancel_by: 'prn', prn: 'PRN€€' }),
    "'latin-1' codec can't encode characters in position 3-4: ordinal not in range(256)",
  );
  assert.equal(
    await sbx.fails('get_pickup_status', { pickup_type: 'oncall', account_number: '😀' }),
    "'latin-1' codec can't encode character '\\U0001f600' in position 0: ordinal not in range(256)",
  );
  assert.match(
    await sbx.fails('schedule_pickup', pickupArgs({ trans_id: ' row-1' })),
    /^\{"code": "REQUEST_ERROR", "message": "Invalid leading whitespace/,
  );
  assert.equal(
    (await sbx.fails('schedule_pickup', pickupArgs({ transaction_src: 'x'.repeat(600) }))).includes(
      '"10002"',
    ),
    true,
  );
});

test('same-day pickups: refused once CloseTime has passed; a pickup can be cancelled until its window closes', (t) => {
  const dir = tempDir(t);
  const store = new ShipmentStore(dir);
  t.after(() => store.close());
  const knobs = new KnobSource({});
  let now = Date.parse('2026-11-02T18:00:00Z');
  const ctx: ups.UpsContext = { store, knobs: () => knobs.current(), now: () => new Date(now) };
  const args = pickupArgs({ pickup_date: '20261102' });
  assert.throws(
    () => ups.schedulePickup(ctx, args),
    (e: unknown) => e instanceof ToolFailure && JSON.stringify(e.payload).includes('"9560133"'),
  );
  now = Date.parse('2026-11-02T08:00:00Z');
  const prn = prnOf(ups.schedulePickup(ctx, args));
  const status = () => pending(ups.getPickupStatus(ctx, { pickup_type: 'oncall', account_number: ACCOUNT }));
  assert.equal(status()[0]!.PickupStatusMessage, 'Your pickup request is being processed');
  now = Date.parse('2026-11-02T09:30:00Z');
  assert.deepEqual(
    [status()[0]!.OnCallStatusCode, status()[0]!.PickupStatusMessage],
    ['002', 'Dispatched to driver'],
  );
  now = Date.parse('2026-11-02T17:00:00Z');
  assert.deepEqual(status(), [], 'past its window: no longer pending');
  assert.throws(
    () => ups.cancelPickup(ctx, { cancel_by: 'prn', prn }),
    (e: unknown) => e instanceof ToolFailure && JSON.stringify(e.payload).includes('"9510114"'),
  );
  // Past the window the address takes a new pickup (for another day).
  now = Date.parse('2026-11-02T17:30:00Z');
  assert.notEqual(prnOf(ups.schedulePickup(ctx, pickupArgs({ pickup_date: '20261103' }))), prn);
});

test('the tool listing: the real pickup tools’ arguments, order, types, defaults and required lists', () => {
  const byName = Object.fromEntries(TOOLS.map((tool) => [tool.name, tool.inputSchema]));
  assert.deepEqual(Object.keys(byName.schedule_pickup!.properties!), [
    'pickup_date',
    'ready_time',
    'close_time',
    'address_line',
    'city',
    'state',
    'postal_code',
    'country_code',
    'contact_name',
    'phone_number',
    'residential_indicator',
    'service_code',
    'container_code',
    'quantity',
    'weight',
    'weight_unit',
    'payment_method',
    'rate_pickup_indicator',
    'account_number',
    'trans_id',
    'transaction_src',
  ]);
  assert.deepEqual(byName.schedule_pickup!.properties!.weight, {
    default: 5.0,
    title: 'Weight',
    type: 'number',
  });
  assert.deepEqual(byName.schedule_pickup!.properties!.quantity, {
    default: 1,
    title: 'Quantity',
    type: 'integer',
  });
  assert.deepEqual(byName.schedule_pickup!.properties!.residential_indicator, {
    default: 'N',
    enum: ['Y', 'N'],
    title: 'Residential Indicator',
    type: 'string',
  });
  assert.deepEqual(byName.rate_pickup!.required, [
    'pickup_type',
    'address_line',
    'city',
    'state',
    'postal_code',
    'country_code',
    'pickup_date',
    'ready_time',
    'close_time',
  ]);
  assert.deepEqual(byName.rate_pickup!.properties!.residential_indicator, {
    default: 'Y',
    enum: ['Y', 'N'],
    title: 'Residential Indicator',
    type: 'string',
  });
  assert.deepEqual(byName.cancel_pickup!.properties!.cancel_by, {
    enum: ['account', 'prn'],
    title: 'Cancel By',
    type: 'string',
  });
  assert.deepEqual(byName.cancel_pickup!.required, ['cancel_by']);
  assert.deepEqual(Object.keys(byName.get_pickup_status!.properties!), [
    'pickup_type',
    'account_number',
    'trans_id',
    'transaction_src',
  ]);
  assert.deepEqual(byName.get_pickup_status!.required, ['pickup_type']);
});
