/**
 * The sandbox's tool list and argument handling: the real ups-mcp tools shipbatch uses, with the
 * argument names, order, types, defaults and required lists the real (FastMCP/pydantic) server
 * publishes, and its argument validation as observed:
 * - a string given for a non-string argument is parsed as JSON first when it holds an object, a
 *   list or null (`request_body: "{...}"` works; `"5"` and `"true"` stay strings);
 * - booleans accept true/false, 0/1 and the words pydantic knows ("true", "yes", "on", ...);
 * - unknown arguments are ignored;
 * - problems are reported as pydantic's "N validation error(s) for <tool>Arguments" text.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { isObj } from './json';
import { isPyInt, pydanticInputRepr, pyRepr, pyTypeName } from './python';

type Property = Record<string, unknown>;
type Kind = 'str' | 'bool' | 'dict' | 'str_list_none' | 'int' | 'float' | 'literal';

interface Arg {
  kind: Kind;
  title: string;
  default?: unknown;
  /** `literal`: the values allowed (Python `Literal[...]`). */
  choices?: readonly string[];
}

const str = (title: string, def?: string): Arg => ({
  kind: 'str',
  title,
  ...(def === undefined ? {} : { default: def }),
});
const bool = (title: string): Arg => ({ kind: 'bool', title, default: false });
const dict = (title: string): Arg => ({ kind: 'dict', title });
const int = (title: string, def: number): Arg => ({ kind: 'int', title, default: def });
const float = (title: string, def: number): Arg => ({ kind: 'float', title, default: def });
const literal = (title: string, choices: readonly string[], def?: string): Arg => ({
  kind: 'literal',
  title,
  choices,
  ...(def === undefined ? {} : { default: def }),
});
const PICKUP_TYPES = ['oncall', 'smart', 'both'] as const;
const YES_NO = ['Y', 'N'] as const;
const common = { trans_id: str('Trans Id', ''), transaction_src: str('Transaction Src', 'ups-mcp') };

/** Argument definitions in the order of the real tool functions' signatures. */
const ARGUMENTS: Record<string, Record<string, Arg>> = {
  track_package: {
    inquiryNumber: str('Inquirynumber'),
    locale: str('Locale', 'en_US'),
    returnSignature: bool('Returnsignature'),
    returnMilestones: bool('Returnmilestones'),
    returnPOD: bool('Returnpod'),
    ...common,
  },
  validate_address: {
    addressLine1: str('Addressline1'),
    politicalDivision1: str('Politicaldivision1'),
    politicalDivision2: str('Politicaldivision2'),
    zipPrimary: str('Zipprimary'),
    countryCode: str('Countrycode'),
    addressLine2: str('Addressline2', ''),
    urbanization: str('Urbanization', ''),
    zipExtended: str('Zipextended', ''),
    ...common,
  },
  rate_shipment: {
    requestoption: str('Requestoption'),
    request_body: dict('Request Body'),
    version: str('Version', 'v2409'),
    additionalinfo: str('Additionalinfo', ''),
    ...common,
  },
  create_shipment: {
    request_body: dict('Request Body'),
    version: str('Version', 'v2409'),
    additionaladdressvalidation: str('Additionaladdressvalidation', ''),
    ...common,
  },
  void_shipment: {
    shipmentidentificationnumber: str('Shipmentidentificationnumber'),
    version: str('Version', 'v2409'),
    trackingnumber: { kind: 'str_list_none', title: 'Trackingnumber', default: null },
    ...common,
  },
  recover_label: {
    request_body: dict('Request Body'),
    version: str('Version', 'v1'),
    ...common,
  },
  get_time_in_transit: {
    request_body: dict('Request Body'),
    version: str('Version', 'v1'),
    ...common,
  },
  rate_pickup: {
    pickup_type: literal('Pickup Type', PICKUP_TYPES),
    address_line: str('Address Line'),
    city: str('City'),
    state: str('State'),
    postal_code: str('Postal Code'),
    country_code: str('Country Code'),
    pickup_date: str('Pickup Date'),
    ready_time: str('Ready Time'),
    close_time: str('Close Time'),
    service_date_option: literal('Service Date Option', ['01', '02', '03'], '02'),
    residential_indicator: literal('Residential Indicator', YES_NO, 'Y'),
    service_code: str('Service Code', '001'),
    container_code: str('Container Code', '01'),
    quantity: int('Quantity', 1),
    destination_country_code: str('Destination Country Code', 'US'),
    ...common,
  },
  schedule_pickup: {
    pickup_date: str('Pickup Date'),
    ready_time: str('Ready Time'),
    close_time: str('Close Time'),
    address_line: str('Address Line'),
    city: str('City'),
    state: str('State'),
    postal_code: str('Postal Code'),
    country_code: str('Country Code'),
    contact_name: str('Contact Name'),
    phone_number: str('Phone Number'),
    residential_indicator: literal('Residential Indicator', YES_NO, 'N'),
    service_code: str('Service Code', '001'),
    container_code: str('Container Code', '01'),
    quantity: int('Quantity', 1),
    weight: float('Weight', 5.0),
    weight_unit: literal('Weight Unit', ['LBS', 'KGS'], 'LBS'),
    payment_method: str('Payment Method', '01'),
    rate_pickup_indicator: literal('Rate Pickup Indicator', YES_NO, 'N'),
    account_number: str('Account Number', ''),
    ...common,
  },
  cancel_pickup: {
    cancel_by: literal('Cancel By', ['account', 'prn']),
    prn: str('Prn', ''),
    ...common,
  },
  get_pickup_status: {
    pickup_type: literal('Pickup Type', PICKUP_TYPES),
    account_number: str('Account Number', ''),
    ...common,
  },
};

