/**
 * What every simulated UPS API shares: the call's context (store, knobs, account, clock, elicitor),
 * UPS's success block, the tool's parsed arguments and the UPS errors more than one API answers.
 */
import { isObj, type JsonObject } from '../json';
import type { FormElicitor } from '../elicitation';
import { ToolFailure, UPS_CODES, upsHttpError } from '../errors';
import type { Knobs } from '../knobs';
import type { ShipmentStore } from '../store';
import { pyRepr } from '../python';
import { parseArguments } from '../tools';

type Obj = JsonObject;

/** UPS's Response block of a success. */
export const SUCCESS = { ResponseStatus: { Code: '1', Description: 'Success' } };

/** What a simulated UPS call works with. */
export interface UpsContext {
  store: ShipmentStore;
  knobs: () => Knobs;
  /** UPS_ACCOUNT_NUMBER of the server's environment, if any. */
  accountNumber?: string;
  now?: () => Date;
  /** Form elicitation of the current call's client, when it declared the capability. */
  elicit?: FormElicitor;
}

/** UPS's Response block of a success, echoing the request's TransactionReference. */
export function successResponse(context: unknown): Obj {
  return { ...SUCCESS, ...(isObj(context) ? { TransactionReference: context } : {}) };
}

/** UPS 111210: the service is not offered on this lane (or not known at all). */
export function serviceUnavailable(): ToolFailure {
  return upsHttpError(
    400,
    UPS_CODES.serviceUnavailable,
    'The requested service is unavailable between the selected locations.',
  );
}

/** The arguments as the real tool function receives them (see tools.ts), or its pydantic error. */
export function toolArgs(tool: string, raw: Obj): Obj {
  const parsed = parseArguments(tool, raw);
  if (!parsed.ok) throw new ToolFailure(parsed.error);
  return parsed.args;
}

/** UPS's answer to a request that is not valid against its schema (missing or malformed element). */
export function invalidRequest(message: string): ToolFailure {
  return upsHttpError(400, UPS_CODES.invalidRequest, message);
}

/** Python's whitespace (`str.isspace`) at the start of a text: what `requests` calls leading whitespace. */
const PY_LEADING_SPACE = new RegExp(
  `^[${['\\t\\n\\v\\f\\r', '\\x1c-\\x1f', ' \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'].join('')}]`,
);

/**
 * What the real server's HTTP library does with the request headers it builds from the call's arguments
 * (`transId`, `transactionSrc`, and the pickup tools' `AccountNumber` / `Prn`), after its OAuth token
 * call: `requests` refuses a value with leading whitespace or a line break (REQUEST_ERROR), then
 * `http.client` encodes each value as Latin-1 (a character past U+00FF fails with Python's
 * UnicodeEncodeError, which the server reports as plain text). Undefined when every header goes out.
 */
export function headerFailure(headers: readonly (readonly [string, string])[]): ToolFailure | undefined {
  for (const [, value] of headers) {
    if (value !== '' && (PY_LEADING_SPACE.test(value) || /[\r\n]/.test(value))) {
      return new ToolFailure({
        code: 'REQUEST_ERROR',
        message: `Invalid leading whitespace, reserved character(s), or return character(s) in header value: ${pyRepr(value)}`,
      });
    }
  }
  for (const [, value] of headers) {
    const chars = [...value];
    const first = chars.findIndex((c) => c.codePointAt(0)! > 0xff);
    if (first < 0) continue;
    let end = first;
    while (end + 1 < chars.length && chars[end + 1]!.codePointAt(0)! > 0xff) end++;
    const what =
      end === first
        ? `character '${pyEscape(chars[first]!)}' in position ${first}`
        : `characters in position ${first}-${end}`;
    return new ToolFailure(`'latin-1' codec can't encode ${what}: ordinal not in range(256)`);
  }
  return undefined;
}

/** Python's escape of one character past Latin-1 in an encoding error: `\u20ac`, `\U0001f600`. */
function pyEscape(ch: string): string {
  const code = ch.codePointAt(0)!;
  return code > 0xffff
    ? `\\U${code.toString(16).padStart(8, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}
