/**
 * The sandbox's tool list: the real ups-mcp tools we serve, with their argument names, defaults and
 * required lists as the real (FastMCP/pydantic) server publishes them.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';

type Property = Record<string, unknown>;
const str = (title: string, def?: string): Property => ({
  type: 'string',
  title,
  ...(def === undefined ? {} : { default: def }),
});
const bool = (title: string): Property => ({ type: 'boolean', title, default: false });
const object = (title: string): Property => ({ type: 'object', title, additionalProperties: true });
const common = { trans_id: str('Trans Id', ''), transaction_src: str('Transaction Src', 'ups-mcp') };

function tool(
  name: string,
  description: string,
  properties: Record<string, Property>,
  required: string[],
): Tool {
  return {
    name,
    description,
    inputSchema: {
      type: 'object',
      title: `${name}Arguments`,
      properties: { ...properties, ...common },
      required,
    },
    outputSchema: { type: 'object', additionalProperties: true },
  };
}

export const TOOLS: Tool[] = [
  tool(
    'track_package',
    'Track a UPS package by its inquiry (tracking) number.',
    {
      inquiryNumber: str('Inquirynumber'),
      locale: str('Locale', 'en_US'),
      returnSignature: bool('Returnsignature'),
      returnMilestones: bool('Returnmilestones'),
      returnPOD: bool('Returnpod'),
    },
    ['inquiryNumber'],
  ),
  tool(
    'validate_address',
    'Validate and classify a street address (UPS Address Validation - Street Level).',
    {
      addressLine1: str('Addressline1'),
      addressLine2: str('Addressline2', ''),
      politicalDivision1: str('Politicaldivision1'),
      politicalDivision2: str('Politicaldivision2'),
      zipPrimary: str('Zipprimary'),
      zipExtended: str('Zipextended', ''),
      urbanization: str('Urbanization', ''),
      countryCode: str('Countrycode'),
      response_format: str('Response Format', 'raw'),
    },
    ['addressLine1', 'politicalDivision1', 'politicalDivision2', 'zipPrimary', 'countryCode'],
  ),
  tool(
    'rate_shipment',
    'Rate a shipment (Rate) or shop all services (Shop); request_body holds a UPS RateRequest.',
    {
      requestoption: str('Requestoption'),
      request_body: object('Request Body'),
      version: str('Version', 'v2409'),
      additionalinfo: str('Additionalinfo', ''),
      response_format: str('Response Format', 'raw'),
    },
    ['requestoption', 'request_body'],
  ),
  tool(
    'create_shipment',
    'Create a shipment and its labels; request_body holds a UPS ShipmentRequest.',
    {
      request_body: object('Request Body'),
      version: str('Version', 'v2409'),
      additionaladdressvalidation: str('Additionaladdressvalidation', ''),
      response_format: str('Response Format', 'raw'),
      idempotency_key: str('Idempotency Key', ''),
    },
    ['request_body'],
  ),
  tool(
    'void_shipment',
    'Void a shipment (or some of its packages) within the void window.',
    {
      shipmentidentificationnumber: str('Shipmentidentificationnumber'),
      version: str('Version', 'v2409'),
      trackingnumber: {
        title: 'Trackingnumber',
        default: null,
        anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }, { type: 'null' }],
      },
    },
    ['shipmentidentificationnumber'],
  ),
  tool(
    'recover_label',
    'Recover the labels of a shipment by tracking number or by reference number and shipper number.',
    { request_body: object('Request Body'), version: str('Version', 'v1') },
    ['request_body'],
  ),
];

/**
 * Argument problems, worded like pydantic's validation errors the real server returns; empty when
 * the arguments are acceptable.
 */
export function argumentErrors(def: Tool, args: Record<string, unknown>): string | undefined {
  const problems: string[] = [];
  const props = def.inputSchema.properties as Record<string, Property>;
  for (const name of def.inputSchema.required ?? []) {
    if (args[name] === undefined)
      problems.push(`${name}\n  Field required [type=missing, input_value=${pyRepr(args)}, input_type=dict]`);
  }
  for (const [name, value] of Object.entries(args)) {
    const prop = props[name];
    if (!prop || value === undefined || value === null) continue;
    if (prop.type === 'string' && typeof value !== 'string') {
      problems.push(
        `${name}\n  Input should be a valid string [type=string_type, input_value=${pyRepr(value)}, input_type=${pyType(value)}]`,
      );
    } else if (prop.type === 'object' && (typeof value !== 'object' || Array.isArray(value))) {
      problems.push(
        `${name}\n  Input should be a valid dictionary [type=dict_type, input_value=${pyRepr(value)}, input_type=${pyType(value)}]`,
      );
    } else if (prop.type === 'boolean' && typeof value !== 'boolean') {
      problems.push(
        `${name}\n  Input should be a valid boolean [type=bool_type, input_value=${pyRepr(value)}, input_type=${pyType(value)}]`,
      );
    }
  }
  if (problems.length === 0) return undefined;
  const n = problems.length;
  return `${n} validation error${n > 1 ? 's' : ''} for ${def.name}Arguments\n${problems.join('\n')}`;
}

function pyType(v: unknown): string {
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'object') return 'dict';
  return 'str';
}

function pyRepr(v: unknown): string {
  const text = JSON.stringify(v) ?? 'None';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
