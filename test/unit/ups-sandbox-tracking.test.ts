/**
 * The sandbox's track_package: packages move through UPS's statuses on a simulated clock (knob
 * `trackingClockSpeed`, from each shipment's creation), on the lane's business days, with exceptions and
 * returns by knob (`trackingExceptions`), voided packages staying voided. Directly (with a fixed clock)
 * where exact times matter, over MCP in-process where the real clock and the knobs file do.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { KnobSource, parseKnobs } from '../../ups-sandbox/knobs';
import { ShipmentStore } from '../../ups-sandbox/store';
import { ToolFailure } from '../../ups-sandbox/errors';
import * as ups from '../../ups-sandbox/ups';
import { inProcessSandbox, shipmentRequest } from '../helpers/ups-sandbox';

type Obj = Record<string, unknown>;

interface Activity {
  status: { type: string; code: string; description: string; statusCode: string };
  date: string;
  time: string;
  location: { address: { city?: string; stateProvince?: string; countryCode: string } };
}
interface TrackedPackage {
  trackingNumber: string;
  currentStatus: { type: string; code: string; description: string; statusCode: string };
  activity: Activity[];
  deliveryDate?: { type: string; date: string }[];
  deliveryTime?: { type: string; endTime: string };
  deliveryInformation?: Obj;
}

const pkgOf = (body: Obj): TrackedPackage =>
  (body as { trackResponse: { shipment: { package: TrackedPackage[] }[] } }).trackResponse.shipment[0]!
    .package[0]!;

const textOf = (r: CallToolResult): string =>
  r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

/** Monday 2 November 2026, 10:00 UTC (in the past: a shipment exists from its creation on). */
const MONDAY = Date.parse('2026-11-02T10:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A sandbox driven directly: a data dir, knobs, and a clock the test sets. */
function direct(t: TestContext, knobs: Obj = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-track-'));
  const store = new ShipmentStore(dir);
  let knobSource = new KnobSource({ UPS_SANDBOX_KNOBS: JSON.stringify(knobs) });
  let now = MONDAY;
  const ctx = (): ups.UpsContext => ({ store, knobs: () => knobSource.current(), now: () => new Date(now) });
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    ctx,
    setNow: (ms: number) => (now = ms),
    setKnobs: (k: Obj) => (knobSource = new KnobSource({ UPS_SANDBOX_KNOBS: JSON.stringify(k) })),
    /** Ship one package (Austin TX → `zip`, service `service`) at `at`; its tracking number. */
    async ship(ref: string, at: number, opts: { service?: string; zip?: string } = {}): Promise<string> {
      now = at;
      const body = await ups.createShipment(ctx(), { request_body: shipmentRequest(ref, opts) });
      return (body as { ShipmentResponse: { ShipmentResults: { ShipmentIdentificationNumber: string } } })
        .ShipmentResponse.ShipmentResults.ShipmentIdentificationNumber;
    },
    track(tn: string, at: number): TrackedPackage {
      now = at;
      return pkgOf(ups.trackPackage(ctx(), { inquiryNumber: tn }));
    },
    voidAt(tn: string, at: number): void {
      now = at;
      ups.voidShipment(ctx(), { shipmentidentificationnumber: tn });
    },
    transit(body: Obj): Obj {
      return ups.getTimeInTransit(ctx(), { request_body: body });
    },
  };
}

/** The current status codes seen when tracking every `step` ms from `from` to `to`, without repeats. */
function statusesOver(
  d: ReturnType<typeof direct>,
  tn: string,
  from: number,
  to: number,
  step = HOUR,
): string[] {
  const seen: string[] = [];
  for (let at = from; at <= to; at += step) {
    const s = d.track(tn, at).currentStatus;
    const key = `${s.type}/${s.statusCode}`;
    if (seen.at(-1) !== key) seen.push(key);
  }
  return seen;
}

