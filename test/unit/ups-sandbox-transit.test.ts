/**
 * The sandbox's get_time_in_transit: the real tool's arguments and their errors (the only checks the
 * real server makes before UPS), UPS's answers (errors, validationList, emsResponse) and their agreement
 * with the Shop answer for the same lane. Through the in-process MCP server where the wording of a
 * failure matters, directly (with a fixed clock) where dates do.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { readCallLog } from '../../ups-sandbox/call-log';
import { ToolFailure } from '../../ups-sandbox/errors';
import { KnobSource } from '../../ups-sandbox/knobs';
import { transitServiceLevel } from '../../ups-sandbox/services';
import { ShipmentStore } from '../../ups-sandbox/store';
import { TOOLS } from '../../ups-sandbox/tools';
import { inProcessSandbox } from '../helpers/ups-sandbox';
import * as ups from '../../ups-sandbox/ups';

type Obj = Record<string, unknown>;
const TOOL = 'get_time_in_transit';
const PREFIX = `Error executing tool ${TOOL}: `;

/** Friday 4 December 2026, 15:00 UTC. */
const FRIDAY = new Date('2026-12-04T15:00:00Z');

/** The in-process sandbox, calling get_time_in_transit. */
async function sandbox(t: TestContext, knobs: Obj = {}) {
  const sbx = await inProcessSandbox(t, knobs);
  return {
    dir: sbx.dir,
    call: (args: unknown) => sbx.call(TOOL, args),
    setKnobs: (k: Obj) => sbx.setKnobs(k),
  };
}

const textOf = (r: CallToolResult): string =>
  r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

/** The text after the real server's error prefix. */
function failure(r: CallToolResult): string {
  assert.equal(r.isError, true, `expected a failure, got ${textOf(r).slice(0, 300)}`);
  const t = textOf(r);
  assert.ok(t.startsWith(PREFIX), t.slice(0, 200));
  return t.slice(PREFIX.length);
}

/** A UPS 400 as the real server reports a Time in Transit error: the UPS code only in details.errors. */
function upsError(r: CallToolResult): { code: string; message: string } {
  const payload = JSON.parse(failure(r)) as Obj;
  assert.equal(payload.status_code, 400);
  assert.equal(payload.code, '400');
  assert.equal(payload.message, 'UPS API returned HTTP 400');
  const errors = (payload.details as { errors: { code: string; message: string }[] }).errors;
  assert.equal(errors.length, 1);
  return errors[0]!;
}

/** A complete domestic request: New York → Los Angeles. */
function domestic(over: Obj = {}): Obj {
  return {
    originCountryCode: 'US',
    originPostalCode: '10005',
    destinationCountryCode: 'US',
    destinationPostalCode: '90001',
    weight: '5.0',
    weightUnitOfMeasure: 'LBS',
    shipDate: '2026-12-04',
    shipTime: '10:00:00',
    numberOfPackages: '1',
    ...over,
  };
}

/** A complete international request: New York → London. */
function international(over: Obj = {}): Obj {
  return {
    originCountryCode: 'US',
    originPostalCode: '10005',
    destinationCountryCode: 'GB',
    destinationPostalCode: 'SW1A 1AA',
    weight: 3,
    weightUnitOfMeasure: 'KGS',
    billType: '03',
    shipmentContentsValue: '100',
    shipmentContentsCurrencyCode: 'USD',
    shipDate: '2026-12-04',
    shipTime: '10:00:00',
    ...over,
  };
}

function context(knobs: Obj = {}, now = FRIDAY): ups.UpsContext {
  const source = new KnobSource({ UPS_SANDBOX_KNOBS: JSON.stringify(knobs) });
  return { store: undefined as unknown as ShipmentStore, knobs: () => source.current(), now: () => now };
}

interface Service {
  serviceLevel: string;
  serviceLevelDescription: string;
  shipDate: string;
  deliveryDate: string;
  deliveryDayOfWeek: string;
  businessTransitDays: number;
  totalTransitDays: number;
  restDaysCount: number;
  guaranteeIndicator: string;
  pickupDate: string;
  [key: string]: unknown;
}
interface Ems {
  services: Service[];
  numberOfServices: number;
  [key: string]: unknown;
}

