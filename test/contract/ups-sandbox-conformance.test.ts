/**
 * The sandbox decides like the real ups-mcp server before it calls UPS. Every expectation here was
 * written by hand from what the real server (matt-hans/ups-mcp on `mcp<2`) answered to the same call
 * in a side-by-side run (scripts/conformance.ts); the real server itself is not needed to run this.
 *
 * Over stdio against the `ups-sandbox` process: structure errors, required-field rules, defaults,
 * argument parsing, local refusal vs. sent to UPS, the tool listing. Form elicitation: through an
 * MCP server in this process wired the way the sandbox server wires a call (ctx.elicit from
 * `formElicitor`), with SDK clients that accept, decline or cancel.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ElicitRequestSchema,
  type CallToolResult,
  type ClientCapabilities,
  type ElicitRequest,
  type ElicitResult,
} from '@modelcontextprotocol/sdk/types.js';
import { isValidUpsTrackingNumber } from '../../ups-sandbox/tracking-number';
import {
  CONFORMANCE_CASES,
  shipBody,
  shipment,
  shipTo,
  type ConformanceCase,
} from '../../ups-sandbox/conformance-cases';
import { formElicitor } from '../../ups-sandbox/elicitation';
import { toolErrorResult, ToolFailure } from '../../ups-sandbox/errors';
import { SERVER_CAPABILITIES, SERVER_INFO } from '../../ups-sandbox/identity';
import { KnobSource } from '../../ups-sandbox/knobs';
import { ShipmentStore } from '../../ups-sandbox/store';
import * as ups from '../../ups-sandbox/ups';

const SANDBOX_BIN = fileURLToPath(new URL('../../bin/ups-sandbox.js', import.meta.url));
const PREFIX = /^Error executing tool ([^:]+): ([\s\S]*)$/;

/** What a client can act on in a tool result. */
type Outcome =
  | { kind: 'ups'; ok: boolean; status?: number }
  | { kind: 'refused'; code: string; reason: string; missing: string[]; message: string }
  | { kind: 'arguments'; errors: string[]; text: string }
  | { kind: 'text'; text: string };