const DESCRIPTIONS: Record<string, string> = {
  track_package: 'Track a UPS package by its inquiry (tracking) number (UPS Track API).',
  validate_address: 'Validate and classify a street address (UPS Address Validation - Street Level).',
  rate_shipment:
    'Rate or shop a shipment using UPS Rating API (`POST /rating/{version}/{requestoption}`). If required fields ' +
    'are missing and the client supports form-mode elicitation, the server will prompt for the missing information.',
  create_shipment:
    'Create a shipment using UPS Shipping API (`POST /shipments/{version}/ship`). If required fields are missing ' +
    'and the client supports form-mode elicitation, the server will prompt for the missing information.',
  void_shipment:
    'Void a shipment using UPS Shipping API (`DELETE /shipments/{version}/void/cancel/{shipmentidentificationnumber}`).',
  recover_label: 'Recover forward or return labels (`POST /labels/{version}/recovery`).',
  get_time_in_transit:
    'Get transit-time estimates (`POST /shipments/{version}/transittimes`). `request_body` is a UPS ' +
    'TimeInTransitRequest: originCountryCode, originPostalCode, destinationCountryCode, ' +
    'destinationPostalCode, weight, weightUnitOfMeasure, shipDate, numberOfPackages, ...',
  rate_pickup:
    'Get pickup rate estimate (`POST /shipments/{version}/pickup/{pickuptype}`). pickup_date YYYYMMDD, ' +
    'ready_time and close_time HHMM (24 hr).',
  schedule_pickup:
    'Schedule a pickup (`POST /pickupcreation/{version}/pickup`). pickup_date YYYYMMDD, ready_time and ' +
    'close_time HHMM (24 hr), close_time after ready_time; account_number falls back to UPS_ACCOUNT_NUMBER.',
  cancel_pickup:
    "Cancel a scheduled pickup (`DELETE /shipments/{version}/pickup/{CancelBy}`): cancel_by 'account' or " +
    "'prn' (then prn, the Pickup Request Number, is required).",
  get_pickup_status:
    'Get pending pickup status (`GET /shipments/{version}/pickup/{pickuptype}`); account_number falls back ' +
    'to UPS_ACCOUNT_NUMBER.',
};

/** The JSON schema of an argument, with its keys in the order FastMCP prints them. */
function property(arg: Arg): Property {
  const schema: Property = {};
  if (arg.kind === 'str_list_none') {
    schema.anyOf = [{ type: 'string' }, { items: { type: 'string' }, type: 'array' }, { type: 'null' }];
  }
  if (arg.kind === 'dict') schema.additionalProperties = true;
  if ('default' in arg) schema.default = arg.default;
  if (arg.kind === 'literal') schema.enum = [...arg.choices!];
  schema.title = arg.title;
  const type = {
    str: 'string',
    bool: 'boolean',
    dict: 'object',
    int: 'integer',
    float: 'number',
    literal: 'string',
    str_list_none: undefined,
  }[arg.kind];
  if (type) schema.type = type;
  return schema;
}

function tool(name: string): Tool {
  const args = ARGUMENTS[name]!;
  return {
    name,
    description: DESCRIPTIONS[name],
    inputSchema: {
      type: 'object',
      properties: Object.fromEntries(Object.entries(args).map(([k, a]) => [k, property(a)])),
      required: Object.entries(args)
        .filter(([, a]) => !('default' in a))
        .map(([k]) => k),
      title: `${name}Arguments`,
    },
    outputSchema: { type: 'object', additionalProperties: true, title: `${name}DictOutput` },
  };
}

