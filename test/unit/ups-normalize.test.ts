import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  normalizeAddressValidation,
  normalizeLabelRecoveryResponse,
  normalizeRateResponse,
  normalizeShipmentResponse,
  normalizeTrackResponse,
  normalizeVoidResponse,
  UpsResponseError,
} from '../../activities/ups/normalize';

type Obj = Record<string, unknown>;

const GIF_BYTES = Buffer.from([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0xff]);
const ZPL_TEXT = '^XA^FO50,50^A0N,50,50^FDShipbatch^FS^XZ';
const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64');
const money = (value: string, currency = 'USD') => ({ CurrencyCode: currency, MonetaryValue: value });

function packageResult(tracking: string, format = 'GIF', image: Buffer | string = GIF_BYTES): Obj {
  return {
    TrackingNumber: tracking,
    ServiceOptionsCharges: money('0.00'),
    ShippingLabel: { ImageFormat: { Code: format, Description: format }, GraphicImage: b64(image) },
  };
}

/** A ShipmentResponse shaped like UPS (and the sandbox) answer. */
function shipmentResponse(results: Obj = {}): Obj {
  return {
    ShipmentResponse: {
      Response: { ResponseStatus: { Code: '1', Description: 'Success' } },
      ShipmentResults: {
        ShipmentCharges: {
          TransportationCharges: money('123.45'),
          ServiceOptionsCharges: money('0.00'),
          TotalCharges: money('123.45'),
        },
        BillingWeight: { UnitOfMeasurement: { Code: 'LBS', Description: 'Pounds' }, Weight: '5.0' },
        ShipmentIdentificationNumber: '1Z129D9Y0312345678',
        PackageResults: packageResult('1Z129D9Y0312345678'),
        ...results,
      },
    },
  };
}

const totalCharges = (value: string, currency = 'USD'): Obj => ({
  ShipmentCharges: { TotalCharges: money(value, currency) },
});

test('normalizeShipmentResponse: charges become integer cents without float error', () => {
  for (const [value, cents] of [
    ['123.45', 12345],
    ['0.01', 1],
    ['1000000.10', 100000010],
    ['0.07', 7],
    ['19.99', 1999],
    ['7', 700],
  ] as const) {
    const r = normalizeShipmentResponse(shipmentResponse(totalCharges(value)));
    assert.equal(r.publishedCents, cents, value);
    assert.equal(r.totalCents, cents, value);
    assert.ok(Number.isInteger(r.totalCents));
    assert.equal(r.negotiatedCents, undefined);
  }
});

test('normalizeShipmentResponse: negotiated wins over published', () => {
  const r = normalizeShipmentResponse(
    shipmentResponse({ NegotiatedRateCharges: { TotalCharge: money('98.76') } }),
  );
  assert.equal(r.totalCents, 9876);
  assert.equal(r.negotiatedCents, 9876);
  assert.equal(r.publishedCents, 12345);
  assert.equal(r.currency, 'USD');

  const cad = normalizeShipmentResponse(
    shipmentResponse({
      ...totalCharges('50.00', 'CAD'),
      NegotiatedRateCharges: { TotalCharge: money('40.10', 'CAD') },
    }),
  );
  assert.deepEqual([cad.totalCents, cad.publishedCents, cad.currency], [4010, 5000, 'CAD']);
});

test('normalizeShipmentResponse: no negotiated rates → published, currency from TotalCharges', () => {
  const r = normalizeShipmentResponse(shipmentResponse(totalCharges('10.50', 'EUR')));
  assert.deepEqual(
    {
      totalCents: r.totalCents,
      publishedCents: r.publishedCents,
      negotiatedCents: r.negotiatedCents,
      currency: r.currency,
    },
    { totalCents: 1050, publishedCents: 1050, negotiatedCents: undefined, currency: 'EUR' },
  );
  // NegotiatedRateCharges without a TotalCharge is not a negotiated rate.
  const empty = normalizeShipmentResponse(shipmentResponse({ NegotiatedRateCharges: {} }));
  assert.equal(empty.totalCents, 12345);
  assert.equal(empty.negotiatedCents, undefined);
  // A missing CurrencyCode defaults to USD.
  const noCurrency = normalizeShipmentResponse(
    shipmentResponse({ ShipmentCharges: { TotalCharges: { MonetaryValue: '1.00' } } }),
  );
  assert.equal(noCurrency.currency, 'USD');
});