/** The emsResponse of a direct call (failing the test on anything else). */
function ems(body: Obj, ctx = context()): Ems {
  const answer = ups.getTimeInTransit(ctx, { request_body: body });
  assert.deepEqual(Object.keys(answer), ['emsResponse'], JSON.stringify(answer));
  return answer.emsResponse as Ems;
}

/** The UPS error of a direct call. */
function directError(body: unknown, ctx = context()): { code: string; message: string } {
  try {
    ups.getTimeInTransit(ctx, { request_body: body });
  } catch (err) {
    assert.ok(err instanceof ToolFailure, String(err));
    const p = err.payload as Obj;
    assert.equal(p.message, 'UPS API returned HTTP 400');
    return (p.details as { errors: { code: string; message: string }[] }).errors[0]!;
  }
  assert.fail(`expected a UPS error for ${JSON.stringify(body).slice(0, 200)}`);
}

// --- the tool and its arguments (what the real server checks before UPS) ---

test('listed with the real arguments: request_body required, version "v1", trans_id, transaction_src', () => {
  const tool = TOOLS.find((t) => t.name === TOOL);
  assert.ok(tool);
  assert.deepEqual(tool.inputSchema, {
    type: 'object',
    properties: {
      request_body: { additionalProperties: true, type: 'object', title: 'Request Body' },
      version: { type: 'string', default: 'v1', title: 'Version' },
      trans_id: { type: 'string', default: '', title: 'Trans Id' },
      transaction_src: { type: 'string', default: 'ups-mcp', title: 'Transaction Src' },
    },
    required: ['request_body'],
    title: 'get_time_in_transitArguments',
  });
  assert.match(tool.description ?? '', /POST \/shipments\/\{version\}\/transittimes/);
});

