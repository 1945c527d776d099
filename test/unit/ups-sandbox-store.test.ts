import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readShipments, ShipmentStore, type ShipmentRecord } from '../../ups-sandbox/store';
import {
  CALL_LOG_FILE,
  CallLog,
  callsPerReference,
  liveShipmentsPerReference,
  readCallLog,
  shipmentsPerReference,
  type CallLogEntry,
} from '../../ups-sandbox/call-log';

let serial = 0;

/** A stored shipment with one package per entry of `packageRefs` (default: one package, reference ROW-n). */
function shipmentRecord(over: Partial<ShipmentRecord> = {}, packageRefs?: string[][]): ShipmentRecord {
  const n = ++serial;
  const id = `1ZSBX${String(n).padStart(13, '0')}`;
  const refs = packageRefs ?? [[`ROW-${n}`]];
  const packages = refs.map((references, i) => ({
    trackingNumber: `1ZA1B2C3${String(n).padStart(6, '0')}${String(i).padStart(4, '0')}`,
    weight: '5.0',
    weightUnit: 'LBS' as const,
    references,
  }));
  return {
    shipmentId: id,
    shipperNumber: 'A1B2C3',
    serviceCode: '03',
    references: [...new Set(refs.flat())],
    shipper: {
      Name: 'Shipbatch Test Shipper',
      ShipperNumber: 'A1B2C3',
      Address: {
        AddressLine: ['100 Congress Ave'],
        City: 'Austin',
        StateProvinceCode: 'TX',
        PostalCode: '78701',
        CountryCode: 'US',
      },
    },
    shipTo: {
      Name: 'Jane Receiver',
      Phone: { Number: '5551234567' },
      Address: {
        AddressLine: ['350 5th Ave'],
        City: 'New York',
        StateProvinceCode: 'NY',
        PostalCode: '10118',
        CountryCode: 'US',
      },
    },
    packages,
    labelFormat: 'GIF',
    currency: 'USD',
    publishedCents: 1234,
    negotiatedCents: 1012,
    billingWeightLbs: 5,
    createdAt: '2024-05-01T12:00:00.000Z',
    ...over,
  };
}

/** A fresh data dir under the OS temp dir, removed after the test. */
function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ups-sandbox-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A store closed after the test. */
function openStore(t: TestContext, dir: string): ShipmentStore {
  const store = new ShipmentStore(dir);
  t.after(() => store.close());
  return store;
}

