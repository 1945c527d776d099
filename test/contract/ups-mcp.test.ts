/**
 * The UPS MCP contract: the sandbox server reached through the real client, over stdio AND over
 * Streamable HTTP — every tool, response shape, error shape and class, labels, durability, knobs and
 * the call log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../temporal.config';
import { createUpsClient } from '../../activities/ups/from-config';
import { isValidUpsTrackingNumber } from '../../ups-sandbox/tracking-number';
import { UpsError } from '../../activities/ups/errors';
import { rateRequestFromShipmentRequest } from '../../activities/ups/rate-request';
import { callsPerReference, readCallLog, shipmentsPerReference } from '../../ups-sandbox/call-log';
import { readShipments } from '../../ups-sandbox/store';
import { darkFraction, decodeGif, readCode128 } from '../helpers/labels';
import { openSandboxHarness, SHIPPER, shipmentRequest, type SandboxHarness } from '../helpers/ups-sandbox';

/** Run `fn`, expecting a classified UpsError. */
async function upsError(fn: () => Promise<unknown>): Promise<UpsError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof UpsError, `expected a UpsError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

/** The raw tool result text, as any MCP client sees it. */
async function rawError(h: SandboxHarness, tool: string, args: Record<string, unknown>): Promise<string> {
  const result = await h.connection.callTool(tool, args, { timeoutMs: 30_000 });
  assert.equal(result.isError, true, `${tool} should fail`);
  const first = result.content[0];
  assert.ok(first && first.type === 'text');
  return first.text;
}

for (const transport of ['stdio', 'http'] as const) {
  describe(`UPS MCP contract over ${transport}`, () => {
    let h: SandboxHarness;
    let n = 0;
    const ref = (what: string) => `SBct${transport}-${what}-${++n}`;

    before(async () => {
      h = await openSandboxHarness(transport);
    });
    after(async () => {
      await h.close();
    });

    test('many calls under one signal (an activity rating a page) leave no abort listener on it', async () => {
      // The MCP SDK never removes the listener it adds to a request's signal: handed the activity's own
      // signal, every call of a long activity (a preview rating thousands of rows) would leave one there.
      const activity = new AbortController();
      for (let i = 0; i < 15; i++) {
        await h.client.rateShipmentRequest(shipmentRequest(ref('listeners')), activity.signal);
      }
      assert.equal(getEventListeners(activity.signal, 'abort').length, 0);
    });

    test('lists the real server tools with their argument names', async () => {
      const tools = await h.connection.listTools();
      assert.deepEqual([...tools].sort(), [
        'cancel_pickup',
        'create_shipment',
        'get_pickup_status',
        'get_time_in_transit',
        'rate_pickup',
        'rate_shipment',
        'recover_label',
        'schedule_pickup',
        'track_package',
        'validate_address',
        'void_shipment',
      ]);
    });

    test('rate_shipment Rate: one RatedShipment, negotiated below published, integer cents', async () => {
      const [quote, ...rest] = await h.client.rate(
        rateRequestFromShipmentRequest(shipmentRequest(ref('rate'))),
      );
      assert.equal(rest.length, 0);
      assert.equal(quote!.serviceCode, '03');
      assert.ok(Number.isInteger(quote!.publishedCents) && quote!.publishedCents > 0);
      assert.ok(quote!.negotiatedCents! < quote!.publishedCents);
      assert.equal(quote!.totalCents, quote!.negotiatedCents, 'negotiated wins');
      assert.equal(quote!.currency, 'USD');
    });

    test('rate_shipment Shop: every domestic service, air dearer than ground', async () => {
      const quotes = await h.client.rate(
        rateRequestFromShipmentRequest(shipmentRequest(ref('shop'))),
        'Shop',
      );
      const byCode = new Map(quotes.map((q) => [q.serviceCode, q.totalCents]));
      assert.ok(quotes.length >= 5, `got ${quotes.length} services`);
      assert.ok(byCode.get('01')! > byCode.get('02')! && byCode.get('02')! > byCode.get('03')!);
    });

    test('the same shipment further away costs more (zones from ZIPs)', async () => {
      const near = await h.client.rateShipmentRequest(shipmentRequest(ref('near'), { zip: '78701' }));
      const far = await h.client.rateShipmentRequest(shipmentRequest(ref('far'), { zip: '98101' }));
      assert.ok(far.totalCents > near.totalCents, `${far.totalCents} > ${near.totalCents}`);
    });

    test('create_shipment: ShipmentResponse shape, valid 1Z numbers, a 4x6 GIF whose barcode reads back', async () => {
      const r = ref('ship');
      const raw = await h.connection.callTool(
        'create_shipment',
        { request_body: shipmentRequest(r) },
        { timeoutMs: 30_000 },
      );
      assert.equal(raw.isError, undefined);
      const body = raw.structuredContent as {
        ShipmentResponse: { Response: unknown; ShipmentResults: Record<string, unknown> };
      };
      const results = body.ShipmentResponse.ShipmentResults;
      assert.deepEqual(body.ShipmentResponse.Response, {
        ResponseStatus: { Code: '1', Description: 'Success' },
        TransactionReference: { CustomerContext: r },
      });
      for (const key of [
        'ShipmentCharges',
        'NegotiatedRateCharges',
        'BillingWeight',
        'ShipmentIdentificationNumber',
        'PackageResults',
      ]) {
        assert.ok(key in results, `ShipmentResults.${key}`);
      }
      const text = raw.content[0];
      assert.ok(text?.type === 'text');
      assert.deepEqual(JSON.parse(text.text), body, 'text content is the same JSON');

      const shipment = await h.client.createShipment(shipmentRequest(ref('ship2')));
      assert.equal(shipment.trackingNumbers.length, 1);
      assert.ok(isValidUpsTrackingNumber(shipment.trackingNumbers[0]!), shipment.trackingNumbers[0]);
      assert.equal(shipment.shipmentId, shipment.trackingNumbers[0]);
      assert.ok(shipment.totalCents > 0 && shipment.negotiatedCents! < shipment.publishedCents);
      const label = shipment.labels[0]!;
      assert.equal(label.format, 'GIF');
      const img = decodeGif(label.image);
      assert.equal(img.width * 6, img.height * 4, `4x6 aspect, got ${img.width}x${img.height}`);
      assert.ok(img.width >= 800, 'at least 200 dpi');
      assert.deepEqual(readCode128(img), [shipment.trackingNumbers[0]]);
      const ink = darkFraction(img);
      assert.ok(ink > 0.03 && ink < 0.5, `ink coverage ${ink}`);
    });

    test('create_shipment: several packages get unique valid tracking numbers; ZPL labels on request', async () => {
      const shipment = await h.client.createShipment(
        shipmentRequest(ref('multi'), { weights: ['1', '2.5', '10'], format: 'ZPL' }),
      );
      assert.equal(shipment.trackingNumbers.length, 3);
      assert.equal(new Set(shipment.trackingNumbers).size, 3);
      for (const [i, label] of shipment.labels.entries()) {
        assert.ok(isValidUpsTrackingNumber(label.trackingNumber));
        assert.equal(label.format, 'ZPL');
        const zpl = label.image.toString('utf8');
        assert.match(zpl, /^\^XA/);
        assert.match(zpl, /\^XZ\s*$/);
        assert.ok(zpl.includes(label.trackingNumber), `package ${i + 1} ZPL carries its tracking number`);
      }
    });

    test('recover_label finds a shipment by reference + shipper number, and by tracking number', async () => {
      const r = ref('recover');
      const shipment = await h.client.createShipment(shipmentRequest(r, { weights: ['3', '4'] }));
      const found = await h.client.recoverByReference(r, SHIPPER.ShipperNumber);
      assert.ok(found);
      assert.equal(found.shipmentId, shipment.shipmentId);
      assert.deepEqual(
        found.labels.map((l) => l.trackingNumber),
        shipment.trackingNumbers,
      );
      assert.deepEqual(readCode128(decodeGif(found.labels[1]!.image)), [shipment.trackingNumbers[1]]);
      const byTracking = await h.client.recoverByTracking(shipment.trackingNumbers[1]!);
      assert.deepEqual(
        byTracking?.labels.map((l) => l.trackingNumber),
        [shipment.trackingNumbers[1]],
      );
      assert.equal(await h.client.recoverByReference(r, 'ZZZZZZ'), undefined, 'another shipper’s reference');
      assert.equal(await h.client.recoverByReference(ref('never-shipped'), SHIPPER.ShipperNumber), undefined);
    });

    test('void_shipment voids once; a second void says already voided (definitive); tracking shows it', async () => {
      const shipment = await h.client.createShipment(shipmentRequest(ref('void')));
      assert.equal((await h.client.track(shipment.trackingNumbers[0]!)).statusCode, '003');
      assert.deepEqual(await h.client.voidShipment(shipment.shipmentId), { voided: true, status: 'Voided' });
      const again = await upsError(() => h.client.voidShipment(shipment.shipmentId));
      assert.equal(again.category, 'already_voided');
      assert.equal(again.errorClass, 'definitive');
      assert.equal(again.statusCode, 400);
      assert.equal(
        (await h.client.track(shipment.trackingNumbers[0]!)).status,
        'Voided Information Received',
      );
      const unknown = await upsError(() => h.client.voidShipment('1ZA1B2C30300000000'));
      assert.equal(unknown.category, 'not_found');
      const untracked = await upsError(() => h.client.track('1ZA1B2C30399999999'));
      assert.equal(untracked.category, 'not_found');
    });

    test('void window: a shipment older than the window cannot be voided', async () => {
      const shipment = await h.client.createShipment(shipmentRequest(ref('window')));
      h.setKnobs({ voidWindowHours: 0.0001 });
      await sleep(600);
      const err = await upsError(() => h.client.voidShipment(shipment.shipmentId));
      assert.equal(err.upsCode, '190102');
      assert.equal(err.category, 'void_window');
      h.setKnobs({});
    });

    test('validate_address: classification and candidates; a rejected ZIP has no candidates', async () => {
      const home = await h.client.validateAddress({
        addressLines: ['3223 Cedar Ln'],
        city: 'Philadelphia',
        state: 'PA',
        postalCode: '19103',
        countryCode: 'US',
      });
      assert.equal(home.valid, true);
      assert.equal(home.classification, 'residential');
      assert.equal(home.candidates[0]?.city, 'PHILADELPHIA');
      const office = await h.client.validateAddress({
        addressLines: ['1200 Industrial Blvd'],
        city: 'Austin',
        state: 'TX',
        postalCode: '78744',
        countryCode: 'US',
      });
      assert.equal(office.classification, 'commercial');
      h.setKnobs({ rejectPostalCodes: ['19103'] });
      const rejected = await h.client.validateAddress({
        addressLines: ['3223 Cedar Ln'],
        city: 'Philadelphia',
        state: 'PA',
        postalCode: '19103',
        countryCode: 'US',
      });
      assert.equal(rejected.valid, false);
      assert.deepEqual(rejected.candidates, []);
      h.setKnobs({});
    });

    test('UPS errors: exact real-server text, UPS code in details, definitive classes', async () => {
      const text = await rawError(h, 'create_shipment', {
        request_body: shipmentRequest(ref('badzip'), { zip: '1910' }),
      });
      assert.match(
        text,
        /^Error executing tool create_shipment: \{"status_code": 400, "code": "400", "message": "[^"]+", "details": \{"response": \{"errors": \[\{"code": "120208", "message": /,
      );

      const cases: Array<[string, Parameters<typeof shipmentRequest>[1], string, string]> = [
        ['shipper', { shipperNumber: 'A1B2' }, '120100', 'shipper'],
        ['address', { zip: '1910' }, '120208', 'address'],
        ['service', { service: '07' }, '111210', 'service'],
        ['weight', { weights: ['151'] }, '120506', 'weight'],
      ];
      for (const [what, opts, code, category] of cases) {
        const err = await upsError(() => h.client.createShipment(shipmentRequest(ref(what), opts)));
        assert.equal(err.upsCode, code, what);
        assert.equal(err.category, category, what);
        assert.equal(err.errorClass, 'definitive', what);
        assert.equal(err.statusCode, 400, what);
      }
      h.setKnobs({ rejectPostalCodes: ['19103'] });
      const rejected = await upsError(() => h.client.createShipment(shipmentRequest(ref('reject'))));
      assert.equal(rejected.upsCode, '120802');
      assert.equal(rejected.category, 'address');
      h.setKnobs({});
    });

    test('server-side errors: missing fields, structural problems, bad arguments', async () => {
      const noPackaging = shipmentRequest(ref('nopack')) as unknown as {
        ShipmentRequest: { Shipment: { Package: Array<Record<string, unknown>> } };
      };
      delete noPackaging.ShipmentRequest.Shipment.Package[0]!.Packaging;
      const text = await rawError(h, 'create_shipment', { request_body: noPackaging });
      assert.match(
        text,
        /^Error executing tool create_shipment: \{"code": "ELICITATION_UNSUPPORTED", "message": "Missing 1 required field\(s\) and client does not support form elicitation", "reason": "unsupported", "missing": \[\{"dot_path": "ShipmentRequest\.Shipment\.Package\[0\]\.Packaging\.Code", "flat_key": "package_1_packaging_code"/,
      );
      const missing = await upsError(() => h.client.createShipment(noPackaging as never));
      assert.equal(missing.serverCode, 'ELICITATION_UNSUPPORTED');
      assert.equal(missing.errorClass, 'definitive');
      assert.deepEqual(missing.missing, ['ShipmentRequest.Shipment.Package[0].Packaging.Code']);

      // A rate request whose package has only PackagingType is refused like the real server does.
      const rateBody = rateRequestFromShipmentRequest(shipmentRequest(ref('pt'))) as {
        RateRequest: { Shipment: { Package: Array<Record<string, unknown>> } };
      };
      const pkg = rateBody.RateRequest.Shipment.Package[0]!;
      pkg.PackagingType = pkg.Packaging;
      delete pkg.Packaging;
      const ratingErr = await upsError(() => h.client.rate(rateBody));
      assert.deepEqual(ratingErr.missing, ['RateRequest.Shipment.Package[0].Packaging.Code']);

      const payer = shipmentRequest(ref('payer'));
      (
        payer.ShipmentRequest.Shipment.PaymentInformation.ShipmentCharge as Array<Record<string, unknown>>
      )[0]!.BillReceiver = { AccountNumber: 'X' };
      const malformed = await upsError(() => h.client.createShipment(payer));
      assert.equal(malformed.serverCode, 'MALFORMED_REQUEST');
      assert.equal(malformed.errorClass, 'definitive');

      const option = await rawError(h, 'rate_shipment', {
        requestoption: 'cheapest',
        request_body: rateRequestFromShipmentRequest(shipmentRequest(ref('option'))),
      });
      assert.equal(
        option,
        "Error executing tool rate_shipment: Invalid requestoption 'cheapest'. Allowed values: Rate, Ratetimeintransit, Shop, Shoptimeintransit",
      );
      const args = await rawError(h, 'create_shipment', {});
      assert.match(
        args,
        /^Error executing tool create_shipment: 1 validation error for create_shipmentArguments\nrequest_body\n {2}Field required \[type=missing/,
      );
      // Like the real server, an empty shipment id is not refused locally: UPS answers 400.
      const emptyId = await upsError(() => h.client.voidShipment(''));
      assert.deepEqual([emptyId.statusCode, emptyId.errorClass], [400, 'definitive']);
    });

    test('fault knobs: 429 with Retry-After, 503, 500, then normal service again', async () => {
      h.setKnobs({
        retryAfterSeconds: 3,
        rules: [{ tool: 'create_shipment', fault: 'rate_limit', times: 1 }],
      });
      const limited = await upsError(() => h.client.createShipment(shipmentRequest(ref('429'))));
      assert.equal(limited.statusCode, 429);
      assert.equal(limited.upsCode, '10429');
      assert.equal(limited.category, 'rate_limit');
      assert.equal(limited.errorClass, 'retryable');
      assert.equal(limited.retryAfterMs, 3000);
      const ok = await h.client.createShipment(shipmentRequest(ref('after429')));
      assert.ok(ok.shipmentId, 'the rule fired once only');

      h.setKnobs({ rules: [{ fault: 'unavailable' }] });
      const unavailable = await upsError(() => h.client.rateShipmentRequest(shipmentRequest(ref('503'))));
      assert.deepEqual(
        [unavailable.statusCode, unavailable.upsCode, unavailable.errorClass],
        [503, '190001', 'retryable'],
      );

      h.setKnobs({ rules: [{ fault: 'server_error' }] });
      const onCreate = await upsError(() => h.client.createShipment(shipmentRequest(ref('500'))));
      assert.equal(onCreate.errorClass, 'ambiguous', 'a 500 on create may have shipped');
      const onRate = await upsError(() => h.client.rateShipmentRequest(shipmentRequest(ref('500r'))));
      assert.equal(onRate.errorClass, 'retryable');

      h.setKnobs({ faultRates: { unavailable: 1 }, faultTools: ['track_package'] });
      const shipped = await h.client.createShipment(shipmentRequest(ref('rates')));
      assert.equal(
        (await upsError(() => h.client.track(shipped.trackingNumbers[0]!))).category,
        'unavailable',
      );
      h.setKnobs({});
      assert.equal(
        (await h.client.track(shipped.trackingNumbers[0]!)).trackingNumber,
        shipped.trackingNumbers[0],
      );
    });

    test('fault knobs: a hang times out the call; hang-after-create is ambiguous and recoverable', async () => {
      // The sandbox is serial, like the real server: a hang blocks its process, which ignores the
      // client's cancellation until the hang ends (hangMs). Over stdio the pool replaces the timed-out
      // session (a new process); over HTTP the next calls wait in the server until the hang ends.
      const impatient = h.newClient({ callTimeoutMs: 1500 });
      h.setKnobs({ hangMs: 2000, rules: [{ tool: 'rate_shipment', fault: 'hang', times: 1 }] });
      const hung = await upsError(() => impatient.rateShipmentRequest(shipmentRequest(ref('hang'))));
      assert.equal(hung.category, 'transport');
      assert.equal(hung.errorClass, 'retryable');

      const r = ref('hang-create');
      h.setKnobs({
        hangMs: 2000,
        rules: [{ tool: 'create_shipment', fault: 'hang_after_create', reference: r, times: 1 }],
      });
      const lost = await upsError(() => impatient.createShipment(shipmentRequest(r)));
      assert.equal(lost.errorClass, 'ambiguous');
      h.setKnobs({});
      const found = await h.client.recoverByReference(r, SHIPPER.ShipperNumber);
      assert.ok(found, 'the shipment was created although the answer never came');
      assert.equal(readCallLog(h.dataDir).filter((e) => e.reference === r && e.outcome === 'hang').length, 1);
    });

    test('fault knobs: timeout after create (ambiguous, shipped), busy, auth, request error', async () => {
      const r = ref('timeout-create');
      h.setKnobs({
        rules: [{ tool: 'create_shipment', fault: 'timeout_after_create', reference: r, times: 1 }],
      });
      const lost = await upsError(() => h.client.createShipment(shipmentRequest(r)));
      assert.deepEqual([lost.serverCode, lost.errorClass], ['REQUEST_ERROR', 'ambiguous']);
      assert.ok(
        await h.client.recoverByReference(r, SHIPPER.ShipperNumber),
        'it shipped although the answer said timeout',
      );

      const r2 = ref('request-error');
      h.setKnobs({ rules: [{ tool: 'create_shipment', fault: 'request_error', reference: r2, times: 1 }] });
      const timedOut = await upsError(() => h.client.createShipment(shipmentRequest(r2)));
      assert.deepEqual([timedOut.serverCode, timedOut.errorClass], ['REQUEST_ERROR', 'ambiguous']);
      assert.equal(
        await h.client.recoverByReference(r2, SHIPPER.ShipperNumber),
        undefined,
        'nothing was created',
      );

      h.setKnobs({ rules: [{ fault: 'request_error' }] });
      const onRate = await upsError(() => h.client.rateShipmentRequest(shipmentRequest(ref('re-rate'))));
      assert.deepEqual([onRate.category, onRate.errorClass], ['transport', 'retryable']);

      h.setKnobs({ rules: [{ fault: 'busy' }] });
      const busy = await upsError(() => h.client.createShipment(shipmentRequest(ref('busy'))));
      assert.deepEqual([busy.statusCode, busy.upsCode, busy.errorClass], [503, '190002', 'retryable']);

      h.setKnobs({ rules: [{ fault: 'auth_error' }] });
      const auth = await upsError(() => h.client.createShipment(shipmentRequest(ref('auth'))));
      assert.deepEqual(
        [auth.statusCode, auth.upsCode, auth.category, auth.errorClass],
        [401, '250002', 'auth', 'definitive'],
      );
      h.setKnobs({});
    });

    test('void_shipment of one package of two voids only that package', async () => {
      const shipment = await h.client.createShipment(
        shipmentRequest(ref('partial'), { weights: ['2', '3'] }),
      );
      const [first, second] = shipment.trackingNumbers;
      assert.equal((await h.client.voidShipment(shipment.shipmentId, [second!])).voided, true);
      assert.equal((await h.client.track(second!)).statusCode, '011');
      assert.equal((await h.client.track(first!)).statusCode, '003', 'the other package is still live');
      const again = await upsError(() => h.client.voidShipment(shipment.shipmentId, [second!]));
      assert.equal(again.category, 'already_voided');
      assert.equal(
        (await h.client.voidShipment(shipment.shipmentId)).voided,
        true,
        'the rest can still be voided',
      );
      assert.equal(
        (await upsError(() => h.client.voidShipment(shipment.shipmentId))).category,
        'already_voided',
      );
    });

    test('rate_shipment Ratetimeintransit reports business days in transit', async () => {
      const [quote] = await h.client.rate(
        rateRequestFromShipmentRequest(shipmentRequest(ref('tit'))),
        'Ratetimeintransit',
      );
      assert.ok(quote && Number.isInteger(quote.businessDaysInTransit) && quote.businessDaysInTransit! >= 1);
    });

    test('latency knob delays every call', async () => {
      h.setKnobs({ latency: { kind: 'fixed', ms: 400 } });
      const started = Date.now();
      await h.client.rateShipmentRequest(shipmentRequest(ref('slow')));
      assert.ok(Date.now() - started >= 400, 'a fixed 400 ms latency was applied');
      h.setKnobs({});
    });

    test('call log counts create_shipment calls and shipments per reference (the duplicate detector)', async () => {
      const r = ref('dup');
      await h.client.createShipment(shipmentRequest(r));
      await h.client.createShipment(shipmentRequest(r));
      h.setKnobs({ rules: [{ tool: 'create_shipment', fault: 'unavailable', reference: r }] });
      await upsError(() => h.client.createShipment(shipmentRequest(r)));
      h.setKnobs({});
      assert.equal(callsPerReference(h.dataDir).get(r), 3);
      assert.equal(
        shipmentsPerReference(h.dataDir).get(r),
        2,
        'two shipments for one reference: a duplicate',
      );
      const log = readCallLog(h.dataDir).filter((e) => e.reference === r);
      assert.deepEqual(
        log.map((e) => e.outcome),
        ['ok', 'ok', 'fault'],
      );
      assert.ok(log[0]!.trackingNumbers?.[0] && isValidUpsTrackingNumber(log[0]!.trackingNumbers[0]));
    });

    test('shipments survive a sandbox restart: recover_label still finds them, void still works', async () => {
      const r = ref('durable');
      const shipment = await h.client.createShipment(shipmentRequest(r));
      await h.restart();
      const found = await h.client.recoverByReference(r, SHIPPER.ShipperNumber);
      assert.equal(found?.shipmentId, shipment.shipmentId);
      assert.deepEqual(readCode128(decodeGif(found.labels[0]!.image)), shipment.trackingNumbers);
      assert.ok(readShipments(h.dataDir).some((s) => s.shipmentId === shipment.shipmentId));
      assert.equal((await h.client.voidShipment(shipment.shipmentId)).voided, true);
    });
  });
}

describe('UPS MCP client over stdio: reconnect', () => {
  let h: SandboxHarness;
  before(async () => {
    h = await openSandboxHarness('stdio');
  });
  after(async () => {
    await h.close();
  });

  test('after the server process is killed, the next call starts a new one and succeeds', async () => {
    const first = await h.client.createShipment(shipmentRequest('SBreconnect-1'));
    const pid = (await h.connection.serverPids())[0];
    assert.ok(pid, 'a stdio server process is running');
    process.kill(pid, 'SIGKILL');
    await sleep(300);
    const second = await h.client.createShipment(shipmentRequest('SBreconnect-2'));
    const newPid = (await h.connection.serverPids())[0];
    assert.ok(newPid && newPid !== pid, `a new server process (${pid} → ${newPid})`);
    assert.notEqual(second.shipmentId, first.shipmentId);
    assert.ok(
      await h.client.recoverByReference('SBreconnect-1', SHIPPER.ShipperNumber),
      'the old shipment is still on record',
    );
  });

  test('a call in flight when the server dies fails as a transport error (ambiguous for create)', async () => {
    h.setKnobs({ latency: { kind: 'fixed', ms: 2000 } });
    const pending = upsError(() => h.client.createShipment(shipmentRequest('SBreconnect-3')));
    await sleep(700);
    const pid = (await h.connection.serverPids())[0];
    process.kill(pid!, 'SIGKILL');
    const err = await pending;
    assert.equal(err.category, 'transport');
    assert.equal(err.errorClass, 'ambiguous');
    h.setKnobs({});
    assert.ok((await h.client.createShipment(shipmentRequest('SBreconnect-4'))).shipmentId);
  });
});

describe('UPS MCP client from configuration', () => {
  test('SHIPBATCH_UPS_TRANSPORT=stdio runs the configured command with the configured env', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-ups-config-'));
    const config = loadConfig({
      SHIPBATCH_UPS_TRANSPORT: 'stdio',
      SHIPBATCH_UPS_COMMAND: process.execPath,
      SHIPBATCH_UPS_ARGS: JSON.stringify([
        fileURLToPath(new URL('../../bin/ups-sandbox.js', import.meta.url)),
      ]),
      SHIPBATCH_UPS_ENV: JSON.stringify({ UPS_SANDBOX_DATA_DIR: dataDir }),
      SHIPBATCH_UPS_ENV_PASSTHROUGH: 'UPS_ACCOUNT_NUMBER',
      UPS_ACCOUNT_NUMBER: 'Z9Y8X7',
    });
    const client = createUpsClient(config.ups);
    try {
      const request = shipmentRequest('SBconfig-1');
      // No shipper number in the request: the server fills it from the passed-through UPS_ACCOUNT_NUMBER.
      delete (request.ShipmentRequest.Shipment.Shipper as { ShipperNumber?: string }).ShipperNumber;
      delete (
        request.ShipmentRequest.Shipment.PaymentInformation.ShipmentCharge as Array<Record<string, unknown>>
      )[0]!.BillShipper;
      const shipment = await client.createShipment(request);
      assert.match(shipment.shipmentId, /^1ZZ9Y8X7/);
      assert.equal(readShipments(dataDir).length, 1, 'the configured env reached the server');
    } finally {
      await client.close();
    }
  });
});

describe('UPS MCP client over HTTP: server restart', () => {
  let h: SandboxHarness;
  before(async () => {
    h = await openSandboxHarness('http');
  });
  after(async () => {
    await h.close();
  });

  test('while the server is down calls fail as never sent; after it restarts the client opens a new session', async () => {
    const first = await h.client.createShipment(shipmentRequest('SBhttp-restart-1'));
    await h.stopServer();
    const down = await upsError(() => h.client.createShipment(shipmentRequest('SBhttp-restart-2')));
    assert.equal(down.category, 'transport');
    assert.equal(down.errorClass, 'retryable', 'a refused connection never reached the server');
    await h.startServer();
    const second = await h.client.createShipment(shipmentRequest('SBhttp-restart-3'));
    assert.notEqual(second.shipmentId, first.shipmentId);
    assert.equal(await h.client.recoverByReference('SBhttp-restart-2', SHIPPER.ShipperNumber), undefined);
    assert.equal(
      (await h.client.recoverByReference('SBhttp-restart-1', SHIPPER.ShipperNumber))?.shipmentId,
      first.shipmentId,
    );
  });

  test('a server restart between two calls is invisible: the stale session is replaced transparently', async () => {
    await h.client.rate(rateRequestFromShipmentRequest(shipmentRequest('SBhttp-restart-4')));
    await h.stopServer();
    await h.startServer();
    const [quote] = await h.client.rate(rateRequestFromShipmentRequest(shipmentRequest('SBhttp-restart-5')));
    assert.ok(quote && quote.totalCents > 0);
    assert.equal(shipmentsPerReference(h.dataDir).get('SBhttp-restart-5'), undefined);
  });
});