test('normalizeShipmentResponse: a missing total charge throws and names the field', () => {
  assert.throws(
    () => normalizeShipmentResponse(shipmentResponse({ ShipmentCharges: {} })),
    (err: unknown) => err instanceof UpsResponseError && /ShipmentCharges\.TotalCharges/.test(err.message),
  );
  assert.throws(
    () => normalizeShipmentResponse(shipmentResponse({ ShipmentCharges: undefined })),
    /ShipmentCharges\.TotalCharges/,
  );
  assert.throws(
    () => normalizeShipmentResponse(shipmentResponse({ NegotiatedRateCharges: { TotalCharge: 'n/a' } })),
    /NegotiatedRateCharges\.TotalCharge/,
  );
  // TotalCharges present without MonetaryValue: the error names the field.
  assert.throws(
    () =>
      normalizeShipmentResponse(
        shipmentResponse({ ShipmentCharges: { TotalCharges: { CurrencyCode: 'USD' } } }),
      ),
    /TotalCharges/,
  );
});

test('normalizeShipmentResponse: PackageResults as a bare object (one package)', () => {
  const r = normalizeShipmentResponse(shipmentResponse());
  assert.equal(r.shipmentId, '1Z129D9Y0312345678');
  assert.deepEqual(r.trackingNumbers, ['1Z129D9Y0312345678']);
  assert.equal(r.labels.length, 1);
  const label = r.labels[0]!;
  assert.equal(label.trackingNumber, '1Z129D9Y0312345678');
  assert.equal(label.format, 'GIF');
  assert.ok(Buffer.isBuffer(label.image));
  assert.deepEqual(label.image, GIF_BYTES);
});

test('normalizeShipmentResponse: PackageResults as a list, labels decoded with their format', () => {
  const r = normalizeShipmentResponse(
    shipmentResponse({
      ShipmentIdentificationNumber: '1Z129D9Y0300000011',
      PackageResults: [
        packageResult('1Z129D9Y0300000011', 'ZPL', ZPL_TEXT),
        packageResult('1Z129D9Y0300000022', 'ZPL', ZPL_TEXT),
        packageResult('1Z129D9Y0300000033', 'zpl', ZPL_TEXT),
      ],
    }),
  );
  assert.equal(r.shipmentId, '1Z129D9Y0300000011');
  assert.deepEqual(r.trackingNumbers, ['1Z129D9Y0300000011', '1Z129D9Y0300000022', '1Z129D9Y0300000033']);
  for (const label of r.labels) {
    assert.equal(label.format, 'ZPL');
    assert.equal(label.image.toString('utf8'), ZPL_TEXT);
  }
  // Unknown or missing formats fall back to GIF; PNG/PDF are kept.
  const formats = normalizeShipmentResponse(
    shipmentResponse({
      PackageResults: [
        packageResult('1Z1', 'PNG'),
        packageResult('1Z2', 'PDF'),
        packageResult('1Z3', 'EPL'),
        { TrackingNumber: '1Z4' },
      ],
    }),
  ).labels;
  assert.deepEqual(
    formats.map((l) => l.format),
    ['PNG', 'PDF', 'GIF', 'GIF'],
  );
  assert.equal(formats[3]!.image.length, 0);
});

test('normalizeShipmentResponse: shape errors name what is missing', () => {
  const cases: Array<[unknown, RegExp]> = [
    [undefined, /no ShipmentResponse/],
    [{ RateResponse: {} }, /no ShipmentResponse/],
    [{ ShipmentResponse: {} }, /no ShipmentResults/],
    [shipmentResponse({ ShipmentIdentificationNumber: '' }), /no ShipmentIdentificationNumber/],
    [shipmentResponse({ PackageResults: [] }), /no PackageResults/],
    [shipmentResponse({ PackageResults: undefined }), /no PackageResults/],
    [shipmentResponse({ PackageResults: [packageResult('1Z1'), {}] }), /no TrackingNumber in package 2/],
  ];
  for (const [body, message] of cases) {
    assert.throws(
      () => normalizeShipmentResponse(body),
      (err: unknown) => err instanceof UpsResponseError && message.test(err.message),
      String(message),
    );
  }
});

function ratedShipment(code: string, total: string, extra: Obj = {}): Obj {
  return {
    Service: { Code: code, Description: '' },
    BillingWeight: { UnitOfMeasurement: { Code: 'LBS', Description: 'Pounds' }, Weight: '5.0' },
    TransportationCharges: money(total),
    ServiceOptionsCharges: money('0.00'),
    TotalCharges: money(total),
    ...extra,
  };
}

