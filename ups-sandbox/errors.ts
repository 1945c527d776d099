/**
 * Tool failures exactly as the real ups-mcp server reports them: a normal result with `isError: true`
 * and the text `Error executing tool <name>: <payload>`, where the payload is Python `json.dumps`
 * output (", " and ": " separators, non-ASCII escaped). UPS HTTP errors carry
 * `{status_code, code: "<http status>", message, details: <UPS body>}`; the UPS error code itself is
 * only in `details.response.errors[0].code`, as with the real server.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** UPS error codes the sandbox answers with (as UPS documents or uses them). */
export const UPS_CODES = {
  invalidShipperNumber: '120100',
  invalidShipToPostalCode: '120208',
  addressValidationFailed: '120802',
  serviceUnavailable: '111210',
  invalidWeight: '120500',
  weightExceedsLimit: '120506',
  rateLimited: '10429',
  systemUnavailable: '190001',
  systemBusy: '190002',
  invalidCredentials: '250002',
  voidNotFound: '190100',
  voidWindowExpired: '190102',
  alreadyVoided: '190117',
  labelNotFound: '190202',
  trackingNotFound: '151044',
  /**
   * A request that is not valid against UPS's schema (missing or malformed element). Taken from the
   * UPS OnLine Tools XML error list (10002: "well formed but not valid"); not confirmed for the REST APIs.
   */
  invalidRequest: '10002',
  /** UPS's common error "Missing Required field, {0}." (documented for all APIs). */
  missingRequiredField: '20007',
  /** UPS's common error "The field, {0}, contains invalid data, {1}." (documented for all APIs). */
  invalidFieldData: '20008',
  /** Tracking: an inquiry number that is not 7 to 34 characters (as a public client's fixture has it). */
  invalidInquiryNumber: 'TV1002',
  /**
   * Pickup: the pickup date is before today or too far ahead. The code is the one a public client's test
   * fixture (karrio) shows for "Invalid pickup date"; the other pickup codes below are the sandbox's own
   * (no public source lists the Pickup API's business-rule codes).
   */
  invalidPickupDate: '9560131',
  /** Pickup: a same-day pickup whose CloseTime has passed. */
  pickupCloseTimePassed: '9560133',
  /** Pickup: less than an hour between ReadyTime and CloseTime. */
  pickupWindowTooShort: '9560134',
  /** Pickup cancel: no such pickup (a PRN UPS never gave out, or no pickup to cancel for the account). */
  pickupNotFound: '9510112',
  /** Pickup cancel: the pickup was cancelled already. */
  pickupAlreadyCancelled: '9510113',
  /** Pickup cancel: the pickup's window is over (it was made, or missed); it can no longer be cancelled. */
  pickupNotCancellable: '9510114',
} as const;

/** A failure the tool reports; `payload` is the object (or plain text) after the prefix. */
export class ToolFailure extends Error {
  constructor(readonly payload: Record<string, unknown> | string) {
    super(typeof payload === 'string' ? payload : String(payload.message ?? payload.code));
    this.name = 'ToolFailure';
  }
}

/** A UPS API error response (non-2xx) as the real server wraps it. */
export function upsHttpError(
  statusCode: number,
  upsCode: string,
  message: string,
  extra: Record<string, unknown> = {},
): ToolFailure {
  return new ToolFailure({
    status_code: statusCode,
    code: String(statusCode),
    message,
    details: { response: { errors: [{ code: upsCode, message }] } },
    ...extra,
  });
}

/**
 * A UPS API error whose body lists its errors at the top level, `{"errors": [{code, message}]}` (the Time
 * in Transit API's errorResponse; Rating and Shipping nest them under `response`). The real server looks
 * for a code and message at the top and under `response` only, so it reports the HTTP status as the code
 * and "UPS API returned HTTP <status>" as the message; the UPS code is only in `details.errors`.
 */
export function upsErrorListHttpError(statusCode: number, upsCode: string, message: string): ToolFailure {
  return new ToolFailure({
    status_code: statusCode,
    code: String(statusCode),
    message: `UPS API returned HTTP ${statusCode}`,
    details: { errors: [{ code: upsCode, message }] },
  });
}

/** A transport-level failure between the server and UPS (timeout, connection refused, OAuth). */
export function requestError(message: string): ToolFailure {
  return new ToolFailure({ code: 'REQUEST_ERROR', message });
}

export function validationError(message: string, extra: Record<string, unknown> = {}): ToolFailure {
  return new ToolFailure({ code: 'VALIDATION_ERROR', message, ...extra });
}

/** Serialise like Python's `json.dumps` with default settings. */
export function pythonJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'NaN';
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return `{${entries.map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`).join(', ')}}`;
}

/** The tool result of a failure. */
export function toolErrorResult(tool: string, failure: ToolFailure): CallToolResult {
  const body = typeof failure.payload === 'string' ? failure.payload : pythonJson(failure.payload);
  return { isError: true, content: [{ type: 'text', text: `Error executing tool ${tool}: ${body}` }] };
}
