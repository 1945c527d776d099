/**
 * The one UPS error classifier. Parses what a UPS MCP server reports (`Error executing tool <name>:
 * <json or text>`, or a broken session) and decides what a caller may do next:
 * - `retryable`: nothing happened at UPS; try again (after `retryAfterMs` when UPS said so);
 * - `definitive`: UPS (or the server) refused the request; retrying the same request cannot help;
 * - `ambiguous`: create_shipment only — the request may have reached UPS, so the shipment may exist:
 *   look it up by reference (recover_label) before shipping again.
 */
import { isObj, text, type JsonObject } from '../../domain/json';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { UpsTransportError } from './connection';

// Whether an error is about UPS itself rather than the row: ./outage (importers keep this path).
export { upsOutageOf, type UpsOutageSign } from './outage';

export type UpsErrorClass = 'retryable' | 'definitive' | 'ambiguous';

export type UpsErrorCategory =
  | 'rate_limit'
  | 'unavailable'
  | 'server'
  | 'transport'
  | 'auth'
  | 'shipper'
  | 'address'
  | 'service'
  | 'weight'
  | 'validation'
  | 'not_found'
  | 'already_voided'
  | 'void_window'
  | 'pickup'
  | 'already_cancelled'
  | 'tool_missing'
  | 'unknown';

export interface UpsErrorDetail {
  code: string;
  message: string;
}

/** A classified failure of one UPS MCP tool call. */
export class UpsError extends Error {
  readonly tool: string;
  readonly errorClass: UpsErrorClass;
  readonly category: UpsErrorCategory;
  /** HTTP status of the UPS response, when UPS answered. */
  readonly statusCode?: number;
  /** The server's top-level `code` (an HTTP status string, REQUEST_ERROR, VALIDATION_ERROR, ...). */
  readonly serverCode?: string;
  /** The first UPS error code (`details.response.errors` or, Time in Transit, `details.errors`), e.g. 120802. */
  readonly upsCode?: string;
  readonly upsErrors: UpsErrorDetail[];
  /** Fields the server said are missing (ELICITATION_UNSUPPORTED and the like). */
  readonly missing: string[];
  readonly retryAfterMs?: number;

  constructor(init: {
    tool: string;
    message: string;
    errorClass: UpsErrorClass;
    category: UpsErrorCategory;
    statusCode?: number;
    serverCode?: string;
    upsCode?: string;
    upsErrors?: UpsErrorDetail[];
    missing?: string[];
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    super(init.message, { cause: init.cause });
    this.name = 'UpsError';
    this.tool = init.tool;
    this.errorClass = init.errorClass;
    this.category = init.category;
    this.statusCode = init.statusCode;
    this.serverCode = init.serverCode;
    this.upsCode = init.upsCode;
    this.upsErrors = init.upsErrors ?? [];
    this.missing = init.missing ?? [];
    this.retryAfterMs = init.retryAfterMs;
  }

  get retryable(): boolean {
    return this.errorClass !== 'definitive';
  }

  /** The code to show and store: the UPS code when there is one, else the server's. */
  get code(): string {
    return this.upsCode ?? this.serverCode ?? this.category;
  }
}

type Obj = JsonObject;

const PREFIX = /^Error executing tool ([^:]+): ([\s\S]*)$/;

/** Split a tool error text into its tool name and payload (parsed JSON object, or the raw text). */
export function parseToolErrorText(text: string): { tool?: string; payload: Obj | string } {
  const m = PREFIX.exec(text.trim());
  const body = (m ? m[2]! : text).trim();
  if (body.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (isObj(parsed)) return { tool: m?.[1], payload: parsed };
    } catch {
      // not JSON after all: the text is the message
    }
  }
  return { tool: m?.[1], payload: body };
}

const DEFINITIVE_SERVER_CODES = new Set([
  'VALIDATION_ERROR',
  'MALFORMED_REQUEST',
  'ELICITATION_UNSUPPORTED',
  'STRUCTURAL_FIELDS_REQUIRED',
  'INVALID_RESPONSE_FORMAT',
  'ELICITATION_DECLINED',
  'ELICITATION_CANCELLED',
  'ELICITATION_FAILED',
  'ELICITATION_INVALID_RESPONSE',
  'ELICITATION_MAX_RETRIES',
]);

/**
 * UPS codes that mean "label recovery found no shipment" — the only answers a reconcile may read as
 * "not shipped". Any other failure of a lookup leaves the question open (never ship blind).
 */
export const LABEL_NOT_FOUND_CODES: ReadonlySet<string> = new Set(['190202']);