test('argument errors are pydantic texts, the same as the real server returns before calling UPS', async (t) => {
  const sbx = await sandbox(t);
  assert.equal(
    failure(await sbx.call({})),
    '1 validation error for get_time_in_transitArguments\nrequest_body\n' +
      '  Field required [type=missing, input_value={}, input_type=dict]\n' +
      '    For further information visit https://errors.pydantic.dev/2.14/v/missing',
  );
  // The body's fields given as arguments of their own: ignored, and request_body is missing.
  const flat = failure(await sbx.call({ originCountryCode: 'US', destinationCountryCode: 'US' }));
  assert.match(
    flat,
    /^1 validation error for get_time_in_transitArguments\nrequest_body\n {2}Field required/,
  );
  assert.match(
    flat,
    /input_value=\{'originCountryCode': 'US\.\.\.ationCountryCode': 'US'\}, input_type=dict/,
  );

  for (const [body, shown, type] of [
    ['not json', "'not json'", 'str'],
    ['[1, 2]', '[1, 2]', 'list'],
    [5, '5', 'int'],
    [null, 'None', 'NoneType'],
    [[{ originCountryCode: 'US' }], "[{'originCountryCode': 'US'}]", 'list'],
    [true, 'True', 'bool'],
  ] as const) {
    assert.equal(
      failure(await sbx.call({ request_body: body })),
      '1 validation error for get_time_in_transitArguments\nrequest_body\n' +
        `  Input should be a valid dictionary [type=dict_type, input_value=${shown}, input_type=${type}]\n` +
        '    For further information visit https://errors.pydantic.dev/2.14/v/dict_type',
      JSON.stringify(body),
    );
  }
  const two = failure(await sbx.call({ version: 1, trans_id: ['x'] }));
  assert.match(two, /^3 validation errors for get_time_in_transitArguments\n/);
  assert.deepEqual(
    [...two.matchAll(/^(\w+)\n {2}[^\n]*\[type=(\w+)/gm)].map((m) => `${m[1]} ${m[2]}`),
    ['request_body missing', 'version string_type', 'trans_id string_type'],
  );
  assert.match(
    failure(await sbx.call({ request_body: domestic(), transaction_src: null })),
    /^1 validation error[^\n]*\ntransaction_src\n {2}Input should be a valid string \[type=string_type, input_value=None/,
  );
});

test('a huge request_body text is refused with pydantic’s cut repr, and the server still answers', async (t) => {
  const sbx = await sandbox(t);
  const huge = 'A'.repeat(2_000_000);
  const text = failure(await sbx.call({ request_body: huge }));
  assert.match(text, /input_value='AAAAAAAAAAAAAAAAAAAAAAAA\.\.\.AAAAAAAAAAAAAAAAAAAAAAA', input_type=str/);
  assert.ok(text.length < 400, `the error stays short (${text.length} characters)`);
  const ok = await sbx.call({ request_body: domestic({ shipDate: undefined, shipTime: undefined }) });
  assert.equal(ok.isError, undefined, textOf(ok).slice(0, 300));
});

test('request_body as a JSON text is parsed, as pydantic does; unknown arguments are ignored', async (t) => {
  const sbx = await sandbox(t);
  const body = domestic({ shipDate: undefined, shipTime: undefined });
  const result = await sbx.call({
    request_body: JSON.stringify(body),
    version: 'v1',
    idempotency_key: 'k',
    response_format: 5,
  });
  assert.equal(result.isError, undefined, textOf(result).slice(0, 300));
  const answer = result.structuredContent as { emsResponse: Ems };
  assert.equal(answer.emsResponse.numberOfServices, answer.emsResponse.services.length);
  assert.deepEqual(JSON.parse(textOf(result)), answer, 'the text is the same body as structuredContent');
});

// --- UPS's errors ---

test('UPS 400s: missing and invalid fields, with the UPS code only in details.errors', async (t) => {
  const sbx = await sandbox(t);
  assert.deepEqual(upsError(await sbx.call({ request_body: {} })), {
    code: '20007',
    message: 'Missing Required field, originCountryCode.',
  });
  assert.deepEqual(upsError(await sbx.call({ request_body: { originCountryCode: 'US' } })), {
    code: '20007',
    message: 'Missing Required field, destinationCountryCode.',
  });
  const cases: Array<[Obj, string, string]> = [
    [domestic({ originPostalCode: undefined }), '20007', 'Missing Required field, originPostalCode.'],
    [domestic({ destinationPostalCode: '' }), '20007', 'Missing Required field, destinationPostalCode.'],
    [domestic({ weightUnitOfMeasure: undefined }), '20007', 'Missing Required field, weightUnitOfMeasure.'],
    [international({ weight: undefined }), '20007', 'Missing Required field, weight.'],
    [international({ billType: undefined }), '20007', 'Missing Required field, billType.'],
    [
      international({ shipmentContentsValue: null }),
      '20007',
      'Missing Required field, shipmentContentsValue.',
    ],
    [
      international({ shipmentContentsCurrencyCode: ' ' }),
      '20007',
      'Missing Required field, shipmentContentsCurrencyCode.',
    ],
    [
      domestic({ originCountryCode: 'USA' }),
      '20008',
      'The field, originCountryCode, contains invalid data, USA.',
    ],
    [
      domestic({ originCountryCode: 'U' }),
      '20008',
      'The field, originCountryCode, contains invalid data, U.',
    ],
    [
      domestic({ destinationCountryCode: '1A' }),
      '20008',
      'The field, destinationCountryCode, contains invalid data, 1A.',
    ],
    [domestic({ weight: 'heavy' }), '20008', 'The field, weight, contains invalid data, heavy.'],
    [domestic({ weight: 0 }), '20008', 'The field, weight, contains invalid data, 0.'],
    [domestic({ weight: '150.1' }), '20008', 'The field, weight, contains invalid data, 150.1.'],
    [
      domestic({ weight: 70.1, weightUnitOfMeasure: 'KGS' }),
      '20008',
      'The field, weight, contains invalid data, 70.1.',
    ],
    [
      domestic({ weightUnitOfMeasure: 'OZS' }),
      '20008',
      'The field, weightUnitOfMeasure, contains invalid data, OZS.',
    ],
    [domestic({ weight: { value: 5 } }), '20008', 'The field, weight, contains invalid data, {...}.'],
    [
      domestic({ originPostalCode: ['10005'] }),
      '20008',
      'The field, originPostalCode, contains invalid data, [...].',
    ],
    [
      domestic({ shipDate: '04/12/2026' }),
      '20008',
      'The field, shipDate, contains invalid data, 04/12/2026.',
    ],
    [
      domestic({ shipDate: '2026-02-30' }),
      '20008',
      'The field, shipDate, contains invalid data, 2026-02-30.',
    ],
    [domestic({ shipTime: '25:00:00' }), '20008', 'The field, shipTime, contains invalid data, 25:00:00.'],
    [
      domestic({ residentialIndicator: '03' }),
      '20008',
      'The field, residentialIndicator, contains invalid data, 03.',
    ],
    [international({ billType: '05' }), '20008', 'The field, billType, contains invalid data, 05.'],
    [domestic({ numberOfPackages: 0 }), '20008', 'The field, numberOfPackages, contains invalid data, 0.'],
    [
      domestic({ numberOfPackages: '1.5' }),
      '20008',
      'The field, numberOfPackages, contains invalid data, 1.5.',
    ],
    [domestic({ avvFlag: 'yes' }), '20008', 'The field, avvFlag, contains invalid data, yes.'],
    [
      domestic({ returnUnfilterdServices: 1 }),
      '20008',
      'The field, returnUnfilterdServices, contains invalid data, 1.',
    ],
  ];
  // Directly, with the fixed clock (the requests carry a ship date).
  for (const [body, code, message] of cases) {
    assert.deepEqual(directError(body), { code, message }, JSON.stringify(body));
  }
});

test('ship dates: at most 35 days back and 60 ahead of today', () => {
  const ctx = context();
  assert.equal(ems(domestic({ shipDate: '2026-10-30' }), ctx).services[0]!.shipDate, '2026-10-30');
  assert.equal(ems(domestic({ shipDate: '2027-02-02' }), ctx).services[0]!.shipDate, '2027-02-02');
  for (const date of ['2026-10-29', '2027-02-03', '1970-01-01', '9999-12-31']) {
    assert.deepEqual(directError(domestic({ shipDate: date }), ctx), {
      code: '20008',
      message: `The field, shipDate, contains invalid data, ${date}.`,
    });
  }
  // No date or time: today, now.
  const answer = ems(domestic({ shipDate: undefined, shipTime: '' }), ctx);
  assert.equal(answer.shipDate, '2026-12-04');
  assert.equal(answer.shipTime, '15:00:00');
});

test('an unknown country or postal code is a 200 with a validationList and no times', () => {
  const cases: Array<[Obj, string[]]> = [
    [international({ destinationCountryCode: 'ZZ' }), ['destinationCountryCode']],
    [
      international({ originCountryCode: 'QQ', destinationCountryCode: 'US', destinationPostalCode: '9000' }),
      ['originCountryCode', 'destinationPostalCode'],
    ],
    [domestic({ destinationCountryCode: 'PR', destinationPostalCode: '0090' }), ['destinationPostalCode']],
    [domestic({ originPostalCode: 'ABCDE' }), ['originPostalCode']],
    [international({ originPostalCode: '1000' }), ['originPostalCode']],
    [international({ destinationCountryCode: 'eu' }), ['destinationCountryCode']],
  ];
  for (const [body, fields] of cases) {
    assert.deepEqual(
      ups.getTimeInTransit(context(), { request_body: body }),
      { validationList: { invalidFieldList: fields, destinationAmbiguous: false, originAmbiguous: false } },
      JSON.stringify(body),
    );
  }
  // The knob that makes postal codes unknown to rating and address validation does so here too.
  assert.deepEqual(
    ups.getTimeInTransit(context({ rejectPostalCodes: ['90001'] }), { request_body: domestic() }),
    {
      validationList: {
        invalidFieldList: ['destinationPostalCode'],
        destinationAmbiguous: false,
        originAmbiguous: false,
      },
    },
  );
});

// --- the answer ---

/** Required properties of emsResponse and of a service (UPS's TimeInTransit schema). */
const EMS_REQUIRED = [
  'shipDate',
  'shipTime',
  'billType',
  'residentialIndicator',
  'destinationCountryName',
  'destinationCountryCode',
  'originCountryName',
  'originCountryCode',
  'guaranteeSuspended',
  'numberOfServices',
];
const SERVICE_REQUIRED = [
  'serviceLevel',
  'serviceLevelDescription',
  'shipDate',
  'deliveryDate',
  'commitTime',
  'deliveryTime',
  'deliveryDayOfWeek',
  'nextDayPickupIndicator',
  'saturdayPickupIndicator',
  'saturdayDeliveryIndicator',
  'guaranteeIndicator',
  'totalTransitDays',
  'businessTransitDays',
  'restDaysCount',
  'holidayCount',
  'delayCount',
  'pickupDate',
  'pickupTime',
  'cstccutoffTime',
];

test('emsResponse: the request echoed in UPS form and one entry per service with every required field', () => {
  const answer = ems(
    domestic({ originCityName: 'new york', residentialIndicator: '01', destinationPostalCode: '90001-1234' }),
  );
  for (const key of EMS_REQUIRED) assert.ok(key in answer, `emsResponse.${key}`);
  assert.deepEqual(
    {
      shipDate: answer.shipDate,
      shipTime: answer.shipTime,
      billType: answer.billType,
      residentialIndicator: answer.residentialIndicator,
      originCityName: answer.originCityName,
      originCountryName: answer.originCountryName,
      destinationCountryName: answer.destinationCountryName,
      destinationPostalCode: answer.destinationPostalCode,
      weight: answer.weight,
      weightUnitOfMeasure: answer.weightUnitOfMeasure,
      guaranteeSuspended: answer.guaranteeSuspended,
      dutyType: answer.dutyType,
    },
    {
      shipDate: '2026-12-04',
      shipTime: '10:00:00',
      billType: '03',
      residentialIndicator: '01',
      originCityName: 'NEW YORK',
      originCountryName: 'UNITED STATES',
      destinationCountryName: 'UNITED STATES',
      destinationPostalCode: '90001',
      weight: '5.0',
      weightUnitOfMeasure: 'LBS',
      guaranteeSuspended: false,
      dutyType: undefined,
    },
  );
  assert.equal(answer.numberOfServices, answer.services.length);
  for (const s of answer.services) {
    for (const key of SERVICE_REQUIRED) assert.ok(key in s, `${s.serviceLevel}.${key}`);
    assert.match(s.deliveryDate, /^\d{4}-\d{2}-\d{2}$/);
    assert.match(String(s.commitTime), /^\d{2}:\d{2}:\d{2}$/);
    assert.ok(Number.isInteger(s.businessTransitDays) && s.businessTransitDays >= 1);
    assert.ok(['MON', 'TUE', 'WED', 'THU', 'FRI'].includes(s.deliveryDayOfWeek));
  }
  // New York → Los Angeles is zone 8: every domestic service, fastest first, as UPS lists them.
  assert.deepEqual(
    answer.services.map((s) => [
      s.serviceLevel,
      s.serviceLevelDescription,
      s.businessTransitDays,
      s.guaranteeIndicator,
    ]),
    [
      ['1DM', 'UPS Next Day Air Early', 1, '1'],
      ['1DA', 'UPS Next Day Air', 1, '1'],
      ['1DP', 'UPS Next Day Air Saver', 1, '1'],
      ['2DM', 'UPS 2nd Day Air A.M.', 2, '1'],
      ['2DA', 'UPS 2nd Day Air', 2, '1'],
      ['3DS', 'UPS 3 Day Select', 3, '1'],
      ['GND', 'UPS Ground', 5, '0'],
    ],
  );
});

test('dates: business days from the pickup, weekends skipped; a weekend ship date is picked up on Monday', () => {
  const byLevel = (a: Ems) => Object.fromEntries(a.services.map((s) => [s.serviceLevel, s]));
  // Friday: next day is Monday, 5 days of Ground the Friday after.
  const friday = byLevel(ems(domestic()));
  assert.deepEqual(
    [friday['1DA']!.deliveryDate, friday['1DA']!.deliveryDayOfWeek, friday['1DA']!.pickupDate],
    ['2026-12-07', 'MON', '2026-12-04'],
  );
  assert.equal(friday.GND!.deliveryDate, '2026-12-11');
  // Saturday: picked up Monday, delivered Tuesday.
  const saturday = byLevel(ems(domestic({ shipDate: '2026-12-05' })));
  assert.deepEqual(
    [saturday['1DA']!.shipDate, saturday['1DA']!.pickupDate, saturday['1DA']!.deliveryDate],
    ['2026-12-05', '2026-12-07', '2026-12-08'],
  );
  // Domestic answers leave the international-only counts at their defaults.
  assert.deepEqual([friday['1DA']!.totalTransitDays, friday['1DA']!.restDaysCount], [0, 0]);
  // International: calendar days = business days + weekend days on the way; a moved pickup is flagged.
  const intl = byLevel(ems(international({ shipDate: '2026-12-03' })));
  assert.deepEqual(
    [
      intl['01']!.deliveryDate,
      intl['01']!.businessTransitDays,
      intl['01']!.restDaysCount,
      intl['01']!.totalTransitDays,
    ],
    ['2026-12-07', 2, 2, 4],
  );
  assert.equal(intl['01']!.nextDayPickupIndicator, '0');
  assert.equal(byLevel(ems(international({ shipDate: '2026-12-06' })))['01']!.nextDayPickupIndicator, '1');
});

test('one country outside the US is a domestic request: postal codes needed, weight and bill type not', () => {
  const body = {
    originCountryCode: 'DE',
    originPostalCode: '10115',
    destinationCountryCode: 'de',
    shipDate: '2026-12-04',
  };
  assert.deepEqual(directError(body), {
    code: '20007',
    message: 'Missing Required field, destinationPostalCode.',
  });
  const answer = ems({ ...body, destinationPostalCode: '80331' });
  assert.equal(answer.destinationCountryName, 'GERMANY');
  assert.equal(answer.dutyType, undefined);
  // Rating's services for a lane outside the US, with their days; no filter (that is for US lanes).
  assert.deepEqual(
    answer.services.map((s) => [s.serviceLevel, s.businessTransitDays, s.totalTransitDays]),
    [
      ['21', 2, 0],
      ['01', 2, 0],
      ['28', 2, 0],
      ['05', 5, 0],
      ['03', 6, 0],
    ],
  );
});

test('the same request gets the same answer, whatever the day it is asked (dates given)', () => {
  const first = ems(domestic(), context());
  const again = ems(domestic(), context({}, new Date('2026-12-20T03:00:00Z')));
  assert.deepEqual(again, first);
  assert.deepEqual(ems(international()), ems(international()));
});

/** Every domestic lane class: zones 2..8 from New York, plus PR and the border-crossing ones. */
const LANES: Array<[string, string, string, string]> = [
  ['US', '10005', 'US', '10016'], // zone 2
  ['US', '10005', 'US', '07030'], // zone 3
  ['US', '10005', 'US', '20001'], // zone 4
  ['US', '10005', 'US', '30303'], // zone 5
  ['US', '10005', 'US', '46201'], // zone 6
  ['US', '10005', 'US', '75201'], // zone 7
  ['US', '10005', 'US', '94105'], // zone 8
  ['US', '94105', 'PR', '00901'],
  ['US', '10005', 'CA', 'M5H 2N2'],
  ['US', '10005', 'GB', 'SW1A 1AA'],
  ['US', '10005', 'JP', '100-0001'],
  ['DE', '10115', 'US', '03104'],
];

/** Shoptimeintransit for a lane: per service code, business days and negotiated price in cents. */
async function shop(
  originCountry: string,
  originZip: string,
  destCountry: string,
  destZip: string,
): Promise<Map<string, { days: number; cents: number }>> {
  const address = (country: string, zip: string) => ({
    AddressLine: ['1 Main St'],
    City: 'Somewhere',
    ...(['US', 'CA', 'PR'].includes(country) ? { StateProvinceCode: country === 'CA' ? 'ON' : 'NY' } : {}),
    PostalCode: zip,
    CountryCode: country,
  });
  const contact = { AttentionName: 'Ann', Phone: { Number: '5555550100' } };
  const body = {
    RateRequest: {
      Shipment: {
        Shipper: {
          Name: 'Acme',
          ShipperNumber: 'A1B2C3',
          Address: address(originCountry, originZip),
          ...contact,
        },
        ShipTo: { Name: 'Bob', Address: address(destCountry, destZip), ...contact },
        Description: 'Widgets',
        InvoiceLineTotal: { CurrencyCode: 'USD', MonetaryValue: '100' },
        Package: [
          { Packaging: { Code: '02' }, PackageWeight: { UnitOfMeasurement: { Code: 'LBS' }, Weight: '5' } },
        ],
        PaymentInformation: { ShipmentCharge: [{ Type: '01', BillShipper: { AccountNumber: 'A1B2C3' } }] },
      },
    },
  };
  const answer = await ups.rateShipment(context(), {
    requestoption: 'Shoptimeintransit',
    request_body: body,
  });
  const rated = (
    answer.RateResponse as {
      RatedShipment: Array<{
        Service: { Code: string };
        TotalCharges: { MonetaryValue: string };
        TimeInTransit: { ServiceSummary: { EstimatedArrival: { BusinessDaysInTransit: string } } };
      }>;
    }
  ).RatedShipment;
  return new Map(
    rated.map((r) => [
      r.Service.Code,
      {
        days: Number(r.TimeInTransit.ServiceSummary.EstimatedArrival.BusinessDaysInTransit),
        cents: Math.round(Number(r.TotalCharges.MonetaryValue) * 100),
      },
    ]),
  );
}

function transitBody(o: string, oz: string, d: string, dz: string, over: Obj = {}): Obj {
  return international({
    originCountryCode: o,
    originPostalCode: oz,
    destinationCountryCode: d,
    destinationPostalCode: dz,
    ...over,
  });
}

test('consistent with Shop for the same lane: the same services (unfiltered) with the same business days', async () => {
  for (const lane of LANES) {
    const shopped = await shop(...lane);
    const transit = ems(transitBody(...lane, { returnUnfilterdServices: true }));
    assert.deepEqual(
      Object.fromEntries(transit.services.map((s) => [s.serviceLevel, s.businessTransitDays])),
      Object.fromEntries([...shopped].map(([code, q]) => [transitServiceLevel(code)!, q.days])),
      lane.join(' '),
    );
  }
});

test('UPS’s default filter drops only domestic services slower than Ground, so the cheapest service within N days is the same', async () => {
  let dropped = 0;
  for (const lane of LANES) {
    const shopped = await shop(...lane);
    const listed = new Set(ems(transitBody(...lane)).services.map((s) => s.serviceLevel));
    const ground = shopped.get('03');
    const domesticLane = ['US', 'PR'].includes(lane[0]) && ['US', 'PR'].includes(lane[2]);
    for (const [code, q] of shopped) {
      if (listed.has(transitServiceLevel(code)!)) {
        if (domesticLane) assert.ok(q.days <= ground!.days, `${code} on ${lane.join(' ')} is listed`);
        continue;
      }
      dropped++;
      assert.ok(domesticLane, `only domestic lanes are filtered (${lane.join(' ')})`);
      assert.ok(q.days > ground!.days, `${code} on ${lane.join(' ')} is slower than Ground`);
      assert.ok(q.cents > ground!.cents, `${code} on ${lane.join(' ')} is dearer than Ground`);
    }
    for (let n = 1; n <= 7; n++) {
      const cheapest = (codes: string[]) =>
        codes
          .filter((c) => shopped.get(c)!.days <= n)
          .sort((a, b) => shopped.get(a)!.cents - shopped.get(b)!.cents)[0];
      assert.equal(
        cheapest([...shopped.keys()].filter((c) => listed.has(transitServiceLevel(c)!))),
        cheapest([...shopped.keys()]),
        `${lane.join(' ')} within ${n} days`,
      );
    }
  }
  assert.ok(dropped > 0, 'some lane had services slower than Ground');
});

// --- robustness, wiring ---

test('attacker inputs get a UPS or argument error, never a crash, and the server keeps answering', async (t) => {
  const sbx = await sandbox(t);
  let deep: unknown = 'x';
  for (let i = 0; i < 5_000; i++) deep = [deep];
  const live = (over: Obj) => domestic({ shipDate: undefined, shipTime: undefined, ...over });
  const refused: unknown[] = [
    { originCountryCode: 'US'.repeat(500_000) },
    live({ originPostalCode: '9'.repeat(1_000_000) }),
    live({ destinationCityName: 'é'.repeat(51) }),
    live({ weight: 1e308 }),
    live({ weight: -5 }),
    live({ weight: '1e3' }),
    live({ shipDate: deep }),
    live({ originCountryCode: { toString: 'US' } }),
    { __proto__: { originCountryCode: 'US' }, constructor: 'x' },
    JSON.parse('{"__proto__": {"originCountryCode": "US"}, "destinationCountryCode": "US"}'),
    live({ originCountryCode: '\u0000\u0000' }),
    live({ shipTime: '10:00:00x' }),
  ];
  for (const body of refused) {
    const result = await sbx.call({ request_body: body });
    assert.equal(result.isError, true, textOf(result).slice(0, 200));
    const payload = JSON.parse(failure(result)) as Obj;
    assert.equal(payload.status_code, 400);
    assert.ok(textOf(result).length < 500, 'UPS’s message quotes at most 40 characters of a value');
  }
  // Odd but valid: answered.
  const odd = await sbx.call({
    request_body: live({ numberOfPackages: 2 ** 60, maxList: '7', avvFlag: 'false', weight: '0.05' }),
  });
  assert.ok((odd.structuredContent as { emsResponse: Ems }).emsResponse.services.length > 0);
  // A weight that rounds to 0.0 (UPS keeps tenths) is none.
  assert.equal(upsError(await sbx.call({ request_body: live({ weight: '0.04' }) })).code, '20008');
  const ok = await sbx.call({ request_body: domestic({ shipDate: undefined, shipTime: undefined }) });
  assert.equal(ok.isError, undefined);
});

test('call log: one entry per call, its trans_id as the reference, UPS’s code on errors; knob faults apply', async (t) => {
  const sbx = await sandbox(t, {
    rules: [{ tool: TOOL, fault: 'rate_limit', times: 1 }],
    retryAfterSeconds: 2,
  });
  const body = domestic({ shipDate: undefined, shipTime: undefined });
  const limited = JSON.parse(failure(await sbx.call({ request_body: body, trans_id: 'ROW-1' }))) as Obj;
  assert.deepEqual([limited.status_code, limited.retry_after], [429, 2]);
  assert.equal((await sbx.call({ request_body: body, trans_id: 'ROW-1' })).isError, undefined);
  upsError(await sbx.call({ request_body: {}, trans_id: 'ROW-2' }));
  await sbx.call({ request_body: 'x' });
  assert.deepEqual(
    readCallLog(sbx.dir).map((e) => [e.tool, e.reference, e.outcome, e.code]),
    [
      [TOOL, 'ROW-1', 'fault', '10429'],
      [TOOL, 'ROW-1', 'ok', undefined],
      [TOOL, 'ROW-2', 'error', '20007'],
      [TOOL, undefined, 'error', undefined],
    ],
  );
});
