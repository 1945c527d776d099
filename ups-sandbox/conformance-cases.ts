/**
 * The calls `scripts/conformance.ts` sends to both the real UPS MCP server and the sandbox: every
 * decision the real server makes before it calls UPS, by kind. Pure data (plus small builders) so
 * the contract tests can send the same calls to the sandbox alone.
 */
import type { JsonObject } from './json';

/** One call of the comparison. */
export interface ConformanceCase {
  name: string;
  kind: 'structure' | 'rules' | 'arguments' | 'local_vs_ups' | 'listing' | 'elicitation' | 'defaults';
  call: 'tool' | 'listTools' | 'serverInfo';
  tool?: string;
  args?: JsonObject;
  /** listTools: the tools to compare. */
  tools?: string[];
  /** Use a client that declares form elicitation and declines. */
  elicitation?: boolean;
  /** UPS_ACCOUNT_NUMBER of both servers for this case (none when absent). */
  accountNumber?: string;
}

export const ACCOUNT = 'A1B2C3';

/** A complete domestic shipper (US, GA). */
export function shipper(): JsonObject {
  return {
    Name: 'Acme Widgets',
    ShipperNumber: ACCOUNT,
    Address: {
      AddressLine: ['1 Peachtree St'],
      City: 'Atlanta',
      StateProvinceCode: 'GA',
      PostalCode: '30303',
      CountryCode: 'US',
    },
  };
}

/** A complete recipient; `country` picks a US, CA or GB address. */
export function shipTo(country: 'US' | 'CA' | 'GB' = 'US'): JsonObject {
  const address: Record<string, JsonObject> = {
    US: {
      AddressLine: ['2 Congress Ave'],
      City: 'Austin',
      StateProvinceCode: 'TX',
      PostalCode: '78701',
      CountryCode: 'US',
    },
    CA: {
      AddressLine: ['100 Queen St W'],
      City: 'Toronto',
      StateProvinceCode: 'ON',
      PostalCode: 'M5H 2N2',
      CountryCode: 'CA',
    },
    GB: { AddressLine: ['10 Downing St'], City: 'London', PostalCode: 'SW1A 2AA', CountryCode: 'GB' },
  };
  return { Name: 'Bob Buyer', Address: address[country]! };
}

export function pkg(weight = '5'): JsonObject {
  return { Packaging: { Code: '02' }, PackageWeight: { UnitOfMeasurement: { Code: 'LBS' }, Weight: weight } };
}

/** A complete Shipment (US→US ground, one package, billed to the shipper). */
export function shipment(overrides: JsonObject = {}): JsonObject {
  return {
    Shipper: shipper(),
    ShipTo: shipTo(),
    Service: { Code: '03' },
    Package: [pkg()],
    PaymentInformation: { ShipmentCharge: [{ Type: '01', BillShipper: { AccountNumber: ACCOUNT } }] },
    ...overrides,
  };
}

/** `{ShipmentRequest: {Request, Shipment}}` around a Shipment. */
export function shipBody(s: unknown, request: unknown = { RequestOption: 'nonvalidate' }): JsonObject {
  return { ShipmentRequest: { Request: request, Shipment: s } };
}

export function rateBody(s: unknown): JsonObject {
  return { RateRequest: { Shipment: s } };
}

const create = (
  name: string,
  kind: ConformanceCase['kind'],
  request_body: unknown,
  extra: JsonObject = {},
): ConformanceCase => ({
  name: `create_shipment: ${name}`,
  kind,
  call: 'tool',
  tool: 'create_shipment',
  args: { request_body, ...extra },
});
const rate = (
  name: string,
  kind: ConformanceCase['kind'],
  request_body: unknown,
  requestoption: unknown = 'Rate',
): ConformanceCase => ({
  name: `rate_shipment: ${name}`,
  kind,
  call: 'tool',
  tool: 'rate_shipment',
  args: { requestoption, request_body },
});
const call = (tool: string, name: string, kind: ConformanceCase['kind'], args: unknown): ConformanceCase => ({
  name: `${tool}: ${name}`,
  kind,
  call: 'tool',
  tool,
  args: args as JsonObject,
});