/** Category and class of a UPS error code (`details.response.errors[].code` or `details.errors[].code`). */
function classifyUpsCode(
  code: string,
): { category: UpsErrorCategory; errorClass: UpsErrorClass } | undefined {
  if (code === '10429') return { category: 'rate_limit', errorClass: 'retryable' };
  // UPS's common codes (all APIs) for a missing required field and for invalid data.
  if (code === '20007' || code === '20008') return { category: 'validation', errorClass: 'definitive' };
  if (code === '190001' || code === '190002') return { category: 'unavailable', errorClass: 'retryable' };
  if (code === '250002' || code === '250003' || code === '250001')
    return { category: 'auth', errorClass: 'definitive' };
  if (code === '120100') return { category: 'shipper', errorClass: 'definitive' };
  if (code === '190102') return { category: 'void_window', errorClass: 'definitive' };
  if (code === '190117') return { category: 'already_voided', errorClass: 'definitive' };
  if (code === '190100' || code === '190202' || code === '151044')
    return { category: 'not_found', errorClass: 'definitive' };
  // Pickup API: no such pickup (9510112), cancelled already (9510113: the cancel's goal holds), past its
  // window (9510114), a date, close time or window UPS will not take (9560131/3/4).
  if (code === '9510112') return { category: 'not_found', errorClass: 'definitive' };
  if (code === '9510113') return { category: 'already_cancelled', errorClass: 'definitive' };
  if (/^95(10114|6013[134])$/.test(code)) return { category: 'pickup', errorClass: 'definitive' };
  if (/^1205\d\d$/.test(code)) return { category: 'weight', errorClass: 'definitive' };
  if (/^1112\d\d$/.test(code)) return { category: 'service', errorClass: 'definitive' };
  if (/^120[1-9]\d\d$/.test(code)) return { category: 'address', errorClass: 'definitive' };
  return undefined;
}

/** UPS's errors: `details.response.errors`, else (Time in Transit's errors, at the top of its body) `details.errors`. */
function upsErrorsOf(payload: Obj): UpsErrorDetail[] {
  const details = isObj(payload.details) ? payload.details : {};
  const response = isObj(details.response) ? details.response : {};
  const errors = [response.errors, details.errors].find((e): e is unknown[] => Array.isArray(e)) ?? [];
  return errors.filter(isObj).map((e) => ({ code: text(e.code), message: text(e.message) }));
}