/** Activities are newest first, by date and time. */
function assertNewestFirst(p: TrackedPackage): void {
  const stamps = p.activity.map((a) => `${a.date}${a.time}`);
  assert.deepEqual(stamps, [...stamps].sort().reverse(), 'activities newest first');
  assert.equal(
    p.currentStatus.statusCode,
    p.activity[0]!.status.statusCode,
    'current status = newest activity',
  );
}

test('a ground package goes label created → picked up → in transit → out for delivery → delivered on the lane’s business days', async (t) => {
  const d = direct(t);
  // Austin 78744 → Philadelphia 19103: zone 7, Ground 5 business days; picked up Monday 18:00.
  const tn = await d.ship('ROW-1', MONDAY);
  {
    assert.deepEqual(statusesOver(d, tn, MONDAY, MONDAY + 10 * DAY), [
      'M/003',
      'P/038',
      'I/005',
      'I/021',
      'D/011',
    ]);
    const atOnce = d.track(tn, MONDAY + 60_000);
    assert.equal(atOnce.currentStatus.type, 'M');
    assert.equal(atOnce.currentStatus.code, '003');
    assert.equal(atOnce.activity.length, 1);
    assert.deepEqual(
      atOnce.deliveryDate,
      [{ type: 'SDD', date: '20261109' }],
      'scheduled: 5 business days after Monday',
    );

    const done = d.track(tn, MONDAY + 10 * DAY);
    assertNewestFirst(done);
    assert.equal(done.currentStatus.description, 'DELIVERED');
    assert.equal(done.deliveryDate![0]!.type, 'DEL');
    assert.equal(done.deliveryDate![0]!.date, '20261109');
    assert.equal(done.activity[0]!.date, '20261109');
    assert.equal(done.activity[0]!.location.address.city, 'PHILADELPHIA');
    assert.ok(done.deliveryInformation, 'delivery information once delivered');
    const codes = done.activity.map((a) => a.status.code).reverse();
    assert.deepEqual(codes.slice(0, 5), ['MP', 'PU', 'OR', 'DP', 'AR']);
    assert.deepEqual(codes.slice(-4), ['AR', 'DS', 'OT', 'KB']);
    // Four hub days between pickup and delivery, an arrival and a departure each.
    assert.equal(codes.filter((c) => c === 'AR').length, 5);
    const pickup = done.activity.find((a) => a.status.code === 'PU')!;
    assert.deepEqual(
      [pickup.date, pickup.time, pickup.location.address.city],
      ['20261102', '180000', 'AUSTIN'],
    );
  }
});

test('the delivery day is the one Time in Transit gives for the lane and service', async (t) => {
  const d = direct(t);
  for (const [service, zip] of [
    ['03', '19103'],
    ['03', '78701'],
    ['02', '19103'],
    ['01', '10001'],
    ['12', '98101'],
    ['14', '30303'],
  ] as const) {
    const tn = await d.ship(`ROW-${service}-${zip}`, MONDAY, { service, zip });
    const done = d.track(tn, MONDAY + 20 * DAY);
    assert.equal(done.currentStatus.type, 'D', `${service} to ${zip}`);
    const tit = d.transit({
      originCountryCode: 'US',
      originPostalCode: '78744',
      destinationCountryCode: 'US',
      destinationPostalCode: zip,
      weight: '5.2',
      weightUnitOfMeasure: 'LBS',
      shipDate: '2026-11-02',
    }) as { emsResponse: { services: { serviceLevel: string; deliveryDate: string; commitTime: string }[] } };
    const level = { '03': 'GND', '02': '2DA', '01': '1DA', '12': '3DS', '14': '1DM' }[service];
    const expected = tit.emsResponse.services.find((s) => s.serviceLevel === level);
    assert.ok(expected, `${level} on the lane`);
    assert.equal(
      done.deliveryDate![0]!.date,
      expected.deliveryDate.replaceAll('-', ''),
      `${service} to ${zip}`,
    );
    if (expected.commitTime !== '23:00:00') {
      assert.ok(
        done.deliveryTime!.endTime <= expected.commitTime.replaceAll(':', ''),
        `${service} delivered by its commit time ${expected.commitTime}: ${done.deliveryTime!.endTime}`,
      );
    }
  }
});

