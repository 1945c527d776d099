import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  billableWeightLbs,
  quoteService,
  ratedShipment,
  shoppableServices,
  upsZone,
  type RatablePackage,
  type RatableShipment,
  type ServiceQuote,
} from '../../ups-sandbox/rates';
import { parseCents } from '../../domain/money';
import { SERVICE_CODES } from '../../domain/shipment-schema';

const lbs = (weight: string): RatablePackage => ({
  PackageWeight: { UnitOfMeasurement: { Code: 'LBS' }, Weight: weight },
  Packaging: { Code: '02' },
});

function shipment(over: Partial<RatableShipment> = {}, residential = false): RatableShipment {
  return {
    Shipper: { Address: { PostalCode: '78744', CountryCode: 'US' } },
    ShipTo: {
      Address: {
        PostalCode: '10001',
        CountryCode: 'US',
        ...(residential ? { ResidentialAddressIndicator: '' } : {}),
      },
    },
    Service: { Code: '03' },
    Package: [lbs('5')],
    ...over,
  };
}

const international = (): RatableShipment =>
  shipment({ ShipTo: { Address: { PostalCode: 'M5V 2T6', CountryCode: 'CA' } } });

type Money = { CurrencyCode: string; MonetaryValue: string };
const cents = (m: unknown): number => {
  const money = m as Money;
  assert.equal(money.CurrencyCode, 'USD');
  assert.match(money.MonetaryValue, /^\d+\.\d{2}$/);
  return parseCents(money.MonetaryValue);
};

test('upsZone is symmetric, 2 for the same prefix, and never decreases with distance', () => {
  assert.equal(upsZone('10001', '10016'), 2);
  assert.equal(upsZone('78744', '78701-1234'), 2);
  assert.equal(upsZone('787441234', '78701'), 2);
  const zips = [
    '00601',
    '02108',
    '10001',
    '20001',
    '30301',
    '46201',
    '60601',
    '70112',
    '80202',
    '94105',
    '99501',
  ];
  for (const a of zips) {
    for (const b of zips) {
      const z = upsZone(a, b);
      assert.ok(Number.isInteger(z) && z >= 2 && z <= 8, `${a}→${b} = ${z}`);
      assert.equal(z, upsZone(b, a), `${a}↔${b}`);
    }
  }
  // Moving the destination further from the origin never lowers the zone.
  let last = 0;
  for (let prefix = 100; prefix <= 999; prefix++) {
    const z = upsZone('10001', `${prefix}01`);
    assert.ok(z >= last, `prefix ${prefix}: ${z} < ${last}`);
    last = z;
  }
  assert.equal(last, 8);
  assert.equal(upsZone('10001', '30301'), 5); // New York → Atlanta
  assert.equal(upsZone('10001', '94105'), 8); // New York → San Francisco
});

test('upsZone rejects ZIPs that are not 5 digits or ZIP+4', () => {
  for (const bad of ['1000', '100011', 'ABCDE', '', '10001-12', 'M5V 2T6']) {
    assert.throws(() => upsZone(bad, '10001'), { message: `Invalid postal code ${bad}` });
    assert.throws(() => upsZone('10001', bad), { message: `Invalid postal code ${bad}` });
  }
});

test('billableWeightLbs: actual weight rounded up to whole pounds, at least 1', () => {
  assert.equal(billableWeightLbs(lbs('5')), 5);
  assert.equal(billableWeightLbs(lbs('5.1')), 6);
  assert.equal(billableWeightLbs(lbs('0.2')), 1);
  assert.equal(billableWeightLbs(lbs('0')), 1);
  assert.equal(billableWeightLbs({}), 1);
  assert.throws(() => billableWeightLbs(lbs('heavy')), /Invalid package weight/);
  assert.throws(() => billableWeightLbs(lbs('-1')), /Invalid package weight/);
});

test('billableWeightLbs: a light big box bills by its dimensions', () => {
  const box = (weight: string, l: string, w: string, h: string): RatablePackage => ({
    ...lbs(weight),
    Dimensions: { UnitOfMeasurement: { Code: 'IN' }, Length: l, Width: w, Height: h },
  });
  // 24×18×12 = 5184 in³ / 139 = 37.3 → 38 lb, though it weighs 3 lb.
  assert.equal(billableWeightLbs(box('3', '24', '18', '12')), 38);
  // A dense small box bills by actual weight: 6×6×6 / 139 = 1.55 → 2 lb < 20 lb.
  assert.equal(billableWeightLbs(box('20', '6', '6', '6')), 20);
  // Exactly 10 lb of dimensional weight stays 10 despite float noise (10×10×13.9 = 1390).
  assert.equal(billableWeightLbs(box('1', '10', '10', '13.9')), 10);
  // Incomplete dimensions are ignored.
  assert.equal(
    billableWeightLbs({
      ...lbs('2'),
      Dimensions: { UnitOfMeasurement: { Code: 'IN' }, Length: '50', Width: '50' },
    }),
    2,
  );
});