/** Seconds or an HTTP date, from wherever a server put it. */
function retryAfterMs(payload: Obj): number | undefined {
  const details = isObj(payload.details) ? payload.details : {};
  const headers = isObj(details.headers) ? details.headers : isObj(payload.headers) ? payload.headers : {};
  const raw =
    payload.retry_after ??
    payload.retryAfter ??
    headers['Retry-After'] ??
    headers['retry-after'] ??
    /retry[- ]after:? ?(\d+)/i.exec(text(payload.message))?.[1];
  if (raw === undefined || raw === null) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(text(raw));
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Plain-text failures the real server raises before it calls UPS: argument validation (pydantic), a
 * bad option or body, missing credentials, an unknown tool. Any other text may come from after the
 * call (an exception while reading UPS's answer).
 */
const PRE_CALL_TEXT =
  /validation errors? for |^Invalid requestoption|^request_body (must be|is required)|CLIENT_ID and CLIENT_SECRET|^unknown tool|^Operation (not found|is deprecated)|^trackingnumber must be/i;

/** How MCP servers say the tool does not exist. */
const MISSING_TOOL_TEXT = /unknown tool|tool .*not found/i;

/**
 * Classify a tool's `isError` result text. `creating` says whether the tool is the create-shipment
 * tool (its configured name may differ from `create_shipment`), whose failures may be ambiguous.
 */
export function classifyToolError(
  tool: string,
  errorText: string,
  creating = tool === 'create_shipment',
): UpsError {
  const { payload } = parseToolErrorText(errorText);
  if (typeof payload === 'string') {
    const missingTool = MISSING_TOOL_TEXT.test(payload);
    const preCall = PRE_CALL_TEXT.test(payload);
    return new UpsError({
      tool,
      message: payload || 'the UPS MCP server reported an error without a message',
      errorClass: creating && !preCall ? 'ambiguous' : 'definitive',
      category: missingTool
        ? 'tool_missing'
        : /CLIENT_ID|CLIENT_SECRET|credential/i.test(payload)
          ? 'auth'
          : preCall
            ? 'validation'
            : 'unknown',
    });
  }
  const statusCode = typeof payload.status_code === 'number' ? payload.status_code : undefined;
  const serverCode = payload.code === undefined ? undefined : text(payload.code);
  const upsErrors = upsErrorsOf(payload);
  const upsCode = upsErrors.find((e) => e.code)?.code;
  const missing = (Array.isArray(payload.missing) ? payload.missing : []).map((m) =>
    isObj(m) ? text(m.dot_path ?? m.flat_key) : text(m),
  );
  // "UPS API returned HTTP <status>": the server found no message where it looks (Time in Transit).
  const serverMessage = text(payload.message);
  const generic = !serverMessage || serverMessage === `UPS API returned HTTP ${statusCode}`;
  const message =
    (generic && upsErrors.find((e) => e.message)?.message) ||
    serverMessage ||
    `${tool} failed with ${serverCode ?? `HTTP ${statusCode ?? '?'}`}`;
  const base = { tool, statusCode, serverCode, upsCode, upsErrors, missing, message };

  const byCode = upsCode ? classifyUpsCode(upsCode) : undefined;
  if (statusCode === 429 || byCode?.category === 'rate_limit') {
    return new UpsError({
      ...base,
      errorClass: 'retryable',
      category: 'rate_limit',
      retryAfterMs: retryAfterMs(payload),
    });
  }
  if (byCode)
    return new UpsError({
      ...base,
      ...byCode,
      retryAfterMs: byCode.errorClass === 'retryable' ? retryAfterMs(payload) : undefined,
    });
  if (serverCode === 'REQUEST_ERROR') {
    const lower = message.toLowerCase();
    // requests' wording for an HTTP error status: "401 Client Error: Unauthorized for url: ...".
    if (/\b(401|403) client error\b/.test(lower))
      return new UpsError({ ...base, errorClass: 'definitive', category: 'auth' });
    // Refused, unresolvable or unconnectable endpoints, and any failure while fetching the OAuth
    // token, happen before the API request is sent; a read timeout or reset may come after.
    const neverSent =
      /connection refused|failed to establish|name or service not known|nodename nor servname|getaddrinfo|connecttimeout|connect timeout|\/oauth\/token/.test(
        lower,
      );
    return new UpsError({
      ...base,
      errorClass: creating && !neverSent ? 'ambiguous' : 'retryable',
      category: 'transport',
    });
  }
  if (serverCode && DEFINITIVE_SERVER_CODES.has(serverCode))
    return new UpsError({ ...base, errorClass: 'definitive', category: 'validation' });
  if (statusCode === 401 || statusCode === 403)
    return new UpsError({ ...base, errorClass: 'definitive', category: 'auth' });
  if (statusCode === 404 && !creating)
    return new UpsError({ ...base, errorClass: 'definitive', category: 'not_found' });
  if (statusCode === 408)
    return new UpsError({ ...base, errorClass: creating ? 'ambiguous' : 'retryable', category: 'transport' });
  if (statusCode !== undefined && statusCode >= 500) {
    // 503 means UPS did not take the request; a 500/502/504 may come after it was processed.
    const ambiguous = creating && statusCode !== 503;
    return new UpsError({
      ...base,
      errorClass: ambiguous ? 'ambiguous' : 'retryable',
      category: statusCode === 503 ? 'unavailable' : 'server',
      retryAfterMs: retryAfterMs(payload),
    });
  }
  if (statusCode !== undefined && statusCode >= 400)
    return new UpsError({ ...base, errorClass: 'definitive', category: 'validation' });
  // Unrecognised: never guess that a create did not happen.
  return new UpsError({ ...base, errorClass: creating ? 'ambiguous' : 'definitive', category: 'unknown' });
}

/** Classify a failure of the MCP session itself. */
export function classifyTransportError(
  tool: string,
  err: UpsTransportError,
  creating = tool === 'create_shipment',
): UpsError {
  return new UpsError({
    tool,
    message: err.message,
    errorClass: err.sent && creating ? 'ambiguous' : 'retryable',
    category: 'transport',
    cause: err,
  });
}

/** Classify anything a UPS call threw. */
export function classifyUpsFailure(
  tool: string,
  err: unknown,
  creating = tool === 'create_shipment',
): UpsError {
  if (err instanceof UpsError) return err;
  if (err instanceof UpsTransportError) return classifyTransportError(tool, err, creating);
  if (
    err instanceof McpError &&
    (err.code === (ErrorCode.MethodNotFound as number) || err.code === (ErrorCode.InvalidParams as number))
  ) {
    const missingTool =
      err.code === (ErrorCode.MethodNotFound as number) || MISSING_TOOL_TEXT.test(err.message);
    // The SDK also raises InvalidParams when a result fails its output schema, i.e. after the tool
    // ran: for a create that may have shipped.
    const afterRun = creating && !missingTool && /output schema|structured content/i.test(err.message);
    return new UpsError({
      tool,
      message: err.message,
      errorClass: afterRun ? 'ambiguous' : 'definitive',
      category: missingTool ? 'tool_missing' : 'validation',
      cause: err,
    });
  }
  const message = err instanceof Error ? err.message : text(err);
  return new UpsError({
    tool,
    message,
    errorClass: creating ? 'ambiguous' : 'retryable',
    category: 'unknown',
    cause: err,
  });
}

/** Failure type names the workflow and operators see (ApplicationFailure.type). */
export const UPS_FAILURE_TYPES = {
  retryable: 'UpsRetryableError',
  definitive: 'UpsRejectedError',
  ambiguous: 'UpsAmbiguousError',
} as const satisfies Record<UpsErrorClass, string>;

/**
 * The ApplicationFailure an activity throws for a UPS error: definitive errors are non-retryable and
 * carry the UPS code; retryable ones ask Temporal to wait Retry-After when UPS gave one.
 */
export function toActivityFailure(err: UpsError, about: { rowNo?: number } = {}): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${err.tool}: ${err.code}: ${err.message}`,
    type: UPS_FAILURE_TYPES[err.errorClass],
    nonRetryable: err.errorClass === 'definitive',
    details: [
      { code: err.code, category: err.category, upsErrors: err.upsErrors, missing: err.missing, ...about },
    ],
    nextRetryDelay: err.retryAfterMs === undefined ? undefined : Math.max(err.retryAfterMs, 1),
    cause: err,
  });
}