const contacts = {
  Shipper: { ...shipper(), AttentionName: 'Ann Shipper', Phone: { Number: '4045550100' } },
  ShipTo: { ...shipTo('GB'), AttentionName: 'Bob Buyer', Phone: { Number: '442079460000' } },
};
const twoPayers = {
  PaymentInformation: {
    ShipmentCharge: [
      { Type: '01', BillShipper: { AccountNumber: ACCOUNT } },
      { Type: '02', BillShipper: { AccountNumber: ACCOUNT }, BillReceiver: { AccountNumber: 'R1R2R3' } },
    ],
  },
};

export const CONFORMANCE_CASES: ConformanceCase[] = [
  // --- tool listing and server identity ---
  {
    name: 'tool listing (the six tools shipbatch uses)',
    kind: 'listing',
    call: 'listTools',
    tools: [
      'track_package',
      'validate_address',
      'rate_shipment',
      'create_shipment',
      'void_shipment',
      'recover_label',
    ],
  },
  { name: 'server info and capabilities', kind: 'listing', call: 'serverInfo' },

  // --- structure errors ---
  create('request_body {}', 'structure', {}),
  create('ShipmentRequest without Shipment', 'structure', { ShipmentRequest: {} }),
  create('no Package', 'structure', shipBody(shipment({ Package: undefined }))),
  create('Package []', 'structure', shipBody(shipment({ Package: [] }))),
  create('Package a string', 'structure', shipBody(shipment({ Package: 'box' }))),
  create('Package list with a string element', 'structure', shipBody(shipment({ Package: [pkg(), 'x'] }))),
  create('ShipmentRequest a string', 'structure', { ShipmentRequest: 'x' }),
  create('Shipment a string', 'structure', shipBody('x')),
  create('Shipment a list', 'structure', shipBody([shipment()])),
  create('PaymentInformation a string', 'structure', shipBody(shipment({ PaymentInformation: 'x' }))),
  create(
    'ShipmentCharge a string',
    'structure',
    shipBody(shipment({ PaymentInformation: { ShipmentCharge: 'x' } })),
  ),
  create(
    'ShipmentCharge []',
    'structure',
    shipBody(shipment({ PaymentInformation: { ShipmentCharge: [] } })),
  ),
  create('Request a string', 'structure', shipBody(shipment(), 'x')),
  create('Shipper a string', 'structure', shipBody(shipment({ Shipper: 'x' }))),
  create('ShipTo a string', 'structure', shipBody(shipment({ ShipTo: 'x' }))),
  create(
    'Shipper.Address a string',
    'structure',
    shipBody(shipment({ Shipper: { ...shipper(), Address: 'x' } })),
  ),
  create('Service a string', 'structure', shipBody(shipment({ Service: '03' }))),
  create(
    'blank fields count as missing',
    'structure',
    shipBody(shipment({ ShipTo: { ...shipTo(), Name: '  ' } })),
  ),
  create(
    'two packages missing weights',
    'structure',
    shipBody(shipment({ Package: [{ Packaging: { Code: '02' } }, { Packaging: { Code: '02' } }] })),
  ),
  create(
    'two payers in the first charge',
    'structure',
    shipBody(
      shipment({
        PaymentInformation: {
          ShipmentCharge: {
            Type: '01',
            BillShipper: { AccountNumber: ACCOUNT },
            BillReceiver: { AccountNumber: 'R1R2R3' },
          },
        },
      }),
    ),
  ),
  create(
    'BillReceiver without account number',
    'structure',
    shipBody(shipment({ PaymentInformation: { ShipmentCharge: { Type: '01', BillReceiver: {} } } })),
  ),
  rate('request_body {}', 'structure', {}),
  rate('Shipment a string', 'structure', rateBody('x')),
  rate('PaymentInformation a string', 'structure', rateBody(shipment({ PaymentInformation: 'x' }))),
  rate('Shipper a string', 'structure', rateBody(shipment({ Shipper: 'x' }))),
  rate('no Package', 'structure', rateBody(shipment({ Package: undefined }))),
  rate(
    'PackagingType instead of Packaging',
    'structure',
    rateBody(
      shipment({
        Package: [
          {
            PackagingType: { Code: '02' },
            PackageWeight: { UnitOfMeasurement: { Code: 'LBS' }, Weight: '5' },
          },
        ],
      }),
    ),
  ),
  rate('Shop without Service', 'structure', rateBody(shipment({ Service: undefined })), 'Shop'),
  rate('invalid requestoption, complete body', 'structure', rateBody(shipment()), 'cheapest'),
  rate(
    'invalid requestoption, incomplete body',
    'structure',
    rateBody(shipment({ Shipper: undefined })),
    'cheapest',
  ),

  create('ShipTo null', 'structure', shipBody(shipment({ ShipTo: null }))),
  create('Request null', 'structure', shipBody(shipment(), null)),
  create('Package [null]', 'structure', shipBody(shipment({ Package: [null] }))),
  create(
    'Shipper.Address.CountryCode null',
    'structure',
    shipBody(
      shipment({
        Shipper: {
          ...shipper(),
          Address: { AddressLine: ['1 Peachtree St'], City: 'Atlanta', CountryCode: null },
        },
      }),
    ),
  ),
  rate('RateRequest null', 'structure', { RateRequest: null }),
  rate('Package a number', 'structure', rateBody(shipment({ Package: 5 }))),

  // --- rules ---
  create('service 14 without ShipTo contact', 'rules', shipBody(shipment({ Service: { Code: '14' } }))),
  rate('service 14 without ShipTo contact', 'rules', rateBody(shipment({ Service: { Code: '14' } }))),
  create('US→CA', 'rules', shipBody(shipment({ ShipTo: shipTo('CA'), Service: { Code: '11' } }))),
  rate('US→CA', 'rules', rateBody(shipment({ ShipTo: shipTo('CA'), Service: { Code: '11' } }))),
  create(
    'US→GB with only a FormType',
    'rules',
    shipBody(
      shipment({
        ...contacts,
        Service: { Code: '07' },
        Description: 'Widgets',
        ShipmentServiceOptions: { InternationalForms: { FormType: '01' } },
      }),
    ),
  ),
  create(
    'US→GB without InternationalForms',
    'rules',
    shipBody(shipment({ ...contacts, Service: { Code: '07' }, Description: 'Widgets' })),
  ),
  create(
    'US→GB UPS Letter is exempt from forms and description',
    'rules',
    shipBody(
      shipment({ ...contacts, Service: { Code: '07' }, Package: [{ ...pkg(), Packaging: { Code: '01' } }] }),
    ),
  ),
  create(
    'US→GB EEI form without filing option',
    'rules',
    shipBody(
      shipment({
        ...contacts,
        Service: { Code: '07' },
        Description: 'Widgets',
        ShipmentServiceOptions: {
          InternationalForms: {
            FormType: '11',
            Product: {
              Description: 'Widget',
              Unit: { Number: '1', Value: '10', UnitOfMeasurement: { Code: 'PCS' } },
              OriginCountryCode: 'US',
            },
          },
        },
      }),
    ),
  ),
  create(
    'US→GB duties charge without payer',
    'rules',
    shipBody(
      shipment({
        ...contacts,
        Service: { Code: '07' },
        Description: 'Widgets',
        ShipmentServiceOptions: { InternationalForms: { FormType: '09' } },
        PaymentInformation: {
          ShipmentCharge: [{ Type: '01', BillShipper: { AccountNumber: ACCOUNT } }, { Type: '02' }],
        },
      }),
    ),
  ),
  rate(
    'US→GB without contacts',
    'rules',
    rateBody(shipment({ ShipTo: shipTo('GB'), Service: { Code: '07' } })),
  ),
  create(
    'ShipFrom decides the origin',
    'rules',
    shipBody(
      shipment({
        ShipFrom: { Name: 'DC', Address: { AddressLine: ['1 Rue'], City: 'Toronto', CountryCode: 'CA' } },
        ShipTo: shipTo('CA'),
      }),
    ),
  ),
  create(
    'lower-case country still needs state and postal code',
    'rules',
    shipBody(
      shipment({
        ShipTo: {
          Name: 'Bob',
          Address: { AddressLine: ['2 Congress Ave'], City: 'Austin', CountryCode: 'us' },
        },
      }),
    ),
  ),

  create('service 14 as a number', 'rules', shipBody(shipment({ Service: { Code: 14 } }))),
  create(
    'US→CA return: no invoice total',
    'rules',
    shipBody(
      shipment({
        ...contacts,
        ShipTo: { ...shipTo('CA'), AttentionName: 'Bob', Phone: { Number: '4165550100' } },
        Service: { Code: '11' },
        Description: 'Widgets',
        ReturnService: { Code: '9' },
      }),
    ),
  ),
  create(
    'US→GB FormType list with a blank',
    'rules',
    shipBody(
      shipment({
        ...contacts,
        Service: { Code: '07' },
        Description: 'Widgets',
        ShipmentServiceOptions: { InternationalForms: { FormType: ['09', ''] } },
      }),
    ),
  ),
  create(
    'US→GB two products, the second incomplete',
    'rules',
    shipBody(
      shipment({
        ...contacts,
        Service: { Code: '07' },
        Description: 'Widgets',
        ShipmentServiceOptions: {
          InternationalForms: {
            FormType: '06',
            Product: [
              {
                Description: 'Widget',
                Unit: { Number: '1', Value: '10', UnitOfMeasurement: { Code: 'PCS' } },
                OriginCountryCode: 'US',
              },
              { Description: 'Gadget' },
            ],
          },
        },
      }),
    ),
  ),
  create(
    'US→GB Packaging a string',
    'rules',
    shipBody(shipment({ ...contacts, Service: { Code: '07' }, Package: [{ ...pkg(), Packaging: '02' }] })),
  ),
  create(
    'weight 0 counts as present',
    'rules',
    shipBody(
      shipment({
        Package: [
          { Packaging: { Code: '02' }, PackageWeight: { UnitOfMeasurement: { Code: 'LBS' }, Weight: 0 } },
        ],
      }),
    ),
  ),

  // --- defaults from UPS_ACCOUNT_NUMBER ---
  { ...create('request_body {} with UPS_ACCOUNT_NUMBER', 'defaults', {}), accountNumber: ACCOUNT },
  {
    ...create(
      'BillReceiver present: no BillShipper default',
      'defaults',
      shipBody(shipment({ PaymentInformation: { ShipmentCharge: { BillReceiver: {} } } })),
    ),
    accountNumber: ACCOUNT,
  },
  { ...rate('request_body {} with UPS_ACCOUNT_NUMBER', 'defaults', {}), accountNumber: ACCOUNT },

  // --- argument parsing ---
  create('request_body as a JSON string', 'arguments', JSON.stringify(shipBody(shipment()))),
  create('request_body as a JSON list string', 'arguments', '[1, 2]'),
  create('request_body not JSON', 'arguments', 'not json'),
  create('request_body a number', 'arguments', 5),
  create('request_body null', 'arguments', null),
  call('create_shipment', 'no arguments', 'arguments', {}),
  create('version null', 'arguments', shipBody(shipment()), { version: null }),
  create('version a number', 'arguments', shipBody(shipment()), { version: 2409 }),
  rate('requestoption a number', 'arguments', rateBody(shipment()), 1),
  call('rate_shipment', 'request_body as a JSON string', 'arguments', {
    requestoption: 'Rate',
    request_body: JSON.stringify(rateBody(shipment())),
  }),
  call('void_shipment', 'numeric trackingnumber', 'arguments', {
    shipmentidentificationnumber: '1ZA1B2C30312345678',
    trackingnumber: 12345,
  }),
  call('void_shipment', 'trackingnumber list with a number', 'arguments', {
    shipmentidentificationnumber: '1ZA1B2C30312345678',
    trackingnumber: ['1Z1', 2],
  }),
  call('void_shipment', 'trackingnumber as a JSON list string', 'arguments', {
    shipmentidentificationnumber: '1ZA1B2C30312345678',
    trackingnumber: '["1ZA1B2C30312345678"]',
  }),
  call('void_shipment', 'numeric shipmentidentificationnumber', 'arguments', {
    shipmentidentificationnumber: 123,
  }),
  call('void_shipment', 'empty shipmentidentificationnumber', 'local_vs_ups', {
    shipmentidentificationnumber: '',
  }),
  call('track_package', 'returnSignature "true"', 'arguments', {
    inquiryNumber: '1ZA1B2C30312345678',
    returnSignature: 'true',
  }),
  call('track_package', 'returnSignature "maybe"', 'arguments', {
    inquiryNumber: '1ZA1B2C30312345678',
    returnSignature: 'maybe',
  }),
  call('track_package', 'returnSignature 1', 'arguments', {
    inquiryNumber: '1ZA1B2C30312345678',
    returnSignature: 1,
  }),
  call('track_package', 'returnSignature 2', 'arguments', {
    inquiryNumber: '1ZA1B2C30312345678',
    returnSignature: 2,
  }),
  call('track_package', 'returnSignature a list', 'arguments', {
    inquiryNumber: '1ZA1B2C30312345678',
    returnSignature: [true],
  }),
  call('track_package', 'returnSignature "null"', 'arguments', {
    inquiryNumber: '1ZA1B2C30312345678',
    returnSignature: 'null',
  }),
  call('track_package', 'no inquiryNumber', 'arguments', { locale: 'en_US' }),
  call('validate_address', 'missing required arguments', 'arguments', {
    addressLine1: '1 Main St',
    countryCode: 'US',
  }),
  create('request_body a long text', 'arguments', 'x'.repeat(80)),
  rate('requestoption with a quote', 'arguments', rateBody(shipment()), "it's"),
  call('track_package', 'returnSignature "TRUE"', 'arguments', {
    inquiryNumber: '1ZA1B2C30312345678',
    returnSignature: 'TRUE',
  }),
  call('track_package', 'returnSignature " true"', 'arguments', {
    inquiryNumber: '1ZA1B2C30312345678',
    returnSignature: ' true',
  }),
  call('void_shipment', 'trackingnumber null', 'arguments', {
    shipmentidentificationnumber: '1ZA1B2C30312345678',
    trackingnumber: null,
  }),
  call('void_shipment', 'trackingnumber an object', 'arguments', {
    shipmentidentificationnumber: '1ZA1B2C30312345678',
    trackingnumber: { a: 1 },
  }),
  call('no_such_tool', 'unknown tool', 'arguments', {}),

  // --- local refusal vs. sent to UPS ---
  create('complete domestic shipment', 'local_vs_ups', shipBody(shipment())),
  create('two payers in the second charge', 'local_vs_ups', shipBody(shipment(twoPayers))),
  create('unknown argument idempotency_key is ignored', 'local_vs_ups', shipBody(shipment()), {
    idempotency_key: 'k-1',
  }),
  create('Request missing: RequestOption defaulted', 'local_vs_ups', {
    ShipmentRequest: { Shipment: shipment() },
  }),
  create('Package a single object', 'local_vs_ups', shipBody(shipment({ Package: pkg() }))),
  create(
    'Shipment.Description over 50 characters (domestic)',
    'local_vs_ups',
    shipBody(shipment({ Description: 'x'.repeat(60) })),
  ),
  create(
    'CustomerContext over 512 characters',
    'local_vs_ups',
    shipBody(shipment(), {
      RequestOption: 'nonvalidate',
      TransactionReference: { CustomerContext: 'r'.repeat(600) },
    }),
  ),
  rate('complete Rate', 'local_vs_ups', rateBody(shipment())),
  rate('lower-case requestoption "shop"', 'local_vs_ups', rateBody(shipment({ Service: undefined })), 'shop'),
  call('recover_label', 'request_body {}', 'local_vs_ups', { request_body: {} }),
  call('recover_label', 'LabelRecoveryRequest a string', 'local_vs_ups', {
    request_body: { LabelRecoveryRequest: 'x' },
  }),
  call('recover_label', 'by tracking number', 'local_vs_ups', {
    request_body: { LabelRecoveryRequest: { TrackingNumber: '1ZA1B2C30312345678' } },
  }),
  call('void_shipment', 'unknown shipment', 'local_vs_ups', {
    shipmentidentificationnumber: '1ZA1B2C30312345678',
  }),
  call('track_package', 'unknown package', 'local_vs_ups', { inquiryNumber: '1ZA1B2C30312345678' }),
  call('validate_address', 'complete address', 'local_vs_ups', {
    addressLine1: '1 Main St',
    politicalDivision1: 'GA',
    politicalDivision2: 'Atlanta',
    zipPrimary: '30303',
    countryCode: 'US',
  }),
  call('validate_address', 'response_format is not an argument', 'local_vs_ups', {
    addressLine1: '1 Main St',
    politicalDivision1: 'GA',
    politicalDivision2: 'Atlanta',
    zipPrimary: '30303',
    countryCode: 'US',
    response_format: 42,
  }),

  // --- elicitation (a client that declares form elicitation and declines) ---
  {
    ...create(
      'missing fields, declined',
      'elicitation',
      shipBody(shipment({ ShipTo: { ...shipTo(), Name: undefined } })),
    ),
    elicitation: true,
  },
  {
    ...rate('missing fields, declined', 'elicitation', rateBody(shipment({ Package: [{}] }))),
    elicitation: true,
  },
  {
    ...create(
      'structural fields are not elicited',
      'elicitation',
      shipBody(shipment({ ShipTo: shipTo('CA'), Service: { Code: '11' } })),
    ),
    elicitation: true,
  },
  { ...create('request_body {}, declined', 'elicitation', {}), elicitation: true },
];