test('billableWeightLbs converts KGS and CM', () => {
  const kg = (weight: string): RatablePackage => ({
    PackageWeight: { UnitOfMeasurement: { Code: 'KGS' }, Weight: weight },
  });
  assert.equal(billableWeightLbs(kg('1')), 3); // 2.2046 lb
  assert.equal(billableWeightLbs(kg('10')), 23); // 22.046 lb
  assert.equal(billableWeightLbs(kg('0.45')), 1); // 0.992 lb
  // 60×40×30 cm = 72000 cm³ = 4393.7 in³ / 139 = 31.6 → 32 lb.
  const cmBox: RatablePackage = {
    ...kg('2'),
    Dimensions: { UnitOfMeasurement: { Code: 'CM' }, Length: '60', Width: '40', Height: '30' },
  };
  assert.equal(billableWeightLbs(cmBox), 32);
  // The same box in inches (23.622 × 15.748 × 11.811) bills the same.
  const inBox: RatablePackage = {
    ...lbs('4.4'),
    Dimensions: { UnitOfMeasurement: { Code: 'IN' }, Length: '23.622', Width: '15.748', Height: '11.811' },
  };
  assert.equal(billableWeightLbs(inBox), 32);
});

test('shoppableServices: domestic vs international lanes', () => {
  assert.deepEqual(shoppableServices(shipment()), ['01', '02', '03', '12', '13', '14', '59']);
  assert.deepEqual(shoppableServices(international()), ['07', '08', '11', '54', '65']);
  const fromUk = shipment({ Shipper: { Address: { PostalCode: 'SW1A 1AA', CountryCode: 'GB' } } });
  assert.deepEqual(shoppableServices(fromUk), ['07', '08', '11', '54', '65']);
  // Country codes default to US.
  assert.deepEqual(shoppableServices({ ShipTo: { Address: { PostalCode: '10001' } }, Package: [lbs('1')] }), [
    '01',
    '02',
    '03',
    '12',
    '13',
    '14',
    '59',
  ]);
});

test('every shoppable service quotes, with consistent integer-cent totals', () => {
  for (const s of [shipment(), shipment({}, true), international()]) {
    for (const code of shoppableServices(s)) {
      const q = quoteService(s, code);
      assert.equal(q.serviceCode, code);
      assert.equal(q.serviceName, SERVICE_CODES[code]);
      assert.ok(q.zone >= 2 && q.zone <= 8);
      assert.equal(q.billableWeightLbs, 5);
      assert.deepEqual(
        q.perPackage.map((p) => p.billableWeightLbs),
        [5],
      );
      for (const n of [
        q.publishedCents,
        q.negotiatedCents,
        q.residentialSurchargeCents,
        q.fuelSurchargeCents,
      ]) {
        assert.ok(Number.isSafeInteger(n) && n >= 0, `${code}: ${n}`);
      }
      const base = q.perPackage.reduce((sum, p) => sum + p.baseCents, 0);
      assert.equal(q.publishedCents, base + q.residentialSurchargeCents + q.fuelSurchargeCents);
      assert.ok(q.negotiatedCents < q.publishedCents, `${code}: negotiated ${q.negotiatedCents}`);
      assert.ok(q.negotiatedCents > 0);
      assert.ok(q.businessDaysInTransit >= 1 && q.businessDaysInTransit <= 7);
    }
  }
});

test('the pricing model: ground base, service multipliers, fuel and negotiated discount', () => {
  // Austin 787 → Austin 787: zone 2; 5 lb ground base = 1050 + 2×85 + 5×(40 + 2×12) = 1540.
  const local = shipment({ ShipTo: { Address: { PostalCode: '78701', CountryCode: 'US' } } });
  const ground = quoteService(local, '03');
  assert.equal(ground.zone, 2);
  assert.deepEqual(ground.perPackage, [{ billableWeightLbs: 5, baseCents: 1540 }]);
  assert.equal(ground.fuelSurchargeCents, 231); // 15% of 1540
  assert.equal(ground.publishedCents, 1771);
  assert.equal(ground.negotiatedCents, 1771 - 319); // 18% off, half up
  assert.equal(ground.businessDaysInTransit, 1);
  const nda = quoteService(local, '01');
  assert.equal(nda.perPackage[0]?.baseCents, 5236); // ×3.4
  assert.equal(nda.negotiatedCents, nda.publishedCents - Math.round(nda.publishedCents * 0.25));
});