export const TOOLS: Tool[] = Object.keys(ARGUMENTS).map(tool);

/** The strings pydantic reads as booleans (case-insensitive, not trimmed). */
const TRUE_WORDS = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const FALSE_WORDS = new Set(['0', 'off', 'f', 'false', 'n', 'no']);

/** A string holding a JSON object, list or null, parsed; anything else unchanged. */
function preParse(kind: Kind, value: unknown): unknown {
  if (kind === 'str' || typeof value !== 'string') return value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return value;
  }
  return typeof parsed === 'string' || typeof parsed === 'number' || typeof parsed === 'boolean'
    ? value
    : parsed;
}

interface Problem {
  loc: string;
  type: string;
  message: string;
  input: unknown;
}

const MESSAGES: Record<string, string> = {
  missing: 'Field required',
  string_type: 'Input should be a valid string',
  dict_type: 'Input should be a valid dictionary',
  bool_type: 'Input should be a valid boolean',
  bool_parsing: 'Input should be a valid boolean, unable to interpret input',
  list_type: 'Input should be a valid list',
  int_type: 'Input should be a valid integer',
  int_parsing: 'Input should be a valid integer, unable to parse string as an integer',
  int_from_float: 'Input should be a valid integer, got a number with a fractional part',
  int_parsing_size: 'Unable to parse input string as an integer, exceeded maximum size',
  float_type: 'Input should be a valid number',
  float_parsing: 'Input should be a valid number, unable to parse string as a number',
};

/** pydantic's message for a value outside a `Literal[...]`: "Input should be 'a', 'b' or 'c'". */
function literalMessage(choices: readonly string[]): string {
  const shown = choices.map(pyRepr);
  return `Input should be ${shown.length > 1 ? `${shown.slice(0, -1).join(', ')} or ${shown.at(-1)}` : shown[0]}`;
}

/** The characters Rust's `str::trim` removes (Unicode White_Space), which pydantic-core trims from numbers. */
const RUST_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const RUST_TRIM = new RegExp(`^[${RUST_SPACE}]+|[${RUST_SPACE}]+$`, 'g');

/** Most digits pydantic reads into an int from text (Python's default `int_max_str_digits`). */
const MAX_INT_DIGITS = 4300;

/**
 * pydantic's lax int from text: optional sign, ASCII digits with single underscores between them and an
 * optional all-zero fraction (`" 3 "`, `"+1_000"`, `"3.00"`); not `"3.5"`, `"1e3"` or `"0x10"`.
 */
function intFromText(raw: string): bigint | 'int_parsing' | 'int_parsing_size' {
  const m = /^([+-]?)(\d+(?:_\d+)*)(?:\.0+)?$/.exec(raw.replace(RUST_TRIM, ''));
  if (!m) return 'int_parsing';
  const digits = m[2]!.replaceAll('_', '').replace(/^0+(?=\d)/, '');
  if (digits.length > MAX_INT_DIGITS) return 'int_parsing_size';
  return BigInt(`${m[1]}${digits}`);
}

/**
 * pydantic's lax float from text: like Python's `float()` (`"inf"`, `"nan"`, `"1e3"`, `".5"`) with
 * underscores dropped unless they lead, end or double (`"1_0.5"` is 10.5, `"_1"` is refused).
 */