test('weekends: a label made Friday evening is picked up Monday; nothing moves on Saturday and Sunday', async (t) => {
  const d = direct(t);
  const friday = Date.parse('2026-11-06T17:00:00Z');
  const tn = await d.ship('ROW-FRI', friday);
  assert.equal(
    d.track(tn, Date.parse('2026-11-08T23:00:00Z')).currentStatus.type,
    'M',
    'still label created Sunday',
  );
  const monday = d.track(tn, Date.parse('2026-11-09T18:30:00Z'));
  assert.equal(monday.currentStatus.type, 'P');
  assert.equal(monday.activity[0]!.date, '20261109');
  const done = d.track(tn, Date.parse('2027-01-15T00:00:00Z'));
  for (const a of done.activity.slice(0, -1)) {
    const day = new Date(
      `${a.date.slice(0, 4)}-${a.date.slice(4, 6)}-${a.date.slice(6)}T00:00:00Z`,
    ).getUTCDay();
    assert.ok(day !== 0 && day !== 6, `${a.status.code} on a weekday (${a.date})`);
  }
  assert.equal(done.deliveryDate![0]!.date, '20261116', 'Monday + 5 business days');
});

test('trackingClockSpeed: x real seconds at speed s look like x·s seconds at speed 1, from the shipment’s creation', async (t) => {
  const d = direct(t);
  const tn = await d.ship('ROW-SPEED', MONDAY);
  for (const elapsed of [HOUR, 9 * HOUR, 2 * DAY + 3 * HOUR, 7 * DAY + 5 * HOUR]) {
    const slow = d.track(tn, MONDAY + elapsed);
    d.setKnobs({ trackingClockSpeed: 3600 });
    const fast = d.track(tn, MONDAY + elapsed / 3600);
    d.setKnobs({});
    assert.deepEqual(fast, slow, `after ${elapsed / HOUR} simulated hours`);
  }
});

/** One package per fate, by reference; the final answer of each. */
async function fates(t: TestContext, knobs: Obj) {
  const d = direct(t, knobs);
  const out: Record<string, TrackedPackage> = {};
  for (const fate of ['delivered', 'exception', 'damaged', 'delayed', 'returned']) {
    const tn = await d.ship(`ROW-${fate}`, MONDAY);
    out[fate] = d.track(tn, MONDAY + 40 * DAY);
    assertNewestFirst(out[fate]);
  }
  return { d, out };
}

test('trackingExceptions by reference: exception, damaged, delayed, returned — each ends as UPS shows it', async (t) => {
  const { out } = await fates(t, {
    trackingExceptions: {
      references: {
        'ROW-exception': 'exception',
        'ROW-damaged': 'damaged',
        'ROW-delayed': 'delayed',
        'ROW-returned': 'returned',
      },
    },
  });
  assert.equal(out.delivered!.currentStatus.type, 'D');

  const ex = out.exception!;
  assert.deepEqual([ex.currentStatus.type, ex.currentStatus.statusCode], ['X', '013']);
  assert.match(ex.currentStatus.description, /THE ADDRESS IS INCORRECT/);
  assert.equal(ex.activity[1]!.status.code, 'OT', 'the exception came while out for delivery');
  assert.equal(ex.deliveryDate![0]!.type, 'SDD');

  const dmg = out.damaged!;
  assert.deepEqual([dmg.currentStatus.type, dmg.activity[0]!.status.code], ['X', 'XD']);
  assert.match(dmg.currentStatus.description, /^DAMAGED/);
  assert.equal(dmg.activity.length, 3, 'label, pickup, damage: nothing after it');

  const late = out.delayed!;
  assert.equal(late.currentStatus.type, 'D', 'a delay still ends delivered');
  assert.ok(late.activity.some((a) => a.status.type === 'X' && a.status.code === 'XW'));
  assert.equal(late.deliveryDate![0]!.date, '20261110', 'one business day after the day it was due');

  const back = out.returned!;
  assert.deepEqual(
    [back.currentStatus.type, back.currentStatus.statusCode, back.currentStatus.description],
    ['RS', '034', 'Returned to Sender'],
  );
  assert.equal(back.activity[0]!.location.address.city, 'AUSTIN', 'back at the shipper');
  assert.deepEqual(
    back.activity.slice(0, 3).map((a) => `${a.status.type}/${a.status.code}`),
    ['RS/RS', 'I/RS', 'X/XA'],
  );
  assert.equal(back.deliveryDate, undefined, 'no delivery date for a returned package');
});

