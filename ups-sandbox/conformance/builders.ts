/**
 * The builders of the conformance cases: complete parties, packages and shipments to vary one thing
 * at a time, the request bodies around them and the three kinds of tool call.
 */
import type { JsonObject } from '../json';

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

/** One complete package (customer packaging, pounds). */
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

/** `{RateRequest: {Shipment}}` around a Shipment. */
export function rateBody(s: unknown): JsonObject {
  return { RateRequest: { Shipment: s } };
}

/** A create_shipment case (`extra`: arguments besides request_body). */
export const create = (
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
/** A rate_shipment case. */
export const rate = (
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
/** A call of any tool with the arguments as given. */
export const call = (
  tool: string,
  name: string,
  kind: ConformanceCase['kind'],
  args: unknown,
): ConformanceCase => ({
  name: `${tool}: ${name}`,
  kind,
  call: 'tool',
  tool,
  args: args as JsonObject,
});

/** Shipper and a GB recipient with the contacts an international shipment needs. */
export const contacts = {
  Shipper: { ...shipper(), AttentionName: 'Ann Shipper', Phone: { Number: '4045550100' } },
  ShipTo: { ...shipTo('GB'), AttentionName: 'Bob Buyer', Phone: { Number: '442079460000' } },
};
/** Two charges, the second (duties) with two payer objects. */
export const twoPayers = {
  PaymentInformation: {
    ShipmentCharge: [
      { Type: '01', BillShipper: { AccountNumber: ACCOUNT } },
      { Type: '02', BillShipper: { AccountNumber: ACCOUNT }, BillReceiver: { AccountNumber: 'R1R2R3' } },
    ],
  },
};
