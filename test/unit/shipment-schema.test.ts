/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- test fixtures mutate untyped request objects on purpose */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ShipmentSchema,
  ShipperSchema,
  SERVICE_CODES,
  PACKAGING_CODES,
  serviceName,
} from '../../domain/shipment-schema';
import { zodIssuesToRowErrors, type RowError } from '../../domain/row-error';
import { newReferenceKey, rowReference } from '../../domain/reference';
import { parseCents } from '../../domain/money';

const shipper = {
  Name: 'Acme Widgets Inc',
  ShipperNumber: 'A1B2C3',
  Address: {
    AddressLine: ['1 Main St'],
    City: 'Austin',
    StateProvinceCode: 'TX',
    PostalCode: '78744',
    CountryCode: 'US',
  },
};

function shipment(over: (s: Record<string, any>) => void = () => {}): Record<string, any> {
  const s: Record<string, any> = {
    Shipper: structuredClone(shipper),
    ShipTo: {
      Name: 'Jane Doe',
      Phone: { Number: '5125550100' },
      Address: {
        AddressLine: ['12 Oak Ave'],
        City: 'Denver',
        StateProvinceCode: 'CO',
        PostalCode: '80202',
        CountryCode: 'US',
      },
    },
    PaymentInformation: { ShipmentCharge: [{ Type: '01', BillShipper: { AccountNumber: 'A1B2C3' } }] },
    Service: { Code: '03' },
    Package: [
      { Packaging: { Code: '02' }, PackageWeight: { UnitOfMeasurement: { Code: 'LBS' }, Weight: '2.5' } },
    ],
  };
  over(s);
  return s;
}

function errors(s: unknown): RowError[] {
  const r = ShipmentSchema.safeParse(s);
  return r.success ? [] : zodIssuesToRowErrors(r.error.issues, 1, s);
}
function one(s: unknown, path: string, code: string): void {
  const e = errors(s);
  assert.equal(e.length, 1, JSON.stringify(e));
  assert.equal(e[0]!.path, path);
  assert.equal(e[0]!.code, code);
}

test('a valid shipment passes', () => assert.deepEqual(errors(shipment()), []));
test('Name ≤35', () =>
  one(
    shipment((s) => (s.ShipTo.Name = 'x'.repeat(36))),
    'ShipTo.Name',
    'E-1002',
  ));
test('missing Name → E-1001', () =>
  one(
    shipment((s) => delete s.ShipTo.Name),
    'ShipTo.Name',
    'E-1001',
  ));
test('AttentionName ≤35', () =>
  one(
    shipment((s) => (s.ShipTo.AttentionName = 'y'.repeat(36))),
    'ShipTo.AttentionName',
    'E-1002',
  ));
test('address line ≤35 → E-2005', () =>
  one(
    shipment((s) => (s.ShipTo.Address.AddressLine = ['a'.repeat(40)])),
    'ShipTo.Address.AddressLine[0]',
    'E-2005',
  ));
test('1–3 address lines', () => {
  one(
    shipment((s) => (s.ShipTo.Address.AddressLine = [])),
    'ShipTo.Address.AddressLine',
    'E-2005',
  );
  one(
    shipment((s) => (s.ShipTo.Address.AddressLine = ['a', 'b', 'c', 'd'])),
    'ShipTo.Address.AddressLine',
    'E-2005',
  );
});
test('City ≤30 and required', () => {
  one(
    shipment((s) => (s.ShipTo.Address.City = 'c'.repeat(31))),
    'ShipTo.Address.City',
    'E-1002',
  );
  one(
    shipment((s) => (s.ShipTo.Address.City = '')),
    'ShipTo.Address.City',
    'E-1001',
  );
});
test('CountryCode 2 letters', () =>
  one(
    shipment((s) => (s.ShipTo.Address.CountryCode = 'USA')),
    'ShipTo.Address.CountryCode',
    'E-1002',
  ));