test('air costs more than ground, and faster air more than slower air', () => {
  const s = shipment({ Package: [lbs('12'), lbs('3')] });
  const price = (code: string) => quoteService(s, code).publishedCents;
  for (const air of ['01', '02', '12', '13', '14', '59']) assert.ok(price(air) > price('03'), air);
  const ladder = ['03', '12', '02', '59', '13', '01', '14'].map(price);
  assert.deepEqual(
    [...ladder].sort((a, b) => a - b),
    ladder,
  );
  const days = ['03', '12', '02', '01'].map((c) => quoteService(s, c).businessDaysInTransit);
  assert.deepEqual(days, [5, 3, 2, 1]);
  const intl = international();
  assert.ok(quoteService(intl, '07').publishedCents > quoteService(intl, '11').publishedCents);
});

test('a residential ShipTo adds the residential surcharge per package', () => {
  const two = { Package: [lbs('5'), lbs('5')] };
  const commercial = quoteService(shipment(two), '03');
  const home = quoteService(shipment(two, true), '03');
  assert.equal(commercial.residentialSurchargeCents, 0);
  assert.equal(home.residentialSurchargeCents, 2 * 555);
  assert.ok(home.publishedCents > commercial.publishedCents + 2 * 555 - 1);
  assert.equal(quoteService(shipment({}, true), '02').residentialSurchargeCents, 610);
  // Any present value counts, as UPS's indicator is an empty string.
  const flagged = shipment();
  flagged.ShipTo.Address.ResidentialAddressIndicator = 'Y';
  assert.equal(quoteService(flagged, '03').residentialSurchargeCents, 555);
});

test('more weight and more distance never cost less', () => {
  const near = shipment({ ShipTo: { Address: { PostalCode: '78701', CountryCode: 'US' } } });
  const far = shipment({ ShipTo: { Address: { PostalCode: '02108', CountryCode: 'US' } } });
  assert.ok(quoteService(far, '03').publishedCents > quoteService(near, '03').publishedCents);
  let last = 0;
  for (let w = 1; w <= 150; w++) {
    const p = quoteService(shipment({ Package: [lbs(String(w))] }), '03').publishedCents;
    assert.ok(p > last, `${w} lb`);
    last = p;
  }
});

test('ratedShipment is a UPS RatedShipment whose money strings parse back to the exact cents', () => {
  const s = shipment({ Package: [lbs('5'), lbs('12.5'), lbs('1')] }, true);
  for (const code of shoppableServices(s)) {
    const q = quoteService(s, code);
    const r = ratedShipment(q, { negotiated: true, timeInTransit: true });
    assert.deepEqual(r.Service, { Code: code, Description: SERVICE_CODES[code] });
    assert.deepEqual(r.BillingWeight, {
      UnitOfMeasurement: { Code: 'LBS', Description: 'Pounds' },
      Weight: '19.0',
    });
    const base = q.perPackage.reduce((sum, p) => sum + p.baseCents, 0);
    assert.equal(cents(r.BaseServiceCharge), base);
    assert.equal(cents(r.TransportationCharges), q.publishedCents);
    assert.equal(cents(r.ServiceOptionsCharges), 0);
    assert.equal(cents(r.TotalCharges), q.publishedCents);
    assert.equal(cents((r.NegotiatedRateCharges as { TotalCharge: Money }).TotalCharge), q.negotiatedCents);
    const itemized = r.ItemizedCharges as Array<Money & { Code: string }>;
    assert.equal(cents(itemized.find((c) => c.Code === '270')), q.residentialSurchargeCents);
    assert.equal(cents(itemized.find((c) => c.Code === '375')), q.fuelSurchargeCents);
    assert.equal(base + itemized.reduce((sum, c) => sum + cents(c), 0), q.publishedCents);
    // Packages carry their share; the shares add up to the shipment exactly.
    const pkgs = r.RatedPackage as Array<Record<string, unknown>>;
    assert.equal(pkgs.length, 3);
    assert.deepEqual(
      pkgs.map((p) => (p.BillingWeight as { Weight: string }).Weight),
      ['5.0', '13.0', '1.0'],
    );
    assert.equal(
      pkgs.reduce((sum, p) => sum + cents(p.TotalCharges), 0),
      q.publishedCents,
    );
    for (const p of pkgs) assert.equal(cents(p.TransportationCharges), cents(p.TotalCharges));
    assert.deepEqual(r.TimeInTransit, {
      ServiceSummary: {
        Service: { Description: SERVICE_CODES[code] },
        EstimatedArrival: { BusinessDaysInTransit: String(q.businessDaysInTransit) },
      },
    });
    if (code === '03') assert.equal(r.GuaranteedDelivery, undefined);
    else assert.deepEqual(r.GuaranteedDelivery, { BusinessDaysInTransit: String(q.businessDaysInTransit) });
  }
});