test('trackingExceptions by tracking number wins over the reference; rates draw the same fate every time', async (t) => {
  const d = direct(t);
  const tns: string[] = [];
  for (let i = 0; i < 40; i++) tns.push(await d.ship(`ROW-R${i}`, MONDAY));
  const later = MONDAY + 40 * DAY;
  d.setKnobs({
    trackingExceptions: { trackingNumbers: { [tns[0]!]: 'damaged' }, references: { 'ROW-R0': 'returned' } },
  });
  assert.equal(d.track(tns[0]!, later).activity[0]!.status.code, 'XD');

  d.setKnobs({ trackingExceptions: { rates: { exception: 0.5 } } });
  const first = tns.map((tn) => d.track(tn, later).currentStatus.type);
  const exceptions = first.filter((s) => s === 'X').length;
  assert.ok(exceptions >= 8 && exceptions <= 32, `about half of 40 are exceptions: ${exceptions}`);
  assert.ok(first.every((s) => s === 'X' || s === 'D'));
  assert.deepEqual(
    tns.map((tn) => d.track(tn, later).currentStatus.type),
    first,
    'the same fate on every call',
  );
  // Another store on the same data dir (another sandbox process) draws the same fates.
  const other = new ShipmentStore(d.dir);
  t.after(() => other.close());
  const knobs = new KnobSource({
    UPS_SANDBOX_KNOBS: JSON.stringify({ trackingExceptions: { rates: { exception: 0.5 } } }),
  });
  const ctx: ups.UpsContext = { store: other, knobs: () => knobs.current(), now: () => new Date(later) };
  assert.deepEqual(
    tns.map((tn) => pkgOf(ups.trackPackage(ctx, { inquiryNumber: tn })).currentStatus.type),
    first,
  );

  d.setKnobs({ trackingExceptions: { rates: { returned: 1 } } });
  assert.ok(tns.every((tn) => d.track(tn, later).currentStatus.type === 'RS'));
});

test('a voided package stays voided: what happened before the void, then "Voided Information Received"', async (t) => {
  const d = direct(t, { trackingExceptions: { rates: { returned: 1 } } });
  const early = await d.ship('ROW-V1', MONDAY);
  d.voidAt(early, MONDAY + HOUR);
  const v = d.track(early, MONDAY + 60 * DAY);
  assert.deepEqual(
    v.activity.map((a) => a.status.code),
    ['VD', 'MP'],
  );
  assert.deepEqual([v.currentStatus.type, v.activity[0]!.status.code], ['X', 'VD']);
  assert.equal(v.currentStatus.description, 'Voided Information Received');
  assert.equal(v.deliveryDate, undefined);

  // Voided after pickup (at a fast clock): the scans before the void stay, nothing comes after.
  d.setKnobs({ trackingClockSpeed: 86_400 });
  const late = await d.ship('ROW-V2', MONDAY);
  d.voidAt(late, MONDAY + 3_000); // 3 real seconds = 3 simulated days
  const after = d.track(late, MONDAY + 60_000);
  assert.equal(after.activity[0]!.status.code, 'VD');
  assert.ok(
    after.activity.some((a) => a.status.code === 'PU'),
    'picked up before the void',
  );
  assert.ok(!after.activity.some((a) => a.status.type === 'D' || a.status.type === 'RS'));
});