test('state and postal code required for US/CA/PR, not elsewhere', () => {
  one(
    shipment((s) => delete s.ShipTo.Address.StateProvinceCode),
    'ShipTo.Address.StateProvinceCode',
    'E-1001',
  );
  one(
    shipment((s) => delete s.ShipTo.Address.PostalCode),
    'ShipTo.Address.PostalCode',
    'E-1001',
  );
  one(
    shipment((s) => (s.ShipTo.Address.StateProvinceCode = 'Colorado')),
    'ShipTo.Address.StateProvinceCode',
    'E-2002',
  );
  assert.deepEqual(
    errors(
      shipment((s) => (s.ShipTo.Address = { AddressLine: ['1 Rue X'], City: 'Paris', CountryCode: 'FR' })),
    ),
    [],
  );
});
test('US ZIP 5 or 9 digits (dash optional)', () => {
  for (const z of ['80202', '80202-1234', '802021234'])
    assert.deepEqual(errors(shipment((s) => (s.ShipTo.Address.PostalCode = z))), []);
  for (const z of ['8020', '80202-12', 'ABCDE'])
    one(
      shipment((s) => (s.ShipTo.Address.PostalCode = z)),
      'ShipTo.Address.PostalCode',
      'E-2001',
    );
});
test('CA postal code A9A 9A9', () => {
  const ca = (pc: string) =>
    shipment(
      (s) =>
        (s.ShipTo.Address = {
          AddressLine: ['1 Rue'],
          City: 'Montreal',
          StateProvinceCode: 'QC',
          PostalCode: pc,
          CountryCode: 'CA',
        }),
    );
  assert.deepEqual(errors(ca('H2X 1Y4')), []);
  one(ca('12345'), 'ShipTo.Address.PostalCode', 'E-2001');
});
test('known service and packaging codes, with names', () => {
  one(
    shipment((s) => (s.Service.Code = '99')),
    'Service.Code',
    'E-2006',
  );
  one(
    shipment((s) => (s.Package[0].Packaging.Code = '77')),
    'Package[0].Packaging.Code',
    'E-2007',
  );
  assert.equal(SERVICE_CODES['03'], 'UPS Ground');
  assert.equal(serviceName('01'), 'UPS Next Day Air');
  assert.equal(PACKAGING_CODES['02'], 'Customer Supplied Package');
});
test('1–200 packages', () => {
  one(
    shipment((s) => (s.Package = [])),
    'Package',
    'E-2008',
  );
  one(
    shipment((s) => (s.Package = Array.from({ length: 201 }, () => s.Package[0]))),
    'Package',
    'E-2008',
  );
});
test('weight > 0, ≤150 LBS, ≤68 KGS', () => {
  const w = (v: string, u = 'LBS') =>
    shipment((s) => (s.Package[0].PackageWeight = { UnitOfMeasurement: { Code: u }, Weight: v }));
  one(w('0'), 'Package[0].PackageWeight.Weight', 'E-2004');
  one(w('150.1'), 'Package[0].PackageWeight.Weight', 'E-2004');
  assert.deepEqual(errors(w('150')), []);
  one(w('69', 'KGS'), 'Package[0].PackageWeight.Weight', 'E-2004');
  assert.deepEqual(errors(w('68', 'KGS')), []);
});
test('phone ≤15', () =>
  one(
    shipment((s) => (s.ShipTo.Phone.Number = '1'.repeat(16))),
    'ShipTo.Phone.Number',
    'E-2003',
  ));
test('ShipperNumber 6 chars', () => {
  assert.equal(ShipperSchema.safeParse(shipper).success, true);
  one(
    shipment((s) => (s.Shipper.ShipperNumber = '12345')),
    'Shipper.ShipperNumber',
    'E-1002',
  );
});
test('a row with many problems reports all of them', () => {
  const e = errors(
    shipment((s) => {
      s.ShipTo.Name = 'x'.repeat(40);
      s.ShipTo.Address.City = '';
      s.ShipTo.Address.PostalCode = '12';
      s.Service.Code = 'zz';
      s.Package[0].PackageWeight.Weight = '500';
    }),
  );
  assert.deepEqual(e.map((x) => `${x.code} ${x.path}`).sort(), [
    'E-1001 ShipTo.Address.City',
    'E-1002 ShipTo.Name',
    'E-2001 ShipTo.Address.PostalCode',
    'E-2004 Package[0].PackageWeight.Weight',
    'E-2006 Service.Code',
  ]);
  const zip = e.find((x) => x.code === 'E-2001')!;
  assert.equal(zip.value, '12');
  assert.match(zip.message, /ZIP/);
});
test('row reference: ≤35 chars, the batch name readable, unique per batch whatever the ids', () => {
  const key = newReferenceKey('batch-spring', () => 0.5);
  assert.equal(key, 'spring-iiiiiiii');
  assert.equal(rowReference(key, 42), 'SBspring-iiiiiiii-42');
  const long = rowReference(newReferenceKey(`batch-${'z'.repeat(60)}`, Math.random), 999_999_999);
  assert.ok(long.length <= 35, long);
  assert.ok(long.endsWith('-999999999'));
  // Ids that reduce to the same letters, or differ only at the start, still get distinct keys.
  const keys = new Set<string>();
  for (const id of ['batch-spring_sale', 'batch-spring-sale', 'batch-springsale'])
    keys.add(newReferenceKey(id, Math.random));
  for (let i = 0; i < 100; i++)
    keys.add(newReferenceKey(`batch-${i}-daily-shipments-${'x'.repeat(40)}`, Math.random));
  assert.equal(keys.size, 103);
  assert.throws(() => rowReference('bad key!', 1), /invalid reference key/);
  assert.throws(() => rowReference(key, 1_000_000_000), /invalid row number/);
});
test('money parsing from UPS strings (domain/money)', () => {
  assert.equal(parseCents('123.45'), 12345);
  assert.equal(parseCents('0.1'), 10);
});