test('ratedShipment leaves out negotiated rates, time in transit and residential when not asked for', () => {
  const r = ratedShipment(quoteService(shipment(), '03'), { negotiated: false });
  assert.equal(r.NegotiatedRateCharges, undefined);
  assert.equal(r.TimeInTransit, undefined);
  const itemized = r.ItemizedCharges as Array<{ Code: string }>;
  assert.deepEqual(
    itemized.map((c) => c.Code),
    ['375'],
  );
  // JSON round trip: plain data only.
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
});

test('ratedShipment splits surcharges exactly even for a hand-made quote', () => {
  const q: ServiceQuote = {
    serviceCode: '03',
    serviceName: 'UPS Ground',
    zone: 4,
    billableWeightLbs: 3,
    publishedCents: 100 + 200 + 300 + 1001 + 97,
    negotiatedCents: 1000,
    residentialSurchargeCents: 1001,
    fuelSurchargeCents: 97,
    businessDaysInTransit: 3,
    perPackage: [
      { billableWeightLbs: 1, baseCents: 100 },
      { billableWeightLbs: 1, baseCents: 200 },
      { billableWeightLbs: 1, baseCents: 300 },
    ],
  };
  const pkgs = ratedShipment(q, { negotiated: false }).RatedPackage as Array<Record<string, unknown>>;
  assert.equal(
    pkgs.reduce((sum, p) => sum + cents(p.TotalCharges), 0),
    q.publishedCents,
  );
});

test('quotes are deterministic', () => {
  const make = () => shipment({ Package: [lbs('7.3'), lbs('0.4')] }, true);
  for (const code of shoppableServices(make())) {
    const a = quoteService(make(), code);
    const b = quoteService(make(), code);
    assert.deepEqual(a, b);
    assert.deepEqual(
      ratedShipment(a, { negotiated: true, timeInTransit: true }),
      ratedShipment(b, { negotiated: true, timeInTransit: true }),
    );
  }
});

test('ShipFrom overrides the Shipper postal code for the zone', () => {
  const s = shipment({ ShipFrom: { Address: { PostalCode: '10002' } } });
  assert.equal(quoteService(s, '03').zone, 2);
  assert.equal(quoteService(shipment(), '03').zone, 7);
});

test('invalid service codes and postal codes throw the messages the server maps', () => {
  for (const code of ['99', '', '93', 'XX']) {
    assert.throws(() => quoteService(shipment(), code), { message: `Invalid service code ${code}` });
  }
  // Services not offered on the lane are invalid too.
  assert.throws(() => quoteService(shipment(), '07'), { message: 'Invalid service code 07' });
  assert.throws(() => quoteService(international(), '03'), { message: 'Invalid service code 03' });

  const badTo = shipment({ ShipTo: { Address: { PostalCode: '1234', CountryCode: 'US' } } });
  assert.throws(() => quoteService(badTo, '03'), { message: 'Invalid postal code 1234' });
  const badFrom = shipment({ Shipper: { Address: { PostalCode: '7874A', CountryCode: 'US' } } });
  assert.throws(() => quoteService(badFrom, '03'), { message: 'Invalid postal code 7874A' });
  const noTo = shipment({ ShipTo: { Address: { CountryCode: 'US' } } });
  assert.throws(() => quoteService(noTo, '03'), /^Error: Invalid postal code/);
  // A US origin ZIP is still checked on an international lane; foreign postal codes are not.
  const badIntl = shipment({
    Shipper: { Address: { PostalCode: '787', CountryCode: 'US' } },
    ShipTo: { Address: { PostalCode: 'anything', CountryCode: 'DE' } },
  });
  assert.throws(() => quoteService(badIntl, '07'), { message: 'Invalid postal code 787' });
  assert.throws(() => quoteService(shipment({ Package: [] }), '03'), /at least one package/);
});