/** Silence (and capture) the store's stderr warnings for the rest of the test. */
function captureStderr(t: TestContext): string[] {
  const lines: string[] = [];
  t.mock.method(process.stderr, 'write', (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return lines;
}

const shipmentLine = (rec: ShipmentRecord): string => JSON.stringify({ type: 'shipment', ...rec });

// --- ShipmentStore ---

test('ShipmentStore: a shipment UPS is still making (createdAt ahead) is found by nothing until it lands', (t) => {
  const dir = tempDir(t);
  const store = openStore(t, dir);
  const made = shipmentRecord({}, [['ROW-S']]);
  const making = shipmentRecord({ createdAt: new Date(Date.now() + 60_000).toISOString(), slowMs: 60_000 }, [
    ['ROW-S'],
  ]);
  store.add(making);
  store.add(made);
  const tn = making.packages[0]!.trackingNumber;
  assert.equal(store.findById(making.shipmentId), undefined);
  assert.equal(store.findByTracking(tn), undefined);
  assert.deepEqual(
    store.findByReference('ROW-S').map((r) => r.shipmentId),
    [made.shipmentId],
  );
  assert.equal(store.hasTrackingNumber(tn), true, 'its tracking number is taken all the same');
  assert.deepEqual(
    readShipments(dir).map((r) => r.shipmentId),
    [made.shipmentId],
  );
  assert.equal(readShipments(dir, { pending: true }).length, 2);
  assert.equal(shipmentsPerReference(dir).get('ROW-S'), 2, 'a duplicate on its way counts');

  // Landed (its createdAt passed): found, and by reference after the one UPS made first.
  const landed = shipmentRecord({ createdAt: new Date(Date.now() - 1000).toISOString() }, [['ROW-T']]);
  const early = shipmentRecord({ createdAt: new Date(Date.now() - 5000).toISOString() }, [['ROW-T']]);
  store.add(landed);
  store.add(early);
  assert.deepEqual(
    store.findByReference('ROW-T').map((r) => r.shipmentId),
    [early.shipmentId, landed.shipmentId],
    'oldest first by when UPS made them, not by when they were recorded',
  );
});

test('ShipmentStore: find by id, tracking number and reference', (t) => {
  const dir = tempDir(t);
  const store = openStore(t, dir);
  assert.deepEqual(store.all(), []);
  const a = shipmentRecord({}, [['ROW-A', 'PO-9'], ['ROW-A']]);
  const b = shipmentRecord({ customerContext: 'CTX-B' }, [['ROW-B']]);
  store.add(a);
  store.add(b);

  assert.deepEqual(store.findById(a.shipmentId), a);
  assert.deepEqual(store.findById(b.shipmentId), b);
  assert.equal(store.findById('1ZNOSUCHSHIPMENT'), undefined);

  assert.equal(store.findByTracking(a.packages[0]!.trackingNumber)?.shipmentId, a.shipmentId);
  assert.equal(store.findByTracking(a.packages[1]!.trackingNumber)?.shipmentId, a.shipmentId);
  assert.equal(store.findByTracking(b.packages[0]!.trackingNumber)?.shipmentId, b.shipmentId);
  assert.equal(store.findByTracking('1Z0000000000000000'), undefined);
  assert.equal(store.hasTrackingNumber(a.packages[1]!.trackingNumber), true);
  assert.equal(store.hasTrackingNumber('1Z0000000000000000'), false);

  // By any package reference, and by customer context.
  assert.deepEqual(
    store.findByReference('ROW-A').map((r) => r.shipmentId),
    [a.shipmentId],
  );
  assert.deepEqual(
    store.findByReference('PO-9').map((r) => r.shipmentId),
    [a.shipmentId],
  );
  assert.deepEqual(
    store.findByReference('CTX-B').map((r) => r.shipmentId),
    [b.shipmentId],
  );
  assert.deepEqual(
    store.findByReference('ROW-B').map((r) => r.shipmentId),
    [b.shipmentId],
  );
  assert.deepEqual(store.findByReference('ROW-NONE'), []);
  assert.deepEqual(
    store
      .all()
      .map((r) => r.shipmentId)
      .sort(),
    [a.shipmentId, b.shipmentId].sort(),
  );
});

test('ShipmentStore: findByReference lists every shipment of a reference, oldest first, by shipper number', (t) => {
  const dir = tempDir(t);
  const store = openStore(t, dir);
  const first = shipmentRecord({ customerContext: 'ROW-1' });
  const other = shipmentRecord({ customerContext: 'ROW-1', shipperNumber: 'Z9Y8X7' });
  const second = shipmentRecord({ customerContext: 'ROW-1' });
  // Customer context equal to a package reference: the shipment is listed once.
  const same = shipmentRecord({ customerContext: 'ROW-2' }, [['ROW-2']]);
  for (const rec of [first, other, second, same]) store.add(rec);

  assert.deepEqual(
    store.findByReference('ROW-1').map((r) => r.shipmentId),
    [first.shipmentId, other.shipmentId, second.shipmentId],
  );
  assert.deepEqual(
    store.findByReference('ROW-1', 'A1B2C3').map((r) => r.shipmentId),
    [first.shipmentId, second.shipmentId],
  );
  assert.deepEqual(
    store.findByReference('ROW-1', 'Z9Y8X7').map((r) => r.shipmentId),
    [other.shipmentId],
  );
  assert.deepEqual(store.findByReference('ROW-1', 'NOPE00'), []);
  assert.deepEqual(
    store.findByReference('ROW-2').map((r) => r.shipmentId),
    [same.shipmentId],
  );

  // The returned list is a copy: changing it does not change the store.
  store.findByReference('ROW-1').pop();
  assert.equal(store.findByReference('ROW-1').length, 3);
});

test('ShipmentStore: two stores on one dir see each other’s appends without reopening', (t) => {
  const dir = tempDir(t);
  const one = openStore(t, dir);
  const two = openStore(t, dir);
  const a = shipmentRecord({ customerContext: 'ROW-SHARED' });
  const b = shipmentRecord({ customerContext: 'ROW-SHARED' });

  one.add(a);
  assert.deepEqual(two.findById(a.shipmentId), a);
  assert.equal(two.hasTrackingNumber(a.packages[0]!.trackingNumber), true);

  two.add(b);
  assert.deepEqual(one.findById(b.shipmentId), b);
  assert.deepEqual(
    one.findByReference('ROW-SHARED').map((r) => r.shipmentId),
    [a.shipmentId, b.shipmentId],
  );
  assert.deepEqual(
    two.findByReference('ROW-SHARED').map((r) => r.shipmentId),
    [a.shipmentId, b.shipmentId],
  );

  // A void by one is seen by the other.
  two.markVoided(a.shipmentId, '2024-05-02T00:00:00.000Z');
  assert.equal(one.findById(a.shipmentId)?.voidedAt, '2024-05-02T00:00:00.000Z');
  assert.equal(
    one.findByTracking(a.packages[0]!.trackingNumber)?.packages[0]?.voidedAt,
    '2024-05-02T00:00:00.000Z',
  );
});

test('ShipmentStore: records survive closing and reopening; readShipments reads them', (t) => {
  const dir = tempDir(t);
  assert.deepEqual(readShipments(dir), [], 'no file yet: no shipments');
  assert.equal(existsSync(path.join(dir, 'shipments.jsonl')), false, 'readShipments creates no file');

  const rec = shipmentRecord({ customerContext: 'ROW-DURABLE' }, [['ROW-DURABLE'], ['ROW-DURABLE']]);
  const store = new ShipmentStore(dir);
  store.add(rec);
  store.markVoided(rec.shipmentId, '2024-05-03T00:00:00.000Z', [rec.packages[1]!.trackingNumber]);
  store.close();

  const lines = readFileSync(path.join(dir, 'shipments.jsonl'), 'utf8').split('\n');
  assert.equal(lines.length, 3, 'two lines, each ending in a newline');
  assert.equal(lines[2], '');

  const reopened = openStore(t, dir);
  const again = reopened.findById(rec.shipmentId);
  assert.ok(again);
  assert.equal(again.packages[0]?.voidedAt, undefined);
  assert.equal(again.packages[1]?.voidedAt, '2024-05-03T00:00:00.000Z');
  assert.deepEqual(again, {
    ...rec,
    packages: [rec.packages[0], { ...rec.packages[1], voidedAt: '2024-05-03T00:00:00.000Z' }],
  });
  assert.deepEqual(reopened.findByReference('ROW-DURABLE').length, 1);

  const all = readShipments(dir);
  assert.equal(all.length, 1);
  assert.deepEqual(all[0], again);
});

test('ShipmentStore: a partial void marks only its packages; the shipment is voided with the last one', (t) => {
  const dir = tempDir(t);
  const store = openStore(t, dir);
  const rec = shipmentRecord({}, [['ROW-P'], ['ROW-P']]);
  const [t1, t2] = rec.packages.map((p) => p.trackingNumber) as [string, string];
  store.add(rec);

  store.markVoided(rec.shipmentId, '2024-05-02T10:00:00.000Z', [t1]);
  let now = store.findById(rec.shipmentId);
  assert.equal(now?.packages[0]?.voidedAt, '2024-05-02T10:00:00.000Z');
  assert.equal(now?.packages[1]?.voidedAt, undefined);
  assert.equal(now?.voidedAt, undefined, 'one package still live: the shipment is not voided');

  store.markVoided(rec.shipmentId, '2024-05-02T11:00:00.000Z', [t2]);
  now = store.findById(rec.shipmentId);
  assert.equal(now?.packages[0]?.voidedAt, '2024-05-02T10:00:00.000Z', 'the first void time stays');
  assert.equal(now?.packages[1]?.voidedAt, '2024-05-02T11:00:00.000Z');
  assert.equal(now?.voidedAt, '2024-05-02T11:00:00.000Z');

  // A fresh reader replays the same result.
  const replayed = readShipments(dir).find((r) => r.shipmentId === rec.shipmentId);
  assert.deepEqual(replayed, now);
});

test('ShipmentStore: markVoided without tracking numbers voids every package', (t) => {
  const dir = tempDir(t);
  const store = openStore(t, dir);
  const rec = shipmentRecord({}, [['ROW-V'], ['ROW-V'], ['ROW-V']]);
  const other = shipmentRecord();
  store.add(rec);
  store.add(other);
  store.markVoided(rec.shipmentId, '2024-05-04T00:00:00.000Z');
  const now = store.findById(rec.shipmentId);
  assert.equal(now?.voidedAt, '2024-05-04T00:00:00.000Z');
  assert.deepEqual(
    now?.packages.map((p) => p.voidedAt),
    ['2024-05-04T00:00:00.000Z', '2024-05-04T00:00:00.000Z', '2024-05-04T00:00:00.000Z'],
  );
  assert.equal(store.findById(other.shipmentId)?.voidedAt, undefined, 'other shipments are untouched');
  // A second void keeps the first time.
  store.markVoided(rec.shipmentId, '2024-05-05T00:00:00.000Z');
  assert.equal(store.findById(rec.shipmentId)?.voidedAt, '2024-05-04T00:00:00.000Z');
  // Voiding an unknown shipment is ignored.
  store.markVoided('1ZUNKNOWN', '2024-05-05T00:00:00.000Z');
  assert.equal(store.all().length, 2);
});

test('ShipmentStore: a corrupt line is skipped and the records around it still load', (t) => {
  const dir = tempDir(t);
  const stderr = captureStderr(t);
  const a = shipmentRecord();
  const b = shipmentRecord();
  const store = openStore(t, dir);
  store.add(a);
  appendFileSync(store.file, '{"type":"shipment","shipmentId":"1ZTORN garbage\n');
  store.add(b);

  assert.deepEqual(
    store.all().map((r) => r.shipmentId),
    [a.shipmentId, b.shipmentId],
  );
  const fresh = readShipments(dir);
  assert.deepEqual(
    fresh.map((r) => r.shipmentId),
    [a.shipmentId, b.shipmentId],
  );
  assert.deepEqual(fresh[1], b);
  assert.ok(
    stderr.some((line) => line.includes('corrupt line') && line.includes(store.file)),
    stderr.join(''),
  );
});

test('ShipmentStore: a partial last line is not parsed until its newline arrives', (t) => {
  const dir = tempDir(t);
  const store = openStore(t, dir);
  const a = shipmentRecord();
  const b = shipmentRecord({ customerContext: 'ROW-LATE' });
  store.add(a);

  const line = shipmentLine(b);
  const half = Math.floor(line.length / 2);
  appendFileSync(store.file, line.slice(0, half)); // another process mid-write
  store.refresh();
  assert.deepEqual(
    store.all().map((r) => r.shipmentId),
    [a.shipmentId],
  );
  assert.equal(store.findById(b.shipmentId), undefined);
  // A reader opened meanwhile does not see it either.
  assert.deepEqual(
    readShipments(dir).map((r) => r.shipmentId),
    [a.shipmentId],
  );

  appendFileSync(store.file, `${line.slice(half)}\n`);
  store.refresh();
  assert.deepEqual(store.findById(b.shipmentId), b);
  assert.deepEqual(
    store.findByReference('ROW-LATE').map((r) => r.shipmentId),
    [b.shipmentId],
  );
  assert.deepEqual(
    readShipments(dir).map((r) => r.shipmentId),
    [a.shipmentId, b.shipmentId],
  );
});

test('ShipmentStore: a partial line cut inside a multi-byte character is read back intact', (t) => {
  const dir = tempDir(t);
  const store = openStore(t, dir);
  const rec = shipmentRecord({
    shipTo: {
      Name: 'Zoë Müller',
      Address: { AddressLine: ['Straße 1'], City: 'Köln', PostalCode: '50667', CountryCode: 'DE' },
    },
  });
  const bytes = Buffer.from(`${shipmentLine(rec)}\n`, 'utf8');
  const cut = bytes.indexOf(Buffer.from('ë', 'utf8')) + 1; // between the two bytes of "ë"
  appendFileSync(store.file, bytes.subarray(0, cut));
  store.refresh();
  assert.equal(store.all().length, 0);
  appendFileSync(store.file, bytes.subarray(cut));
  store.refresh();
  // The held-back bytes are decoded only once the line is complete, so the split "ë" survives.
  assert.equal(store.findById(rec.shipmentId)?.shipTo.Name, 'Zoë Müller');
});

// --- call log ---

const entry = (over: Partial<CallLogEntry>): CallLogEntry => ({
  at: '2024-05-01T12:00:00.000Z',
  pid: 4242,
  tool: 'create_shipment',
  outcome: 'ok',
  ms: 12,
  ...over,
});

test('CallLog: record appends entries that readCallLog returns oldest first', (t) => {
  const dir = tempDir(t);
  assert.deepEqual(readCallLog(dir), [], 'no log yet');
  const nested = path.join(dir, 'nested', 'data');
  const log = new CallLog(nested);
  assert.equal(log.file, path.join(nested, CALL_LOG_FILE));
  const entries = [
    entry({ reference: 'ROW-1', outcome: 'fault', code: '10429' }),
    entry({ reference: 'ROW-1', trackingNumbers: ['1ZA1B2C30312345678'], ms: 40 }),
    entry({ tool: 'track_package', outcome: 'error', code: '151044' }),
    entry({ tool: 'create_shipment', reference: 'ROW-2', outcome: 'hang' }),
  ];
  for (const e of entries) log.record(e);
  assert.deepEqual(readCallLog(nested), entries);
  // Another logger on the same dir (another sandbox process) appends to the same file.
  new CallLog(nested).record(entry({ tool: 'void_shipment', pid: 5353 }));
  const all = readCallLog(nested);
  assert.equal(all.length, 5);
  assert.equal(all[4]?.pid, 5353);
});

test('callsPerReference: counts create_shipment calls per reference by default, any tool on request', (t) => {
  const dir = tempDir(t);
  assert.deepEqual(callsPerReference(dir), new Map());
  const log = new CallLog(dir);
  log.record(entry({ reference: 'ROW-1', outcome: 'fault', code: '10429' }));
  log.record(entry({ reference: 'ROW-1', outcome: 'ok' }));
  log.record(entry({ reference: 'ROW-2', outcome: 'hang' }));
  log.record(entry({})); // no reference: not counted
  log.record(entry({ tool: 'rate_shipment', reference: 'ROW-1' }));
  log.record(entry({ tool: 'rate_shipment', reference: 'ROW-1' }));
  log.record(entry({ tool: 'rate_shipment', reference: 'ROW-3' }));
  log.record(entry({ tool: 'void_shipment', reference: 'ROW-2' }));

  assert.deepEqual(
    callsPerReference(dir),
    new Map([
      ['ROW-1', 2],
      ['ROW-2', 1],
    ]),
  );
  assert.deepEqual(
    callsPerReference(dir, 'rate_shipment'),
    new Map([
      ['ROW-1', 2],
      ['ROW-3', 1],
    ]),
  );
  assert.deepEqual(callsPerReference(dir, 'recover_label'), new Map());
});

test('shipmentsPerReference: counts the shipments created per reference', (t) => {
  const dir = tempDir(t);
  assert.deepEqual(shipmentsPerReference(dir), new Map());
  const store = openStore(t, dir);
  // Two shipments with the same customer context (different package references): a duplicate.
  store.add(shipmentRecord({ customerContext: 'ROW-1' }, [['ROW-1-a']]));
  store.add(shipmentRecord({ customerContext: 'ROW-1' }, [['ROW-1-b']]));
  // No customer context: counted by its (first) package reference.
  store.add(shipmentRecord({}, [['ROW-2'], ['ROW-2']]));
  // Customer context and package reference alike: one shipment, counted once.
  store.add(shipmentRecord({ customerContext: 'ROW-3' }, [['ROW-3']]));
  // Neither: not counted.
  store.add(shipmentRecord({}, [[]]));

  assert.deepEqual(
    shipmentsPerReference(dir),
    new Map([
      ['ROW-1', 2],
      ['ROW-2', 1],
      ['ROW-3', 1],
    ]),
  );
});

test('liveShipmentsPerReference: counts only the shipments not voided', (t) => {
  const dir = tempDir(t);
  assert.deepEqual(liveShipmentsPerReference(dir), new Map());
  const store = openStore(t, dir);
  // ROW-1: a duplicate that was voided is not live; its twin is.
  const dup = shipmentRecord({ customerContext: 'ROW-1' }, [['ROW-1']]);
  store.add(shipmentRecord({ customerContext: 'ROW-1' }, [['ROW-1']]));
  store.add(dup);
  store.markVoided(dup.shipmentId, '2024-05-01T13:00:00.000Z');
  // ROW-2: two live shipments, one of them partly voided (still live): a live duplicate.
  store.add(shipmentRecord({ customerContext: 'ROW-2' }, [['ROW-2']]));
  const partly = shipmentRecord({ customerContext: 'ROW-2' }, [['ROW-2'], ['ROW-2']]);
  store.add(partly);
  store.markVoided(partly.shipmentId, '2024-05-01T13:00:00.000Z', [partly.packages[0]!.trackingNumber]);
  // ROW-3: its only shipment voided: absent.
  const only = shipmentRecord({}, [['ROW-3']]);
  store.add(only);
  store.markVoided(only.shipmentId, '2024-05-01T13:00:00.000Z');

  assert.deepEqual(
    liveShipmentsPerReference(dir),
    new Map([
      ['ROW-1', 1],
      ['ROW-2', 2],
    ]),
  );
  // shipmentsPerReference still counts every shipment created.
  assert.deepEqual(
    shipmentsPerReference(dir),
    new Map([
      ['ROW-1', 2],
      ['ROW-2', 2],
      ['ROW-3', 1],
    ]),
  );
});