test('normalizeRateResponse: RatedShipment as a bare object', () => {
  const quotes = normalizeRateResponse({
    RateResponse: {
      Response: { ResponseStatus: { Code: '1', Description: 'Success' } },
      RatedShipment: ratedShipment('03', '15.32', {
        NegotiatedRateCharges: { TotalCharge: money('12.04') },
        GuaranteedDelivery: { BusinessDaysInTransit: '3' },
        RatedShipmentAlert: {
          Code: '110971',
          Description: 'Your invoice may vary from the displayed reference rates',
        },
      }),
    },
  });
  assert.deepEqual(quotes, [
    {
      serviceCode: '03',
      totalCents: 1204,
      publishedCents: 1532,
      negotiatedCents: 1204,
      currency: 'USD',
      billingWeight: '5.0',
      businessDaysInTransit: 3,
      warnings: ['Your invoice may vary from the displayed reference rates'],
    },
  ]);
});

test('normalizeRateResponse: RatedShipment as a list (Shop), warnings from RatedShipmentAlert', () => {
  const quotes = normalizeRateResponse({
    RateResponse: {
      RatedShipment: [
        ratedShipment('03', '15.32', {
          RatedShipmentAlert: [
            { Code: '110971', Description: 'Your invoice may vary from the displayed reference rates' },
            { Code: '120900', Description: 'User Id and Shipper Number combination is not qualified' },
            { Code: '999999' },
          ],
        }),
        ratedShipment('01', '1000000.10'),
      ],
    },
  });
  assert.equal(quotes.length, 2);
  assert.deepEqual(quotes[0]!.warnings, [
    'Your invoice may vary from the displayed reference rates',
    'User Id and Shipper Number combination is not qualified',
    '999999',
  ]);
  assert.equal(quotes[0]!.totalCents, 1532);
  assert.equal(quotes[0]!.negotiatedCents, undefined);
  assert.equal(quotes[0]!.businessDaysInTransit, undefined);
  assert.deepEqual(
    [quotes[1]!.serviceCode, quotes[1]!.totalCents, quotes[1]!.warnings],
    ['01', 100000010, []],
  );
});

test('normalizeRateResponse: shape errors', () => {
  assert.throws(() => normalizeRateResponse({}), UpsResponseError);
  assert.throws(() => normalizeRateResponse({ RateResponse: {} }), /no RatedShipment/);
  assert.throws(() => normalizeRateResponse({ RateResponse: { RatedShipment: [] } }), /no RatedShipment/);
  assert.throws(
    () => normalizeRateResponse({ RateResponse: { RatedShipment: { Service: { Code: '03' } } } }),
    /RatedShipment\.TotalCharges/,
  );
});

test('normalizeLabelRecoveryResponse: LabelResults as a bare object', () => {
  const r = normalizeLabelRecoveryResponse({
    LabelRecoveryResponse: {
      Response: { ResponseStatus: { Code: '1', Description: 'Success' } },
      ShipmentIdentificationNumber: '1Z129D9Y0300000011',
      LabelResults: {
        TrackingNumber: '1Z129D9Y0300000011',
        LabelImage: {
          LabelImageFormat: { Code: 'GIF' },
          GraphicImage: b64(GIF_BYTES),
          HTMLImage: b64('<html/>'),
        },
      },
    },
  });
  assert.equal(r.shipmentId, '1Z129D9Y0300000011');
  assert.equal(r.labels.length, 1);
  assert.deepEqual(r.labels[0], { trackingNumber: '1Z129D9Y0300000011', format: 'GIF', image: GIF_BYTES });
});

test('normalizeLabelRecoveryResponse: LabelResults as a list; shipment id falls back to the first tracking number', () => {
  const r = normalizeLabelRecoveryResponse({
    LabelRecoveryResponse: {
      LabelResults: [
        {
          TrackingNumber: '1Z129D9Y0300000022',
          LabelImage: { LabelImageFormat: { Code: 'ZPL' }, GraphicImage: b64(ZPL_TEXT) },
        },
        {
          TrackingNumber: '1Z129D9Y0300000033',
          LabelImage: { LabelImageFormat: { Code: 'ZPL' }, GraphicImage: b64(ZPL_TEXT) },
        },
      ],
    },
  });
  assert.equal(r.shipmentId, '1Z129D9Y0300000022');
  assert.deepEqual(
    r.labels.map((l) => [l.trackingNumber, l.format, l.image.toString('utf8')]),
    [
      ['1Z129D9Y0300000022', 'ZPL', ZPL_TEXT],
      ['1Z129D9Y0300000033', 'ZPL', ZPL_TEXT],
    ],
  );
  assert.deepEqual(normalizeLabelRecoveryResponse({ LabelRecoveryResponse: {} }), {
    shipmentId: undefined,
    labels: [],
  });
  assert.throws(() => normalizeLabelRecoveryResponse({}), /no LabelRecoveryResponse/);
});

