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
import { pydanticInputRepr, pyTypeName } from './python';

type Property = Record<string, unknown>;
type Kind = 'str' | 'bool' | 'dict' | 'str_list_none';

interface Arg {
  kind: Kind;
  title: string;
  default?: unknown;
}

const str = (title: string, def?: string): Arg => ({
  kind: 'str',
  title,
  ...(def === undefined ? {} : { default: def }),
});
const bool = (title: string): Arg => ({ kind: 'bool', title, default: false });
const dict = (title: string): Arg => ({ kind: 'dict', title });
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
};

function property(arg: Arg): Property {
  const base: Property =
    arg.kind === 'str'
      ? { type: 'string' }
      : arg.kind === 'bool'
        ? { type: 'boolean' }
        : arg.kind === 'dict'
          ? { additionalProperties: true, type: 'object' }
          : { anyOf: [{ type: 'string' }, { items: { type: 'string' }, type: 'array' }, { type: 'null' }] };
  return { ...base, ...('default' in arg ? { default: arg.default } : {}), title: arg.title };
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
};

const problem = (loc: string, type: string, input: unknown): Problem => ({
  loc,
  type,
  message: MESSAGES[type]!,
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