function floatFromText(raw: string): number | undefined {
  const s = raw.replace(RUST_TRIM, '');
  if (s.startsWith('_') || s.endsWith('_') || s.includes('__')) return undefined;
  const t = s.replaceAll('_', '');
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(t);
  if (special) return special[2]!.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

const problem = (loc: string, type: string, input: unknown, message = MESSAGES[type]!): Problem => ({
  loc,
  type,
  message,
  input,
});

/** Validate one argument; returns its value as the tool sees it, or the problems. */
function validate(name: string, arg: Arg, value: unknown): { value: unknown; problems: Problem[] } {
  switch (arg.kind) {
    case 'str':
      return typeof value === 'string'
        ? { value, problems: [] }
        : { value, problems: [problem(name, 'string_type', value)] };
    case 'dict':
      return isObj(value)
        ? { value, problems: [] }
        : { value, problems: [problem(name, 'dict_type', value)] };
    case 'bool': {
      if (typeof value === 'boolean') return { value, problems: [] };
      if (typeof value === 'number') {
        if (value === 0 || value === 1) return { value: value === 1, problems: [] };
        return {
          value,
          problems: [problem(name, Number.isInteger(value) ? 'bool_parsing' : 'bool_type', value)],
        };
      }
      if (typeof value === 'string') {
        const word = value.toLowerCase();
        if (TRUE_WORDS.has(word)) return { value: true, problems: [] };
        if (FALSE_WORDS.has(word)) return { value: false, problems: [] };
        return { value, problems: [problem(name, 'bool_parsing', value)] };
      }
      return { value, problems: [problem(name, 'bool_type', value)] };
    }
    case 'literal':
      return typeof value === 'string' && arg.choices!.includes(value)
        ? { value, problems: [] }
        : { value, problems: [problem(name, 'literal_error', value, literalMessage(arg.choices!))] };
    case 'int': {
      // bool is an int to pydantic (True → 1).
      if (typeof value === 'boolean') return { value: BigInt(value ? 1 : 0), problems: [] };
      if (typeof value === 'number') {
        if (isPyInt(value)) return { value: BigInt(value), problems: [] };
        // A float: integral ones past the 64-bit range are refused, fractional ones always.
        const type = Number.isInteger(value) ? 'int_parsing_size' : 'int_from_float';
        return { value, problems: [problem(name, type, value)] };
      }
      if (typeof value === 'string') {
        const parsed = intFromText(value);
        return typeof parsed === 'bigint'
          ? { value: parsed, problems: [] }
          : { value, problems: [problem(name, parsed, value)] };
      }
      return { value, problems: [problem(name, 'int_type', value)] };
    }
    case 'float': {
      if (typeof value === 'boolean') return { value: value ? 1 : 0, problems: [] };
      if (typeof value === 'number') return { value, problems: [] };
      if (typeof value === 'string') {
        const parsed = floatFromText(value);
        return parsed === undefined
          ? { value, problems: [problem(name, 'float_parsing', value)] }
          : { value: parsed, problems: [] };
      }
      return { value, problems: [problem(name, 'float_type', value)] };
    }
    case 'str_list_none': {
      if (value === null || typeof value === 'string') return { value, problems: [] };
      if (Array.isArray(value)) {
        const bad = value.flatMap((v, i) =>
          typeof v === 'string' ? [] : [problem(`${name}.list[str].${i}`, 'string_type', v)],
        );
        return bad.length === 0
          ? { value, problems: [] }
          : { value, problems: [problem(`${name}.str`, 'string_type', value), ...bad] };
      }
      return {
        value,
        problems: [
          problem(`${name}.str`, 'string_type', value),
          problem(`${name}.list[str]`, 'list_type', value),
        ],
      };
    }
  }
}

/** The pydantic text of a tool's argument problems. */
function pydanticText(tool: string, problems: Problem[]): string {
  const n = problems.length;
  const lines = problems.map(
    (p) =>
      `${p.loc}\n  ${p.message} [type=${p.type}, input_value=${pydanticInputRepr(p.input)}, input_type=${pyTypeName(p.input)}]\n` +
      `    For further information visit https://errors.pydantic.dev/2.14/v/${p.type}`,
  );
  return `${n} validation error${n > 1 ? 's' : ''} for ${tool}Arguments\n${lines.join('\n')}`;
}

/**
 * The arguments as the tool function receives them (JSON strings parsed, booleans coerced,
 * defaults filled, unknown arguments dropped), or the pydantic error text.
 */
export function parseArguments(
  tool: string,
  raw: Record<string, unknown>,
): { ok: true; args: Record<string, unknown> } | { ok: false; error: string } {
  const defs = ARGUMENTS[tool];
  if (!defs) return { ok: false, error: `Unknown tool: ${tool}` };
  const input: Record<string, unknown> = { ...raw };
  for (const [name, arg] of Object.entries(defs)) {
    if (input[name] !== undefined) input[name] = preParse(arg.kind, input[name]);
  }
  const args: Record<string, unknown> = {};
  const problems: Problem[] = [];
  for (const [name, arg] of Object.entries(defs)) {
    const value = input[name];
    if (value === undefined) {
      if ('default' in arg) args[name] = arg.default;
      else problems.push(problem(name, 'missing', input));
      continue;
    }
    const checked = validate(name, arg, value);
    args[name] = checked.value;
    problems.push(...checked.problems);
  }
  return problems.length > 0 ? { ok: false, error: pydanticText(tool, problems) } : { ok: true, args };
}

/**
 * Argument problems worded like pydantic's validation errors the real server returns; undefined
 * when the arguments are acceptable.
 */
export function argumentErrors(def: Tool, args: Record<string, unknown>): string | undefined {
  const parsed = parseArguments(def.name, args);
  return parsed.ok ? undefined : parsed.error;
}