test('normalizeVoidResponse', () => {
  assert.deepEqual(
    normalizeVoidResponse({
      VoidShipmentResponse: {
        Response: { ResponseStatus: { Code: '1', Description: 'Success' } },
        SummaryResult: { Status: { Code: '1', Description: 'Voided' } },
      },
    }),
    { voided: true, status: 'Voided' },
  );
  assert.deepEqual(
    normalizeVoidResponse({
      VoidShipmentResponse: { SummaryResult: { Status: { Code: '0', Description: 'Not voided' } } },
    }),
    { voided: false, status: 'Not voided' },
  );
  assert.deepEqual(
    normalizeVoidResponse({ VoidShipmentResponse: { SummaryResult: { Status: { Code: '1' } } } }),
    { voided: true, status: '1' },
  );
  assert.throws(() => normalizeVoidResponse({ VoidShipmentResponse: {} }), /no SummaryResult/);
  assert.throws(() => normalizeVoidResponse({}), UpsResponseError);
});

const candidate = (extra: Obj = {}): Obj => ({
  AddressKeyFormat: {
    AddressLine: ['26601 ALISO CREEK RD'],
    PoliticalDivision2: 'ALISO VIEJO',
    PoliticalDivision1: 'CA',
    PostcodePrimaryLow: '92656',
    PostcodeExtendedLow: '4230',
    Region: 'ALISO VIEJO CA 92656-4230',
    CountryCode: 'US',
    ...extra,
  },
});

test('normalizeAddressValidation: valid address with classification', () => {
  const r = normalizeAddressValidation({
    XAVResponse: {
      Response: { ResponseStatus: { Code: '1', Description: 'Success' } },
      ValidAddressIndicator: '',
      AddressClassification: { Code: '1', Description: 'Commercial' },
      Candidate: candidate(),
    },
  });
  assert.deepEqual(r, {
    valid: true,
    ambiguous: false,
    classification: 'commercial',
    candidates: [
      {
        addressLines: ['26601 ALISO CREEK RD'],
        city: 'ALISO VIEJO',
        state: 'CA',
        postalCode: '92656-4230',
        countryCode: 'US',
      },
    ],
  });
});

test('normalizeAddressValidation: ambiguous with several candidates, residential', () => {
  const r = normalizeAddressValidation({
    XAVResponse: {
      AmbiguousAddressIndicator: '',
      AddressClassification: { Code: '2', Description: 'Residential' },
      Candidate: [candidate(), candidate({ AddressLine: '1 MAIN ST', PostcodeExtendedLow: undefined })],
    },
  });
  assert.equal(r.valid, false);
  assert.equal(r.ambiguous, true);
  assert.equal(r.classification, 'residential');
  assert.equal(r.candidates.length, 2);
  assert.deepEqual(r.candidates[1]!.addressLines, ['1 MAIN ST']);
  assert.equal(r.candidates[1]!.postalCode, '92656');
});

test('normalizeAddressValidation: no candidates, unknown classification', () => {
  const r = normalizeAddressValidation({
    XAVResponse: {
      Response: { ResponseStatus: { Code: '1', Description: 'Success' } },
      NoCandidatesIndicator: '',
    },
  });
  assert.deepEqual(r, { valid: false, ambiguous: false, classification: 'unknown', candidates: [] });
  const zero = normalizeAddressValidation({
    XAVResponse: { ValidAddressIndicator: '', AddressClassification: { Code: '0', Description: 'Unknown' } },
  });
  assert.equal(zero.classification, 'unknown');
  assert.equal(zero.valid, true);
  assert.throws(() => normalizeAddressValidation({ XAVRequest: {} }), /no XAVResponse/);
});

test('normalizeTrackResponse', () => {
  const body = {
    trackResponse: {
      shipment: [
        {
          inquiryNumber: '1Z12345E0205271688',
          package: [
            {
              trackingNumber: '1Z12345E0205271688',
              currentStatus: { description: 'Delivered', code: '011' },
              activity: [],
            },
          ],
        },
      ],
    },
  };
  assert.deepEqual(normalizeTrackResponse(body), {
    trackingNumber: '1Z12345E0205271688',
    status: 'Delivered',
    statusCode: '011',
  });
  // Bare objects instead of lists, and no currentStatus.
  assert.deepEqual(
    normalizeTrackResponse({ trackResponse: { shipment: { package: { trackingNumber: '1Z9' } } } }),
    { trackingNumber: '1Z9', status: '', statusCode: undefined },
  );
  assert.throws(
    () =>
      normalizeTrackResponse({
        trackResponse: {
          shipment: [{ warnings: [{ code: 'TW0001', message: 'Tracking Information Not Found' }] }],
        },
      }),
    (err: unknown) =>
      err instanceof UpsResponseError && err.message.includes('trackResponse.shipment[0].package[0]'),
  );
  assert.throws(() => normalizeTrackResponse({}), /no trackResponse/);
});