function outcome(result: CallToolResult): Outcome {
  if (!result.isError) return { kind: 'ups', ok: true };
  const first = result.content[0];
  const text = first?.type === 'text' ? first.text : '';
  const m = PREFIX.exec(text);
  assert.ok(m, `every failure carries the "Error executing tool" prefix: ${text}`);
  const body = m[2]!;
  if (body.startsWith('{')) {
    const p = JSON.parse(body) as Record<string, unknown>;
    if ('status_code' in p) return { kind: 'ups', ok: false, status: p.status_code as number };
    const missing = (p.missing as { flat_key: string }[]).map((f) => f.flat_key);
    return {
      kind: 'refused',
      code: String(p.code),
      reason: String(p.reason),
      missing,
      message: String(p.message),
    };
  }
  const head = /^(\d+) validation errors? for \w+\n/.exec(body);
  if (head) {
    const errors = [...body.matchAll(/^(\S[^\n]*)\n {2}[^\n]*\[type=([a-z_]+)/gm)].map(
      (e) => `${e[1]} ${e[2]}`,
    );
    assert.equal(errors.length, Number(head[1]), 'the count in the header matches the errors listed');
    return { kind: 'arguments', errors, text: body };
  }
  return { kind: 'text', text: body };
}

/** Expected answers, by case name (hand-written from the real server's answers). */
type Expected =
  | { sent: true }
  | { code: string; reason: string; missing: string[]; message?: RegExp }
  | { errors: string[]; text?: RegExp }
  | { text: RegExp };

const PARTIES = [
  'shipper_name',
  'shipper_number',
  'shipper_address_line_1',
  'shipper_city',
  'shipper_country_code',
  'ship_to_name',
  'ship_to_address_line_1',
  'ship_to_city',
  'ship_to_country_code',
];
const PACKAGE_1 = ['package_1_packaging_code', 'package_1_weight_unit', 'package_1_weight'];
const EVERYTHING = [...PARTIES, 'service_code', 'payment_account_number', ...PACKAGE_1];
const unsupported = (missing: string[]): Expected => ({
  code: 'ELICITATION_UNSUPPORTED',
  reason: 'unsupported',
  missing,
});
const malformed = (message: RegExp): Expected => ({
  code: 'MALFORMED_REQUEST',
  reason: 'malformed_structure',
  missing: [],
  message,
});
const attributeError = (type: string): Expected => ({
  text: new RegExp(`^'${type}' object has no attribute 'get'$`),
});
const structural = (missing: string[]): Expected => ({
  code: 'STRUCTURAL_FIELDS_REQUIRED',
  reason: 'structural',
  missing,
});
const SENT: Expected = { sent: true };
const contacts = (who: 'shipper' | 'ship_to') => [`${who}_attention_name`, `${who}_phone`];

const EXPECTED: Record<string, Expected> = {
  // structure errors
  'create_shipment: request_body {}': unsupported(EVERYTHING),
  'create_shipment: ShipmentRequest without Shipment': unsupported(EVERYTHING),
  'create_shipment: no Package': unsupported(PACKAGE_1),
  'create_shipment: Package []': unsupported(PACKAGE_1),
  'create_shipment: Package a string': unsupported(PACKAGE_1),
  'create_shipment: Package list with a string element': unsupported([
    'package_2_packaging_code',
    'package_2_weight_unit',
    'package_2_weight',
  ]),
  'create_shipment: ShipmentRequest a string': malformed(/Expected dict at 'ShipmentRequest', got str$/),
  'create_shipment: Shipment a string': malformed(/Expected dict at 'ShipmentRequest\.Shipment', got str$/),
  'create_shipment: Shipment a list': malformed(/Expected dict at 'ShipmentRequest\.Shipment', got list$/),
  'create_shipment: PaymentInformation a string': malformed(
    /'ShipmentRequest\.Shipment\.PaymentInformation', got str$/,
  ),
  'create_shipment: ShipmentCharge a string': unsupported(['payment_account_number']),
  'create_shipment: ShipmentCharge []': unsupported(['payment_account_number']),
  'create_shipment: Request a string': malformed(
    /Expected dict at 'Request' in path 'ShipmentRequest\.Request\.RequestOption', got str$/,
  ),
  'create_shipment: Shipper a string': attributeError('str'),
  'create_shipment: ShipTo a string': attributeError('str'),
  'create_shipment: Shipper.Address a string': unsupported([
    'shipper_address_line_1',
    'shipper_city',
    'shipper_country_code',
  ]),
  'create_shipment: Service a string': unsupported(['service_code']),
  'create_shipment: blank fields count as missing': unsupported(['ship_to_name']),
  'create_shipment: two packages missing weights': unsupported([
    'package_1_weight_unit',
    'package_1_weight',
    'package_2_weight_unit',
    'package_2_weight',
  ]),
  'create_shipment: two payers in the first charge': {
    code: 'MALFORMED_REQUEST',
    reason: 'ambiguous_payer',
    missing: [],
    message: /^Ambiguous payer: multiple billing objects present \(BillShipper, BillReceiver\)/,
  },
  'create_shipment: BillReceiver without account number': unsupported(['payment_account_number']),
  'rate_shipment: request_body {}': unsupported(EVERYTHING),
  'rate_shipment: Shipment a string': malformed(/Expected dict at 'RateRequest\.Shipment', got str$/),
  'rate_shipment: PaymentInformation a string': malformed(
    /'RateRequest\.Shipment\.PaymentInformation', got str$/,
  ),
  'rate_shipment: Shipper a string': attributeError('str'),
  'rate_shipment: no Package': unsupported(PACKAGE_1),
  'rate_shipment: PackagingType instead of Packaging': unsupported(['package_1_packaging_code']),
  'rate_shipment: Shop without Service': SENT,
  'rate_shipment: invalid requestoption, complete body': {
    text: /^Invalid requestoption 'cheapest'\. Allowed values: Rate, Ratetimeintransit, Shop, Shoptimeintransit$/,
  },
  // The missing fields are found before the option is looked at.
  'rate_shipment: invalid requestoption, incomplete body': unsupported(PARTIES.slice(0, 5)),

  'create_shipment: ShipTo null': attributeError('NoneType'),
  'create_shipment: Request null': malformed(
    /Expected dict at 'Request' in path 'ShipmentRequest\.Request\.RequestOption', got NoneType$/,
  ),
  'create_shipment: Package [null]': unsupported(PACKAGE_1),
  // str(None) is "None": a null country reads as a foreign one.
  'create_shipment: Shipper.Address.CountryCode null': structural(['intl_forms_required']),
  'rate_shipment: RateRequest null': malformed(/Expected dict at 'RateRequest' in path/),
  'rate_shipment: Package a number': unsupported(PACKAGE_1),

  // rules
  'create_shipment: service 14 without ShipTo contact': unsupported(contacts('ship_to')),
  'rate_shipment: service 14 without ShipTo contact': unsupported(contacts('ship_to')),
  'create_shipment: US→CA': structural(['intl_forms_required']),
  'rate_shipment: US→CA': unsupported([
    ...contacts('shipper'),
    ...contacts('ship_to'),
    'shipment_description',
    'invoice_currency_code',
    'invoice_monetary_value',
  ]),
  'create_shipment: US→GB with only a FormType': unsupported([
    'product_1_description',
    'product_1_quantity',
    'product_1_value',
    'product_1_unit_code',
    'product_1_origin_country',
    'intl_forms_currency_code',
    'intl_forms_reason_for_export',
    'intl_forms_invoice_number',
    'intl_forms_invoice_date',
    'sold_to_name',
    'sold_to_attention_name',
    'sold_to_phone',
    'sold_to_address_line',
    'sold_to_city',
    'sold_to_country_code',
  ]),
  'create_shipment: US→GB without InternationalForms': structural(['intl_forms_required']),
  'create_shipment: US→GB UPS Letter is exempt from forms and description': SENT,
  'create_shipment: US→GB EEI form without filing option': unsupported(['eei_filing_code']),
  'create_shipment: US→GB duties charge without payer': structural(['duties_payer_required']),
  'rate_shipment: US→GB without contacts': unsupported([
    ...contacts('shipper'),
    ...contacts('ship_to'),
    'shipment_description',
  ]),
  'create_shipment: ShipFrom decides the origin': SENT,
  'create_shipment: lower-case country still needs state and postal code': unsupported([
    'ship_to_state',
    'ship_to_postal_code',
  ]),

  'create_shipment: service 14 as a number': unsupported(contacts('ship_to')),
  'create_shipment: US→CA return: no invoice total': structural(['intl_forms_required']),
  'create_shipment: US→GB FormType list with a blank': SENT,
  'create_shipment: US→GB two products, the second incomplete': unsupported([
    'product_2_quantity',
    'product_2_value',
    'product_2_unit_code',
    'product_2_origin_country',
  ]),
  'create_shipment: US→GB Packaging a string': attributeError('str'),
  'create_shipment: weight 0 counts as present': SENT,

  // defaults from UPS_ACCOUNT_NUMBER
  'create_shipment: request_body {} with UPS_ACCOUNT_NUMBER': unsupported(
    EVERYTHING.filter((f) => f !== 'shipper_number' && f !== 'payment_account_number'),
  ),
  'create_shipment: BillReceiver present: no BillShipper default': unsupported(['payment_account_number']),
  'rate_shipment: request_body {} with UPS_ACCOUNT_NUMBER': unsupported(
    EVERYTHING.filter((f) => f !== 'shipper_number' && f !== 'payment_account_number'),
  ),

  // argument parsing
  'create_shipment: request_body as a JSON string': SENT,
  'create_shipment: request_body as a JSON list string': {
    errors: ['request_body dict_type'],
    text: /input_value=\[1, 2\], input_type=list/,
  },
  'create_shipment: request_body not JSON': {
    errors: ['request_body dict_type'],
    text: /input_value='not json', input_type=str/,
  },
  'create_shipment: request_body a number': { errors: ['request_body dict_type'] },
  'create_shipment: request_body null': { errors: ['request_body dict_type'], text: /input_type=NoneType/ },
  'create_shipment: no arguments': {
    errors: ['request_body missing'],
    text: /input_value=\{\}, input_type=dict/,
  },
  'create_shipment: version null': {
    errors: ['version string_type'],
    text: /input_value=None, input_type=NoneType/,
  },
  'create_shipment: version a number': { errors: ['version string_type'] },
  'rate_shipment: requestoption a number': { errors: ['requestoption string_type'] },
  'rate_shipment: request_body as a JSON string': SENT,
  'void_shipment: numeric trackingnumber': {
    errors: ['trackingnumber.str string_type', 'trackingnumber.list[str] list_type'],
  },
  'void_shipment: trackingnumber list with a number': {
    errors: ['trackingnumber.str string_type', 'trackingnumber.list[str].1 string_type'],
  },
  'void_shipment: trackingnumber as a JSON list string': SENT,
  'void_shipment: numeric shipmentidentificationnumber': {
    errors: ['shipmentidentificationnumber string_type'],
  },
  'track_package: returnSignature "true"': SENT,
  'track_package: returnSignature "maybe"': {
    errors: ['returnSignature bool_parsing'],
    text: /Input should be a valid boolean, unable to interpret input \[type=bool_parsing, input_value='maybe', input_type=str\]/,
  },
  'track_package: returnSignature 1': SENT,
  'track_package: returnSignature 2': { errors: ['returnSignature bool_parsing'] },
  'track_package: returnSignature a list': {
    errors: ['returnSignature bool_type'],
    text: /input_value=\[True\]/,
  },
  'track_package: returnSignature "null"': {
    errors: ['returnSignature bool_type'],
    text: /input_value=None/,
  },
  'track_package: no inquiryNumber': {
    errors: ['inquiryNumber missing'],
    text: /input_value=\{'locale': 'en_US'\}/,
  },
  'validate_address: missing required arguments': {
    errors: ['politicalDivision1 missing', 'politicalDivision2 missing', 'zipPrimary missing'],
  },

  'create_shipment: request_body a long text': {
    errors: ['request_body dict_type'],
    text: /input_value='xxxxxxxxxxxxxxxxxxxxxxxx\.\.\.xxxxxxxxxxxxxxxxxxxxxxx', input_type=str/,
  },
  'rate_shipment: requestoption with a quote': { text: /^Invalid requestoption 'it's'\. Allowed values/ },
  'track_package: returnSignature "TRUE"': SENT,
  'track_package: returnSignature " true"': { errors: ['returnSignature bool_parsing'] },
  'void_shipment: trackingnumber null': SENT,
  'void_shipment: trackingnumber an object': {
    errors: ['trackingnumber.str string_type', 'trackingnumber.list[str] list_type'],
    text: /input_value=\{'a': 1\}, input_type=dict/,
  },

  // local refusal vs. sent to UPS
  'void_shipment: empty shipmentidentificationnumber': SENT,
  'create_shipment: complete domestic shipment': SENT,
  'create_shipment: two payers in the second charge': SENT,
  'create_shipment: unknown argument idempotency_key is ignored': SENT,
  'create_shipment: Request missing: RequestOption defaulted': SENT,
  'create_shipment: Package a single object': SENT,
  'create_shipment: Shipment.Description over 50 characters (domestic)': SENT,
  'create_shipment: CustomerContext over 512 characters': SENT,
  'rate_shipment: complete Rate': SENT,
  'rate_shipment: lower-case requestoption "shop"': SENT,
  'recover_label: request_body {}': SENT,
  'recover_label: LabelRecoveryRequest a string': SENT,
  'recover_label: by tracking number': SENT,
  'void_shipment: unknown shipment': SENT,
  'track_package: unknown package': SENT,
  'validate_address: complete address': SENT,
  'validate_address: response_format is not an argument': SENT,

  // rate shopping: Shop needs no service (and looks at none); get_time_in_transit checks only its arguments
  'rate_shipment: Shop with request_body {}': unsupported(EVERYTHING.filter((f) => f !== 'service_code')),
  'rate_shipment: Shoptimeintransit without Service': SENT,
  'rate_shipment: Shop with an unknown service code': SENT,
  'rate_shipment: Shop to a residential address': SENT,
  'rate_shipment: Shop without packaging': unsupported(PACKAGE_1),
  'rate_shipment: requestoption "shopping" is not Shop: a service is required': unsupported(['service_code']),
  'get_time_in_transit: no arguments': {
    errors: ['request_body missing'],
    text: /input_value=\{\}, input_type=dict/,
  },
  'get_time_in_transit: body fields as arguments of their own': {
    errors: ['request_body missing'],
    text: /input_value=\{'originCountryCode': 'US\.\.\./,
  },
  'get_time_in_transit: request_body not JSON': {
    errors: ['request_body dict_type'],
    text: /input_value='US to US', input_type=str/,
  },
  'get_time_in_transit: request_body as a JSON list string': {
    errors: ['request_body dict_type'],
    text: /input_value=\[\{'originCountryCode': 'US'\}\], input_type=list/,
  },
  'get_time_in_transit: request_body null': {
    errors: ['request_body dict_type'],
    text: /input_value=None, input_type=NoneType/,
  },
  'get_time_in_transit: request_body a long text': {
    errors: ['request_body dict_type'],
    text: /input_value='yyyyyyyyyyyyyyyyyyyyyyyy\.\.\.yyyyyyyyyyyyyyyyyyyyyyy', input_type=str/,
  },
  'get_time_in_transit: request_body as a JSON string': SENT,
  'get_time_in_transit: version null': { errors: ['version string_type'] },
  'get_time_in_transit: version a number': { errors: ['version string_type'] },
  'get_time_in_transit: trans_id a number': { errors: ['trans_id string_type'] },
  'get_time_in_transit: transaction_src a list': { errors: ['transaction_src string_type'] },
  'get_time_in_transit: complete domestic request': SENT,
  'get_time_in_transit: complete international request': SENT,
  'get_time_in_transit: request_body {}': SENT,
  'get_time_in_transit: originCountryCode only': SENT,
  'get_time_in_transit: fields of the wrong JSON types': SENT,
  'get_time_in_transit: a 100,000-character postal code': SENT,
  'get_time_in_transit: unknown country code': SENT,
  'get_time_in_transit: unknown argument idempotency_key is ignored': SENT,
  'get_time_in_transit: empty version and trans_id': SENT,

  // pickup tools: arguments (pydantic: Literal, int and float arguments)
  'schedule_pickup: no arguments': {
    errors: [
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
    ].map((f) => `${f} missing`),
  },
  'rate_pickup: no arguments': {
    errors: [
      'pickup_type',
      'address_line',
      'city',
      'state',
      'postal_code',
      'country_code',
      'pickup_date',
      'ready_time',
      'close_time',
    ].map((f) => `${f} missing`),
  },
  'cancel_pickup: no arguments': { errors: ['cancel_by missing'] },
  'get_pickup_status: no arguments': { errors: ['pickup_type missing'] },
  'get_pickup_status: pickup_type in capitals': {
    errors: ['pickup_type literal_error'],
    text: /Input should be 'oncall', 'smart' or 'both' \[type=literal_error, input_value='ONCALL', input_type=str\]/,
  },
  'get_pickup_status: pickup_type a number': {
    errors: ['pickup_type literal_error'],
    text: /input_value=1, input_type=int/,
  },
  'get_pickup_status: pickup_type "null"': {
    errors: ['pickup_type literal_error'],
    text: /input_value=None, input_type=NoneType/,
  },
  'get_pickup_status: pickup_type a JSON list string': {
    errors: ['pickup_type literal_error'],
    text: /input_value=\['oncall'\], input_type=list/,
  },
  'cancel_pickup: cancel_by "PRN"': {
    errors: ['cancel_by literal_error'],
    text: /Input should be 'account' or 'prn'/,
  },
  'schedule_pickup: five arguments of the wrong kind': {
    errors: [
      'residential_indicator literal_error',
      'quantity int_from_float',
      'weight float_parsing',
      'weight_unit literal_error',
      'rate_pickup_indicator literal_error',
    ],
    text: /Input should be a valid integer, got a number with a fractional part/,
  },
  'schedule_pickup: quantity "abc", weight null': { errors: ['quantity int_parsing', 'weight float_type'] },
  'schedule_pickup: quantity "[1]", weight "null"': { errors: ['quantity int_type', 'weight float_type'] },
  'schedule_pickup: quantity 1e21': {
    errors: ['quantity int_parsing_size'],
    text: /input_value=1e\+21, input_type=float/,
  },
  'schedule_pickup: quantity "1e3"': { errors: ['quantity int_parsing'] },
  'schedule_pickup: contact_name and pickup_date numbers': {
    errors: ['pickup_date string_type', 'contact_name string_type'],
  },
  'rate_pickup: service_date_option "04", quantity 2.5': {
    errors: ['service_date_option literal_error', 'quantity int_from_float'],
    text: /Input should be '01', '02' or '03'/,
  },
  'schedule_pickup: padded and underscored numbers are numbers': SENT,
  'schedule_pickup: quantity true is 1': SENT,

  // pickup tools: the real tools' own checks
  'schedule_pickup: ready_time after close_time': {
    text: /^ready_time \(1700\) must be before close_time \(0900\)$/,
  },
  'schedule_pickup: ready_time equal to close_time': {
    text: /^ready_time \(1200\) must be before close_time \(1200\)$/,
  },
  'schedule_pickup: "900" is after "1700" as text': {
    text: /^ready_time \(900\) must be before close_time \(1700\)$/,
  },
  'schedule_pickup: empty ready and close times': {
    text: /^ready_time \(\) must be before close_time \(\)$/,
  },
  'schedule_pickup: no account, payment by shipper account': {
    text: /^Account number is required when payment_method='01' \(pay by shipper account\)\. Provide account_number argument or set UPS_ACCOUNT_NUMBER env var\.$/,
  },
  'schedule_pickup: no account, payment_method "00"': SENT,
  'schedule_pickup: account from UPS_ACCOUNT_NUMBER': SENT,
  'cancel_pickup: by prn without prn': { text: /^prn is required when cancel_by='prn'$/ },
  'cancel_pickup: by account without UPS_ACCOUNT_NUMBER': {
    text: /^AccountNumber is required via argument or UPS_ACCOUNT_NUMBER env var$/,
  },
  'cancel_pickup: by account with UPS_ACCOUNT_NUMBER': SENT,
  'get_pickup_status: no account': {
    text: /^AccountNumber is required via argument or UPS_ACCOUNT_NUMBER env var$/,
  },
  'get_pickup_status: account as an argument': SENT,
  'get_pickup_status: account from UPS_ACCOUNT_NUMBER': SENT,
  'rate_pickup: ready after close is not checked': SENT,

  // pickup tools: sent to UPS as they are
  'schedule_pickup: complete request': SENT,
  'schedule_pickup: a 100,000-character address line': SENT,
  'schedule_pickup: pickup_date not YYYYMMDD': SENT,
  'schedule_pickup: unknown argument idempotency_key is ignored': SENT,
  'cancel_pickup: unknown PRN': SENT,
  'cancel_pickup: a 10,000-character PRN': SENT,
  'rate_pickup: complete request': SENT,
  'get_pickup_status: smart pickups': SENT,
};

function check(c: ConformanceCase, result: CallToolResult): void {
  const expected = EXPECTED[c.name];
  assert.ok(expected, `no expectation written for ${c.name}`);
  const got = outcome(result);
  if ('sent' in expected) {
    assert.equal(got.kind, 'ups', `${c.name}: reaches UPS (${JSON.stringify(got)})`);
  } else if ('code' in expected) {
    assert.equal(got.kind, 'refused', `${c.name}: ${JSON.stringify(got)}`);
    if (got.kind !== 'refused') return;
    assert.equal(got.code, expected.code, c.name);
    assert.equal(got.reason, expected.reason, c.name);
    assert.deepEqual([...got.missing].sort(), [...expected.missing].sort(), c.name);
    if (expected.message) assert.match(got.message, expected.message, c.name);
  } else if ('errors' in expected) {
    assert.equal(got.kind, 'arguments', `${c.name}: ${JSON.stringify(got)}`);
    if (got.kind !== 'arguments') return;
    assert.deepEqual(got.errors, expected.errors, c.name);
    if (expected.text) assert.match(got.text, expected.text, c.name);
    assert.match(got.text, /For further information visit https:\/\/errors\.pydantic\.dev\//, c.name);
  } else {
    assert.equal(got.kind, 'text', `${c.name}: ${JSON.stringify(got)}`);
    if (got.kind === 'text') assert.match(got.text, expected.text, c.name);
  }
}

async function stdioClient(dataDir: string, env: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'conformance-test', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [SANDBOX_BIN],
    env: { PATH: process.env.PATH ?? '', UPS_SANDBOX_DATA_DIR: dataDir, ...env },
    stderr: 'ignore',
  });
  await client.connect(transport);
  return client;
}

const call = async (client: Client, c: ConformanceCase) =>
  (await client.callTool({ name: c.tool!, arguments: c.args ?? {} }, undefined, {
    timeout: 30_000,
  })) as CallToolResult;

describe('ups-sandbox decides like the real ups-mcp server (stdio)', () => {
  let dir: string;
  let plain: Client;
  let withAccount: Client;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-conformance-'));
    plain = await stdioClient(path.join(dir, 'plain'));
    withAccount = await stdioClient(path.join(dir, 'account'), { UPS_ACCOUNT_NUMBER: 'A1B2C3' });
  });
  after(async () => {
    await plain.close();
    await withAccount.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const toolCases = CONFORMANCE_CASES.filter(
    (c) => c.call === 'tool' && !c.elicitation && c.tool !== 'no_such_tool',
  );
  for (const kind of ['structure', 'rules', 'defaults', 'arguments', 'local_vs_ups'] as const) {
    test(`${kind}: every case answers as the real server did`, async () => {
      const cases = toolCases.filter((c) => c.kind === kind);
      assert.ok(cases.length >= 3, `${kind} has cases`);
      for (const c of cases) check(c, await call(c.accountNumber ? withAccount : plain, c));
    });
  }

  test('every comparison case has a hand-written expectation (and no stale ones)', () => {
    const names = new Set(toolCases.map((c) => c.name));
    assert.deepEqual(
      Object.keys(EXPECTED).filter((n) => !names.has(n)),
      [],
    );
    assert.deepEqual(
      [...names].filter((n) => !(n in EXPECTED)),
      [],
    );
  });

  test('a JSON string request_body is parsed and ships; an unknown idempotency_key protects nothing', async () => {
    const body = shipBody(shipment());
    const args = { request_body: JSON.stringify(body), idempotency_key: 'same-key' };
    const first = await plain.callTool({ name: 'create_shipment', arguments: args });
    const second = await plain.callTool({ name: 'create_shipment', arguments: args });
    const tracking = (r: typeof first) =>
      (
        r.structuredContent as {
          ShipmentResponse: { ShipmentResults: { ShipmentIdentificationNumber: string } };
        }
      ).ShipmentResponse.ShipmentResults.ShipmentIdentificationNumber;
    assert.ok(isValidUpsTrackingNumber(tracking(first)));
    assert.notEqual(tracking(first), tracking(second), 'the same key ships twice, as on the real server');
  });

  test('tool listing: the real arguments in the real order, no response_format or idempotency_key', async () => {
    const { tools } = await plain.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    const args = (name: string) => Object.keys(byName[name]!.inputSchema.properties ?? {});
    assert.deepEqual(args('create_shipment'), [
      'request_body',
      'version',
      'additionaladdressvalidation',
      'trans_id',
      'transaction_src',
    ]);
    assert.deepEqual(args('rate_shipment'), [
      'requestoption',
      'request_body',
      'version',
      'additionalinfo',
      'trans_id',
      'transaction_src',
    ]);
    assert.deepEqual(args('validate_address'), [
      'addressLine1',
      'politicalDivision1',
      'politicalDivision2',
      'zipPrimary',
      'countryCode',
      'addressLine2',
      'urbanization',
      'zipExtended',
      'trans_id',
      'transaction_src',
    ]);
    assert.deepEqual(args('void_shipment'), [
      'shipmentidentificationnumber',
      'version',
      'trackingnumber',
      'trans_id',
      'transaction_src',
    ]);
    assert.deepEqual(args('recover_label'), ['request_body', 'version', 'trans_id', 'transaction_src']);
    assert.deepEqual(args('get_time_in_transit'), ['request_body', 'version', 'trans_id', 'transaction_src']);
    assert.deepEqual(byName.get_time_in_transit!.inputSchema.required, ['request_body']);
    assert.deepEqual(byName.get_time_in_transit!.inputSchema.properties!.version, {
      type: 'string',
      default: 'v1',
      title: 'Version',
    });
    assert.deepEqual(byName.void_shipment!.inputSchema.required, ['shipmentidentificationnumber']);
    assert.deepEqual(byName.track_package!.inputSchema.properties!.returnSignature, {
      type: 'boolean',
      default: false,
      title: 'Returnsignature',
    });
  });

  test('unknown tool: the plain text the SDK answers', async () => {
    const result = (await plain.callTool({ name: 'no_such_tool', arguments: {} })) as CallToolResult;
    assert.equal(result.isError, true);
    assert.match((result.content[0] as { text: string }).text, /Unknown tool: no_such_tool/);
  });
});

/**
 * An MCP server in this process answering create_shipment / rate_shipment the way the sandbox
 * server does, with the call's elicitor from `formElicitor(server, extra)`.
 */
async function elicitingPair(
  capabilities: ClientCapabilities,
  answer: (request: ElicitRequest['params']) => ElicitResult,
): Promise<{ client: Client; asked: ElicitRequest['params'][]; close(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-elicit-'));
  const store = new ShipmentStore(dir);
  const knobs = new KnobSource({});
  const server = new Server({ ...SERVER_INFO }, { capabilities: SERVER_CAPABILITIES });
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const ctx: ups.UpsContext = { store, knobs: () => knobs.current(), elicit: formElicitor(server, extra) };
    const args = request.params.arguments ?? {};
    try {
      const body =
        request.params.name === 'rate_shipment'
          ? await ups.rateShipment(ctx, args)
          : await ups.createShipment(ctx, args);
      return { content: [{ type: 'text', text: JSON.stringify(body) }], structuredContent: body };
    } catch (err) {
      if (err instanceof ToolFailure) return toolErrorResult(request.params.name, err);
      throw err;
    }
  });
  const asked: ElicitRequest['params'][] = [];
  const client = new Client({ name: 'eliciting', version: '1.0.0' }, { capabilities });
  if (capabilities.elicitation) {
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      asked.push(request.params);
      return answer(request.params);
    });
  }
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  await client.connect(clientSide);
  return {
    client,
    asked,
    async close() {
      await client.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const withoutRecipientName = () => shipBody(shipment({ ShipTo: { ...shipTo(), Name: undefined } }));

describe('form elicitation of missing fields (SDK client with the elicitation capability)', () => {
  test('declined: the form asked for the missing field, the answer is ELICITATION_DECLINED', async () => {
    const pair = await elicitingPair({ elicitation: { form: {} } }, () => ({ action: 'decline' }));
    try {
      const result = await pair.client.callTool({
        name: 'create_shipment',
        arguments: { request_body: withoutRecipientName() },
      });
      assert.equal(pair.asked.length, 1);
      const asked = pair.asked[0]! as {
        message: string;
        requestedSchema: { properties: Record<string, unknown>; required: string[] };
      };
      assert.equal(asked.message, 'Missing 1 required field(s) for shipment creation.');
      assert.deepEqual(Object.keys(asked.requestedSchema.properties), ['ship_to_name']);
      assert.deepEqual(asked.requestedSchema.required, ['ship_to_name']);
      assert.deepEqual(asked.requestedSchema.properties.ship_to_name, {
        description: 'Recipient name',
        title: 'Ship To Name',
        type: 'string',
      });
      const got = outcome(result as CallToolResult);
      assert.deepEqual(got, {
        kind: 'refused',
        code: 'ELICITATION_DECLINED',
        reason: 'declined',
        missing: ['ship_to_name'],
        message: 'User declined to provide missing shipment creation fields',
      });
    } finally {
      await pair.close();
    }
  });

  test('accepted: the answer is written into the request and the shipment is created', async () => {
    const pair = await elicitingPair({ elicitation: {} }, () => ({
      action: 'accept',
      content: { ship_to_name: '  Bob Buyer ' },
    }));
    try {
      const result = await pair.client.callTool({
        name: 'create_shipment',
        arguments: { request_body: withoutRecipientName() },
      });
      assert.equal(result.isError, undefined);
      const id = (
        result.structuredContent as {
          ShipmentResponse: { ShipmentResults: { ShipmentIdentificationNumber: string } };
        }
      ).ShipmentResponse.ShipmentResults.ShipmentIdentificationNumber;
      assert.ok(isValidUpsTrackingNumber(id));
      assert.equal(pair.asked.length, 1);
    } finally {
      await pair.close();
    }
  });

  test('a wrong answer is asked again with the problem; three wrong answers end with ELICITATION_MAX_RETRIES', async () => {
    const body = shipBody(
      shipment({
        ShipTo: {
          Name: 'Bob',
          Address: {
            AddressLine: ['2 Congress Ave'],
            City: 'Austin',
            CountryCode: 'US',
            PostalCode: '78701',
          },
        },
      }),
    );
    const pair = await elicitingPair({ elicitation: { form: {} } }, () => ({
      action: 'accept',
      content: { ship_to_state: 'Texas' },
    }));
    try {
      const result = await pair.client.callTool({
        name: 'create_shipment',
        arguments: { request_body: body },
      });
      assert.equal(pair.asked.length, 3);
      assert.match(
        String(pair.asked[1]!.message),
        /^Please correct the following:\n- Recipient state\/province code: must be a 2-letter state\/province code\n\nMissing 1 required field/,
      );
      const got = outcome(result as CallToolResult);
      assert.equal(got.kind === 'refused' && got.code, 'ELICITATION_MAX_RETRIES');
    } finally {
      await pair.close();
    }
  });

  test('cancelled: ELICITATION_CANCELLED', async () => {
    const pair = await elicitingPair({ elicitation: { form: {} } }, () => ({ action: 'cancel' }));
    try {
      const result = await pair.client.callTool({
        name: 'create_shipment',
        arguments: { request_body: withoutRecipientName() },
      });
      const got = outcome(result as CallToolResult);
      assert.equal(got.kind === 'refused' && got.code, 'ELICITATION_CANCELLED');
    } finally {
      await pair.close();
    }
  });

  test('a form with a fixed-choice field fails before asking (ELICITATION_FAILED), as on the real server', async () => {
    const pair = await elicitingPair({ elicitation: { form: {} } }, () => ({ action: 'decline' }));
    try {
      const result = await pair.client.callTool({
        name: 'rate_shipment',
        arguments: {
          requestoption: 'Rate',
          request_body: { RateRequest: { Shipment: shipment({ Package: [{}] }) } },
        },
      });
      assert.equal(pair.asked.length, 0);
      const got = outcome(result as CallToolResult);
      assert.ok(got.kind === 'refused');
      assert.equal(got.code, 'ELICITATION_FAILED');
      assert.match(
        got.message,
        /^Elicitation request failed: Elicitation schema field 'package_1_packaging_code' must be a primitive type/,
      );
    } finally {
      await pair.close();
    }
  });

  test('structural fields are never asked for: STRUCTURAL_FIELDS_REQUIRED', async () => {
    const pair = await elicitingPair({ elicitation: { form: {} } }, () => ({ action: 'decline' }));
    try {
      const body = shipBody(shipment({ ShipTo: shipTo('CA'), Service: { Code: '11' } }));
      const result = await pair.client.callTool({
        name: 'create_shipment',
        arguments: { request_body: body },
      });
      assert.equal(pair.asked.length, 0);
      const got = outcome(result as CallToolResult);
      assert.ok(got.kind === 'refused');
      assert.equal(got.code, 'STRUCTURAL_FIELDS_REQUIRED');
      assert.deepEqual(got.missing, ['intl_forms_required']);
    } finally {
      await pair.close();
    }
  });

  test('a client without the capability, or with URL elicitation only, gets ELICITATION_UNSUPPORTED', async () => {
    for (const capabilities of [{}, { elicitation: { url: {} } }] as ClientCapabilities[]) {
      const pair = await elicitingPair(capabilities, () => ({ action: 'decline' }));
      try {
        const result = await pair.client.callTool({
          name: 'create_shipment',
          arguments: { request_body: withoutRecipientName() },
        });
        const got = outcome(result as CallToolResult);
        assert.equal(
          got.kind === 'refused' && got.code,
          'ELICITATION_UNSUPPORTED',
          JSON.stringify(capabilities),
        );
        assert.equal(pair.asked.length, 0);
      } finally {
        await pair.close();
      }
    }
  });
});