test('inquiry numbers: spaces and case ignored; too short or too long is UPS’s TV1002; unknown is 151044', async (t) => {
  const d = direct(t);
  const tn = await d.ship('ROW-IN', MONDAY);
  const spaced = `${tn.slice(0, 6).toLowerCase()} ${tn.slice(6)}`;
  assert.equal(pkgOf(ups.trackPackage(d.ctx(), { inquiryNumber: spaced })).trackingNumber, tn);
  for (const bad of ['1Z', '9'.repeat(35), 'x'.repeat(100_000)]) {
    assert.throws(
      () => ups.trackPackage(d.ctx(), { inquiryNumber: bad }),
      (e: unknown) => e instanceof ToolFailure && JSON.stringify(e.payload).includes('"TV1002"'),
    );
  }
  assert.throws(
    () => ups.trackPackage(d.ctx(), { inquiryNumber: '1ZA1B2C30399999999' }),
    (e: unknown) => e instanceof ToolFailure && JSON.stringify(e.payload).includes('"151044"'),
  );
});

test('knobs: trackingClockSpeed must be positive; rates add up to 1 at most; fates are the five known', () => {
  assert.throws(() => parseKnobs('k', '{"trackingClockSpeed": 0}'), /trackingClockSpeed/);
  assert.throws(() => parseKnobs('k', '{"trackingClockSpeed": -5}'), /trackingClockSpeed/);
  assert.throws(() => parseKnobs('k', '{"trackingClockSpeed": "fast"}'), /trackingClockSpeed/);
  assert.throws(
    () => parseKnobs('k', '{"trackingExceptions": {"rates": {"exception": 0.7, "returned": 0.4}}}'),
    /more than 1/,
  );
  assert.throws(
    () => parseKnobs('k', '{"trackingExceptions": {"rates": {"lost": 0.1}}}'),
    /trackingExceptions/,
  );
  assert.throws(
    () => parseKnobs('k', '{"trackingExceptions": {"trackingNumbers": {"1Z": "vanished"}}}'),
    /trackingExceptions/,
  );
  assert.throws(
    () => parseKnobs('k', '{"trackingExceptions": {"exceptionRate": 0.1}}'),
    /trackingExceptions/,
  );
  const ok = parseKnobs(
    'k',
    '{"trackingClockSpeed": 86400, "trackingExceptions": {"rates": {"exception": 0.05, "returned": 0.02}}}',
  );
  assert.equal(ok.trackingClockSpeed, 86400);
});

test('over MCP: speed 1 shows a new label as label created; switching the knobs file to a fast clock delivers it', async (t) => {
  const sbx = await inProcessSandbox(t);
  const created = await sbx.call('create_shipment', { request_body: shipmentRequest('ROW-MCP') });
  assert.ok(!created.isError, textOf(created));
  const tn = (
    created.structuredContent as {
      ShipmentResponse: { ShipmentResults: { ShipmentIdentificationNumber: string } };
    }
  ).ShipmentResponse.ShipmentResults.ShipmentIdentificationNumber;
  const track = async () => {
    const r = await sbx.call('track_package', { inquiryNumber: tn });
    assert.ok(!r.isError, textOf(r));
    return pkgOf(r.structuredContent as Obj);
  };
  const now = await track();
  assert.deepEqual([now.currentStatus.type, now.currentStatus.code], ['M', '003']);

  // A year a second: within a few ms every status has passed.
  sbx.setKnobs({ trackingClockSpeed: 31_536_000, trackingExceptions: { references: {} } });
  await new Promise((r) => setTimeout(r, 50));
  const done = await track();
  assert.equal(done.currentStatus.type, 'D');
  assertNewestFirst(done);
  assert.deepEqual(
    [...new Set(done.activity.map((a) => a.status.type))].reverse(),
    ['M', 'P', 'I', 'D'],
    'every status type on the way',
  );
  assert.ok(
    done.activity.some((a) => a.status.code === 'OT'),
    'out for delivery on the way',
  );

  sbx.setKnobs({
    trackingClockSpeed: 31_536_000,
    trackingExceptions: { references: { 'ROW-MCP': 'returned' } },
  });
  assert.equal((await track()).currentStatus.type, 'RS', 'the knobs file is re-read on the next call');
});
