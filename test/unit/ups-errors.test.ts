import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import {
  classifyToolError,
  classifyUpsFailure,
  parseToolErrorText,
  toActivityFailure,
  UPS_FAILURE_TYPES,
  UpsError,
  upsOutageOf,
  type UpsErrorCategory,
  type UpsErrorClass,
  type UpsErrorDetail,
} from '../../activities/ups/errors';
import { UpsTransportError } from '../../activities/ups/connection';
import {
  requestError,
  toolErrorResult,
  ToolFailure,
  UPS_CODES,
  upsHttpError,
  validationError,
} from '../../ups-sandbox/errors';
import { elicitationUnsupported, type MissingField } from '../../ups-sandbox/preflight';
import { inProcessSandbox } from '../helpers/ups-sandbox';

/** A missing field as the sandbox's preflight reports it. */
const field = (dot_path: string, flat_key: string, prompt: string): MissingField => ({
  dot_path,
  flat_key,
  prompt,
  kind: 'string',
  elicitable: true,
});

const CREATE = 'create_shipment';
const RATE = 'rate_shipment';
const VOID = 'void_shipment';
const RECOVER = 'recover_label';
const TRACK = 'track_package';
const XAV = 'validate_address';
const TNT = 'get_time_in_transit';

/** What the sandbox answers get_time_in_transit for a negative weight (UPS 20008), as the real server prints it. */
const TNT_20008 =
  'Error executing tool get_time_in_transit: {"status_code": 400, "code": "400", "message": "UPS API returned HTTP 400", ' +
  '"details": {"errors": [{"code": "20008", "message": "The field, weight, contains invalid data, -1."}]}}';

/** The text the sandbox (like the real server) puts in the isError result of `tool`. */
function toolText(tool: string, failure: ToolFailure): string {
  const result = toolErrorResult(tool, failure);
  assert.equal(result.isError, true);
  const first = result.content[0];
  assert.ok(first && first.type === 'text');
  return first.text;
}

// Python requests/urllib3 messages as the real server passes them on (str(exc)).
const READ_TIMEOUT = `HTTPSConnectionPool(host='onlinetools.ups.com', port=443): Read timed out. (read timeout=30)`;
const CONNECTION_REFUSED =
  "HTTPSConnectionPool(host='wwwcie.ups.com', port=443): Max retries exceeded with url: /api/shipments/v2409/ship " +
  "(Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f2c3a1b5d90>: " +
  "Failed to establish a new connection: [Errno 111] Connection refused'))";
const DNS_FAILURE =
  "HTTPSConnectionPool(host='wwwcie.ups.com', port=443): Max retries exceeded with url: /api/rating/v2409/Rate " +
  "(Caused by NameResolutionError(\"<urllib3.connection.HTTPSConnection object at 0x7f2c3a1b5d90>: Failed to resolve 'wwwcie.ups.com' " +
  '([Errno -2] Name or service not known)"))';
const OAUTH_401 = '401 Client Error: Unauthorized for url: https://wwwcie.ups.com/security/v1/oauth/token';

interface Row {
  name: string;
  tool: string;
  text: string;
  errorClass: UpsErrorClass;
  category: UpsErrorCategory;
  code: string;
  statusCode?: number;
  retryAfterMs?: number;
  missing?: string[];
  upsErrors?: UpsErrorDetail[];
  message?: string;
}

const ROWS: Row[] = [
  // --- rate limiting ---
  {
    name: '429/10429 with retry_after 2 (sandbox fault)',
    tool: CREATE,
    text: toolText(
      CREATE,
      upsHttpError(429, UPS_CODES.rateLimited, 'Rate limit exceeded', { retry_after: 2 }),
    ),
    errorClass: 'retryable',
    category: 'rate_limit',
    code: '10429',
    statusCode: 429,
    retryAfterMs: 2000,
    upsErrors: [{ code: '10429', message: 'Rate limit exceeded' }],
    message: 'Rate limit exceeded',
  },
  {
    name: '429/10429 without retry_after',
    tool: CREATE,
    text: toolText(CREATE, upsHttpError(429, UPS_CODES.rateLimited, 'Rate limit exceeded')),
    errorClass: 'retryable',
    category: 'rate_limit',
    code: '10429',
    statusCode: 429,
    retryAfterMs: undefined,
  },
  {
    name: '429 literal as the real server prints it (UPS error without a code)',
    tool: RATE,
    text:
      'Error executing tool rate_shipment: {"status_code": 429, "code": "429", "message": "Rate limit exceeded", ' +
      '"details": {"response": {"errors": [{"message": "Rate limit exceeded"}]}}}',
    errorClass: 'retryable',
    category: 'rate_limit',
    code: '429',
    statusCode: 429,
    retryAfterMs: undefined,
    upsErrors: [{ code: '', message: 'Rate limit exceeded' }],
  },
  {
    name: '429 with the delay only in the message text',
    tool: RATE,
    text:
      'Error executing tool rate_shipment: {"status_code": 429, "code": "429", ' +
      '"message": "Too many requests. Retry after 5 seconds", "details": null}',
    errorClass: 'retryable',
    category: 'rate_limit',
    code: '429',
    retryAfterMs: 5000,
  },
  {
    name: 'UPS code 10429 under HTTP 400',
    tool: RATE,
    text: toolText(RATE, upsHttpError(400, UPS_CODES.rateLimited, 'Rate limit exceeded')),
    errorClass: 'retryable',
    category: 'rate_limit',
    code: '10429',
    statusCode: 400,
  },
  // --- UPS unavailable / server errors ---
  {
    name: '503/190001 on create (sandbox fault)',
    tool: CREATE,
    text: toolText(
      CREATE,
      upsHttpError(503, UPS_CODES.systemUnavailable, 'The UPS system is temporarily unavailable'),
    ),
    errorClass: 'retryable',
    category: 'unavailable',
    code: '190001',
    statusCode: 503,
  },
  {
    name: '503/190001 with retry_after 1.5',
    tool: RATE,
    text: toolText(
      RATE,
      upsHttpError(503, UPS_CODES.systemUnavailable, 'The UPS system is temporarily unavailable', {
        retry_after: 1.5,
      }),
    ),
    errorClass: 'retryable',
    category: 'unavailable',
    code: '190001',
    retryAfterMs: 1500,
  },
  {
    name: '190002 literal on create',
    tool: CREATE,
    text:
      'Error executing tool create_shipment: {"status_code": 503, "code": "503", "message": "The system is busy. Please try again.", ' +
      '"details": {"response": {"errors": [{"code": "190002", "message": "The system is busy. Please try again."}]}}}',
    errorClass: 'retryable',
    category: 'unavailable',
    code: '190002',
    statusCode: 503,
  },
  {
    name: '503 without a UPS code on create',
    tool: CREATE,
    text: 'Error executing tool create_shipment: {"status_code": 503, "code": "503", "message": "UPS API returned HTTP 503", "details": null}',
    errorClass: 'retryable',
    category: 'unavailable',
    code: '503',
  },
  {
    name: '500 on create_shipment is ambiguous (sandbox server_error fault)',
    tool: CREATE,
    text: toolText(
      CREATE,
      new ToolFailure({ status_code: 500, code: '500', message: 'UPS API returned HTTP 500', details: null }),
    ),
    errorClass: 'ambiguous',
    category: 'server',
    code: '500',
    statusCode: 500,
    upsErrors: [],
    message: 'UPS API returned HTTP 500',
  },
  {
    name: '500 on rate_shipment is retryable',
    tool: RATE,
    text: toolText(
      RATE,
      new ToolFailure({ status_code: 500, code: '500', message: 'UPS API returned HTTP 500', details: null }),
    ),
    errorClass: 'retryable',
    category: 'server',
    code: '500',
  },
  {
    name: '502 on create (non-JSON body kept as raw)',
    tool: CREATE,
    text:
      'Error executing tool create_shipment: {"status_code": 502, "code": "502", "message": "UPS API returned HTTP 502", ' +
      '"details": {"raw": "<html><body>Bad Gateway</body></html>"}}',
    errorClass: 'ambiguous',
    category: 'server',
    code: '502',
    statusCode: 502,
  },
  {
    name: '504 on create',
    tool: CREATE,
    text: 'Error executing tool create_shipment: {"status_code": 504, "code": "504", "message": "UPS API returned HTTP 504", "details": null}',
    errorClass: 'ambiguous',
    category: 'server',
    code: '504',
  },
  {
    name: '504 on void is retryable',
    tool: VOID,
    text: 'Error executing tool void_shipment: {"status_code": 504, "code": "504", "message": "UPS API returned HTTP 504", "details": null}',
    errorClass: 'retryable',
    category: 'server',
    code: '504',
  },
  {
    name: '408 on create is ambiguous',
    tool: CREATE,
    text: 'Error executing tool create_shipment: {"status_code": 408, "code": "408", "message": "UPS API returned HTTP 408", "details": null}',
    errorClass: 'ambiguous',
    category: 'transport',
    code: '408',
  },
  // --- transport (REQUEST_ERROR) ---
  {
    name: 'REQUEST_ERROR read timeout on create (sandbox fault) is ambiguous',
    tool: CREATE,
    text: toolText(CREATE, requestError(READ_TIMEOUT)),
    errorClass: 'ambiguous',
    category: 'transport',
    code: 'REQUEST_ERROR',
    statusCode: undefined,
    message: READ_TIMEOUT,
  },
  {
    name: 'REQUEST_ERROR read timeout on rate is retryable',
    tool: RATE,
    text: toolText(RATE, requestError(READ_TIMEOUT)),
    errorClass: 'retryable',
    category: 'transport',
    code: 'REQUEST_ERROR',
  },
  {
    name: 'REQUEST_ERROR read timeout literal (python repr quotes)',
    tool: CREATE,
    text:
      'Error executing tool create_shipment: {"code": "REQUEST_ERROR", "message": ' +
      `"HTTPSConnectionPool(host='wwwcie.ups.com', port=443): Read timed out. (read timeout=30)"}`,
    errorClass: 'ambiguous',
    category: 'transport',
    code: 'REQUEST_ERROR',
  },
  {
    name: 'REQUEST_ERROR connection refused on create was never sent',
    tool: CREATE,
    text: toolText(CREATE, requestError(CONNECTION_REFUSED)),
    errorClass: 'retryable',
    category: 'transport',
    code: 'REQUEST_ERROR',
  },
  {
    name: 'REQUEST_ERROR "Failed to establish a new connection" on create',
    tool: CREATE,
    text: toolText(
      CREATE,
      requestError('Failed to establish a new connection: [Errno -3] Temporary failure in name resolution'),
    ),
    errorClass: 'retryable',
    category: 'transport',
    code: 'REQUEST_ERROR',
  },
  {
    name: 'REQUEST_ERROR name resolution failure on rate',
    tool: RATE,
    text: toolText(RATE, requestError(DNS_FAILURE)),
    errorClass: 'retryable',
    category: 'transport',
    code: 'REQUEST_ERROR',
  },
  {
    name: 'REQUEST_ERROR with the OAuth 401 text is definitive auth',
    tool: CREATE,
    text: toolText(CREATE, requestError(OAUTH_401)),
    errorClass: 'definitive',
    category: 'auth',
    code: 'REQUEST_ERROR',
    message: OAUTH_401,
  },
  // Bad credentials as the real server answers them (measured: ups-mcp with CLIENT_ID/CLIENT_SECRET
  // refused by the OAuth endpoint). requests' raise_for_status() on the token call becomes
  // REQUEST_ERROR and UPS's own body (its 10401 "ClientId is Invalid" and the like) is dropped, so
  // the status in the text is all there is. Every tool answers the same way.
  ...[CREATE, RATE, VOID, RECOVER, TRACK, XAV].map((tool): Row => ({
    name: `bad credentials on ${tool} (measured real-server text): REQUEST_ERROR 401 from the token call`,
    tool,
    text: `Error executing tool ${tool}: {"code": "REQUEST_ERROR", "message": "${OAUTH_401}"}`,
    errorClass: 'definitive',
    category: 'auth',
    code: 'REQUEST_ERROR',
    statusCode: undefined,
    message: OAUTH_401,
  })),
  {
    name: 'credentials without the right (measured): REQUEST_ERROR 403 from the token call',
    tool: CREATE,
    text:
      'Error executing tool create_shipment: {"code": "REQUEST_ERROR", "message": ' +
      '"403 Client Error: Forbidden for url: https://onlinetools.ups.com/security/v1/oauth/token"}',
    errorClass: 'definitive',
    category: 'auth',
    code: 'REQUEST_ERROR',
  },
  {
    name: 'OAuth endpoint failing (measured): REQUEST_ERROR 500 from the token call on create was never sent',
    tool: CREATE,
    text:
      'Error executing tool create_shipment: {"code": "REQUEST_ERROR", "message": ' +
      '"500 Server Error: Internal Server Error for url: https://wwwcie.ups.com/security/v1/oauth/token"}',
    errorClass: 'retryable',
    category: 'transport',
    code: 'REQUEST_ERROR',
  },
  {
    name: 'no network (measured): proxy refused at the token call on create was never sent',
    tool: CREATE,
    text:
      'Error executing tool create_shipment: {"code": "REQUEST_ERROR", "message": "HTTPSConnectionPool(host=' +
      "'wwwcie.ups.com', port=443): Max retries exceeded with url: /security/v1/oauth/token (Caused by " +
      "ProxyError('Unable to connect to proxy', NewConnectionError(\\\"HTTPSConnection(host='127.0.0.1', port=9): " +
      'Failed to establish a new connection: [Errno 111] Connection refused\\")))"}',
    errorClass: 'retryable',
    category: 'transport',
    code: 'REQUEST_ERROR',
  },
  // --- auth ---
  {
    name: '401/250002',
    tool: CREATE,
    text: toolText(CREATE, upsHttpError(401, '250002', 'Invalid Authentication Information.')),
    errorClass: 'definitive',
    category: 'auth',
    code: '250002',
    statusCode: 401,
  },
  {
    name: '403/250003',
    tool: RATE,
    text: toolText(RATE, upsHttpError(403, '250003', 'Invalid Access License number')),
    errorClass: 'definitive',
    category: 'auth',
    code: '250003',
    statusCode: 403,
  },
  {
    name: '401 literal without a UPS code',
    tool: RATE,
    text: 'Error executing tool rate_shipment: {"status_code": 401, "code": "401", "message": "UPS API returned HTTP 401", "details": null}',
    errorClass: 'definitive',
    category: 'auth',
    code: '401',
  },
  {
    name: '403 literal without a UPS code on create',
    tool: CREATE,
    text: 'Error executing tool create_shipment: {"status_code": 403, "code": "403", "message": "Forbidden", "details": {"raw": "Forbidden"}}',
    errorClass: 'definitive',
    category: 'auth',
    code: '403',
  },
  {
    name: 'missing credentials (plain text ValueError)',
    tool: CREATE,
    text: 'Error executing tool create_shipment: CLIENT_ID and CLIENT_SECRET must be set in environment variables.',
    errorClass: 'definitive',
    category: 'auth',
    code: 'auth',
  },
  // --- definitive UPS rejections by code ---
  {
    name: '120100 invalid shipper number',
    tool: CREATE,
    text: toolText(
      CREATE,
      upsHttpError(400, UPS_CODES.invalidShipperNumber, 'Missing or invalid shipper number'),
    ),
    errorClass: 'definitive',
    category: 'shipper',
    code: '120100',
    statusCode: 400,
  },
  {
    name: '120802 address validation failed',
    tool: CREATE,
    text: toolText(
      CREATE,
      upsHttpError(400, UPS_CODES.addressValidationFailed, 'Address Validation Error on ShipTo address'),
    ),
    errorClass: 'definitive',
    category: 'address',
    code: '120802',
    upsErrors: [{ code: '120802', message: 'Address Validation Error on ShipTo address' }],
  },
  {
    name: '120208 invalid ShipTo postal code (literal, several UPS errors)',
    tool: RATE,
    text:
      'Error executing tool rate_shipment: {"status_code": 400, "code": "400", "message": "Invalid ShipTo postal code", ' +
      '"details": {"response": {"errors": [{"code": "120208", "message": "Invalid ShipTo postal code"}, ' +
      '{"code": "120802", "message": "Address Validation Error on ShipTo address"}]}}}',
    errorClass: 'definitive',
    category: 'address',
    code: '120208',
    upsErrors: [
      { code: '120208', message: 'Invalid ShipTo postal code' },
      { code: '120802', message: 'Address Validation Error on ShipTo address' },
    ],
  },
  {
    name: 'non-ASCII UPS message escaped like python json.dumps',
    tool: CREATE,
    text: toolText(CREATE, upsHttpError(400, UPS_CODES.addressValidationFailed, 'Adresse ungültig – Straße')),
    errorClass: 'definitive',
    category: 'address',
    code: '120802',
    message: 'Adresse ungültig – Straße',
  },
  {
    name: '111210 service unavailable between locations',
    tool: RATE,
    text: toolText(
      RATE,
      upsHttpError(
        400,
        UPS_CODES.serviceUnavailable,
        'The requested service is unavailable between the selected locations.',
      ),
    ),
    errorClass: 'definitive',
    category: 'service',
    code: '111210',
  },
  {
    name: '120500 invalid weight',
    tool: CREATE,
    text: toolText(CREATE, upsHttpError(400, UPS_CODES.invalidWeight, 'Invalid package weight')),
    errorClass: 'definitive',
    category: 'weight',
    code: '120500',
  },
  {
    name: '120506 weight exceeds limit',
    tool: RATE,
    text: toolText(
      RATE,
      upsHttpError(400, UPS_CODES.weightExceedsLimit, 'Package exceeds the maximum weight'),
    ),
    errorClass: 'definitive',
    category: 'weight',
    code: '120506',
  },
  {
    name: '190102 void window expired',
    tool: VOID,
    text: toolText(VOID, upsHttpError(400, UPS_CODES.voidWindowExpired, 'Time for voiding has expired')),
    errorClass: 'definitive',
    category: 'void_window',
    code: '190102',
  },
  {
    name: '190117 already voided',
    tool: VOID,
    text: toolText(VOID, upsHttpError(400, UPS_CODES.alreadyVoided, 'The shipment has already been voided')),
    errorClass: 'definitive',
    category: 'already_voided',
    code: '190117',
  },
  {
    name: '190100 void: no shipment found',
    tool: VOID,
    text: toolText(
      VOID,
      upsHttpError(400, UPS_CODES.voidNotFound, 'No shipment found for the shipment identification number'),
    ),
    errorClass: 'definitive',
    category: 'not_found',
    code: '190100',
  },
  {
    name: '190202 label not found',
    tool: RECOVER,
    text: toolText(RECOVER, upsHttpError(400, UPS_CODES.labelNotFound, 'No label found')),
    errorClass: 'definitive',
    category: 'not_found',
    code: '190202',
  },
  {
    name: '151044 tracking number not found',
    tool: TRACK,
    text: toolText(TRACK, upsHttpError(404, UPS_CODES.trackingNotFound, 'Tracking Information Not Found')),
    errorClass: 'definitive',
    category: 'not_found',
    code: '151044',
    statusCode: 404,
  },
  {
    name: '404 without a UPS code on track is not_found',
    tool: TRACK,
    text: 'Error executing tool track_package: {"status_code": 404, "code": "404", "message": "UPS API returned HTTP 404", "details": null}',
    errorClass: 'definitive',
    category: 'not_found',
    code: '404',
  },
  {
    name: 'other 4xx with an unknown UPS code is definitive validation',
    tool: XAV,
    text: toolText(XAV, upsHttpError(400, '9999999', 'Something UPS did not like')),
    errorClass: 'definitive',
    category: 'validation',
    code: '9999999',
  },
  // --- Time in Transit: UPS's errors at the top of its body, so the server reports details.errors ---
  {
    name: 'Time in Transit 20008 (invalid data) as the real server prints it: details.errors, no response wrapper',
    tool: TNT,
    text: TNT_20008,
    errorClass: 'definitive',
    category: 'validation',
    code: '20008',
    statusCode: 400,
    upsErrors: [{ code: '20008', message: 'The field, weight, contains invalid data, -1.' }],
    // The server found no message where it looks (message, response.errors): the UPS one is shown.
    message: 'The field, weight, contains invalid data, -1.',
  },
  {
    name: 'Time in Transit 20007 (missing field)',
    tool: TNT,
    text:
      'Error executing tool get_time_in_transit: {"status_code": 400, "code": "400", "message": "UPS API returned HTTP 400", ' +
      '"details": {"errors": [{"code": "20007", "message": "Missing Required field, originCountryCode."}]}}',
    errorClass: 'definitive',
    category: 'validation',
    code: '20007',
    statusCode: 400,
    upsErrors: [{ code: '20007', message: 'Missing Required field, originCountryCode.' }],
    message: 'Missing Required field, originCountryCode.',
  },
  {
    name: 'details.errors with a code that means UPS is down is still read (retryable, not a row error)',
    tool: TNT,
    text:
      'Error executing tool get_time_in_transit: {"status_code": 503, "code": "503", "message": "UPS API returned HTTP 503", ' +
      '"details": {"errors": [{"code": "190001", "message": "The service is temporarily unavailable"}]}}',
    errorClass: 'retryable',
    category: 'unavailable',
    code: '190001',
    statusCode: 503,
    message: 'The service is temporarily unavailable',
  },
  {
    name: "the server's own message wins over details.errors",
    tool: TNT,
    text:
      'Error executing tool get_time_in_transit: {"status_code": 400, "code": "400", "message": "Bad request", ' +
      '"details": {"errors": [{"code": "20008", "message": "The field, shipDate, contains invalid data, x."}]}}',
    errorClass: 'definitive',
    category: 'validation',
    code: '20008',
    message: 'Bad request',
  },
  {
    name: 'details.response.errors is read before details.errors',
    tool: RATE,
    text:
      'Error executing tool rate_shipment: {"status_code": 400, "code": "400", "message": "Invalid ShipTo postal code", ' +
      '"details": {"response": {"errors": [{"code": "120208", "message": "Invalid ShipTo postal code"}]}, ' +
      '"errors": [{"code": "20008", "message": "x"}]}}',
    errorClass: 'definitive',
    category: 'address',
    code: '120208',
    upsErrors: [{ code: '120208', message: 'Invalid ShipTo postal code' }],
  },
  {
    name: 'details.errors that is not a list of objects is ignored',
    tool: TNT,
    text:
      'Error executing tool get_time_in_transit: {"status_code": 400, "code": "400", "message": "UPS API returned HTTP 400", ' +
      '"details": {"errors": "20008"}}',
    errorClass: 'definitive',
    category: 'validation',
    code: '400',
    upsErrors: [],
    message: 'UPS API returned HTTP 400',
  },
  // --- server preflight ---
  {
    name: 'VALIDATION_ERROR missing path parameter',
    tool: VOID,
    text: toolText(VOID, validationError('Missing required path parameter: shipmentidentificationnumber')),
    errorClass: 'definitive',
    category: 'validation',
    code: 'VALIDATION_ERROR',
    message: 'Missing required path parameter: shipmentidentificationnumber',
  },
  {
    name: 'VALIDATION_ERROR (hosted) with flat_key strings in missing',
    tool: RATE,
    text:
      'Error executing tool rate_shipment: {"code": "VALIDATION_ERROR", "message": "Missing required field(s) for rate request.", ' +
      '"reason": "missing_rate_required_fields", "missing": ["package_1_weight", "ship_to_city"]}',
    errorClass: 'definitive',
    category: 'validation',
    code: 'VALIDATION_ERROR',
    missing: ['package_1_weight', 'ship_to_city'],
  },
  {
    name: 'MALFORMED_REQUEST ambiguous payer (literal)',
    tool: CREATE,
    text:
      'Error executing tool create_shipment: {"code": "MALFORMED_REQUEST", "message": "Ambiguous payer: multiple billing objects present ' +
      '(BillShipper, BillReceiver). Only one of BillShipper, BillReceiver, BillThirdParty is allowed per charge.", ' +
      '"reason": "ambiguous_payer", "missing": []}',
    errorClass: 'definitive',
    category: 'validation',
    code: 'MALFORMED_REQUEST',
    missing: [],
  },
  {
    name: 'ELICITATION_UNSUPPORTED (sandbox preflight): missing = the dot paths',
    tool: CREATE,
    text: toolText(
      CREATE,
      elicitationUnsupported([
        field(
          'ShipmentRequest.Shipment.Package[0].Packaging.Code',
          'package_1_packaging_code',
          'Packaging type code',
        ),
        field('ShipmentRequest.Shipment.ShipTo.Address.City', 'ship_to_city', 'Recipient city'),
      ]),
    ),
    errorClass: 'definitive',
    category: 'validation',
    code: 'ELICITATION_UNSUPPORTED',
    missing: [
      'ShipmentRequest.Shipment.Package[0].Packaging.Code',
      'ShipmentRequest.Shipment.ShipTo.Address.City',
    ],
    message: 'Missing 2 required field(s) and client does not support form elicitation',
  },
  {
    name: 'ELICITATION_UNSUPPORTED literal as the real server prints it',
    tool: RATE,
    text:
      'Error executing tool rate_shipment: {"code": "ELICITATION_UNSUPPORTED", "message": "Missing 1 required field(s) and client does not ' +
      'support form elicitation", "reason": "unsupported", "missing": [{"dot_path": "RateRequest.Shipment.Package[0].Packaging.Code", ' +
      '"flat_key": "package_1_packaging_code", "prompt": "Packaging type code"}]}',
    errorClass: 'definitive',
    category: 'validation',
    code: 'ELICITATION_UNSUPPORTED',
    missing: ['RateRequest.Shipment.Package[0].Packaging.Code'],
  },
  {
    name: 'STRUCTURAL_FIELDS_REQUIRED',
    tool: CREATE,
    text:
      'Error executing tool create_shipment: {"code": "STRUCTURAL_FIELDS_REQUIRED", "message": "Missing 1 structural field(s) that must be ' +
      'added directly to request_body (cannot be elicited via form)", "reason": "structural", "missing": [{"dot_path": ' +
      '"ShipmentRequest.Shipment.ShipmentServiceOptions.InternationalForms", "flat_key": "intl_forms_required", "prompt": "International forms"}]}',
    errorClass: 'definitive',
    category: 'validation',
    code: 'STRUCTURAL_FIELDS_REQUIRED',
    missing: ['ShipmentRequest.Shipment.ShipmentServiceOptions.InternationalForms'],
  },
  {
    name: 'INVALID_RESPONSE_FORMAT has no message key',
    tool: RATE,
    text: 'Error executing tool rate_shipment: {"code": "INVALID_RESPONSE_FORMAT", "allowed": ["raw", "shipagent_v1"]}',
    errorClass: 'definitive',
    category: 'validation',
    code: 'INVALID_RESPONSE_FORMAT',
    message: 'rate_shipment failed with INVALID_RESPONSE_FORMAT',
  },
  // --- plain text ---
  {
    name: 'plain text: invalid requestoption (sandbox)',
    tool: RATE,
    text: toolText(
      RATE,
      new ToolFailure(
        "Invalid requestoption 'Quote'. Allowed values: Rate, Ratetimeintransit, Shop, Shoptimeintransit",
      ),
    ),
    errorClass: 'definitive',
    category: 'validation',
    code: 'validation',
    message:
      "Invalid requestoption 'Quote'. Allowed values: Rate, Ratetimeintransit, Shop, Shoptimeintransit",
  },
  {
    name: 'plain text: pydantic argument validation',
    tool: CREATE,
    text:
      'Error executing tool create_shipment: 1 validation error for create_shipmentArguments\n' +
      'request_body\n' +
      "  Field required [type=missing, input_value={'version': 'v2409'}, input_type=dict]\n" +
      '    For further information visit https://errors.pydantic.dev/2.11/v/missing',
    errorClass: 'definitive',
    category: 'validation',
    code: 'validation',
  },
  {
    name: 'plain text that starts with "{" but is not JSON',
    tool: RATE,
    text: "Error executing tool rate_shipment: {'RateRequest': ...} is not valid",
    // Not a text the real server raises before calling UPS: unknown, but a rate changes nothing.
    errorClass: 'definitive',
    category: 'unknown',
    code: 'unknown',
    message: "{'RateRequest': ...} is not valid",
  },
  {
    name: 'Unknown tool (MCP SDK text, no prefix)',
    tool: 'x',
    text: 'Unknown tool: x',
    errorClass: 'definitive',
    category: 'tool_missing',
    code: 'tool_missing',
    message: 'Unknown tool: x',
  },
  {
    name: 'Unknown tool on create is definitive, not ambiguous',
    tool: CREATE,
    text: 'Unknown tool: create_shipment',
    errorClass: 'definitive',
    category: 'tool_missing',
    code: 'tool_missing',
  },
  // --- unrecognised payloads ---
  {
    name: '{} on create is ambiguous',
    tool: CREATE,
    text: 'Error executing tool create_shipment: {}',
    errorClass: 'ambiguous',
    category: 'unknown',
    code: 'unknown',
    upsErrors: [],
    missing: [],
    message: 'create_shipment failed with HTTP ?',
  },
  {
    name: '{} on rate is definitive',
    tool: RATE,
    text: 'Error executing tool rate_shipment: {}',
    errorClass: 'definitive',
    category: 'unknown',
    code: 'unknown',
  },
  {
    name: 'unknown server code on create is ambiguous',
    tool: CREATE,
    text: 'Error executing tool create_shipment: {"code": "SOMETHING_NEW", "message": "huh"}',
    errorClass: 'ambiguous',
    category: 'unknown',
    code: 'SOMETHING_NEW',
  },
  // --- without the "Error executing tool" prefix ---
  {
    name: 'JSON payload without the prefix',
    tool: RATE,
    text: '{"code": "REQUEST_ERROR", "message": "Read timed out. (read timeout=30)"}',
    errorClass: 'retryable',
    category: 'transport',
    code: 'REQUEST_ERROR',
    message: 'Read timed out. (read timeout=30)',
  },
  {
    name: 'plain text without the prefix',
    tool: CREATE,
    text: 'request_body must be a JSON object',
    errorClass: 'definitive',
    category: 'validation',
    code: 'validation',
    message: 'request_body must be a JSON object',
  },
];

for (const row of ROWS) {
  test(`classifyToolError: ${row.name}`, () => {
    const err = classifyToolError(row.tool, row.text);
    assert.ok(err instanceof UpsError);
    assert.equal(err.tool, row.tool);
    assert.deepEqual(
      { errorClass: err.errorClass, category: err.category, code: err.code },
      { errorClass: row.errorClass, category: row.category, code: row.code },
      row.text,
    );
    assert.equal(err.retryable, row.errorClass !== 'definitive');
    assert.equal(err.retryAfterMs, row.retryAfterMs);
    assert.deepEqual(err.missing, row.missing ?? []);
    if ('statusCode' in row) assert.equal(err.statusCode, row.statusCode);
    if (row.upsErrors) assert.deepEqual(err.upsErrors, row.upsErrors);
    if (row.message !== undefined) assert.equal(err.message, row.message);
    assert.ok(err.message.length > 0);
  });
}

test("Time in Transit's errors from the sandbox: UPS code and message read from details.errors, a row error", async (t) => {
  const sandbox = await inProcessSandbox(t);
  const transit = async (body: Record<string, unknown>): Promise<string> => {
    const result = await sandbox.call(TNT, { request_body: body });
    assert.equal(result.isError, true);
    const first = result.content[0];
    assert.ok(first && first.type === 'text');
    return first.text;
  };
  const lane = {
    originCountryCode: 'US',
    originPostalCode: '10005',
    destinationCountryCode: 'US',
    destinationPostalCode: '90001',
    weightUnitOfMeasure: 'LBS',
  };
  // The literal rows above are what the sandbox really answers.
  assert.equal(await transit({ ...lane, weight: '-1' }), TNT_20008);

  for (const [body, code, message] of [
    [{ ...lane, weight: '-1' }, '20008', 'The field, weight, contains invalid data, -1.'],
    [{ ...lane, originCountryCode: undefined }, '20007', 'Missing Required field, originCountryCode.'],
    [{ ...lane, shipDate: '12/04/2026' }, '20008', 'The field, shipDate, contains invalid data, 12/04/2026.'],
  ] as const) {
    const err = classifyToolError(TNT, await transit(body));
    assert.deepEqual(
      [err.errorClass, err.category, err.code, err.upsCode, err.statusCode, err.message],
      ['definitive', 'validation', code, code, 400, message],
    );
    assert.deepEqual(err.upsErrors, [{ code, message }]);
    assert.equal(err.retryable, false);
    // About the request, not UPS: no outage, and Temporal does not retry it.
    assert.equal(upsOutageOf(err), undefined);
    const failure = toActivityFailure(err, { rowNo: 7 });
    assert.equal(failure.nonRetryable, true);
    assert.equal(failure.type, UPS_FAILURE_TYPES.definitive);
    assert.equal(failure.message, `${TNT}: ${code}: ${message}`);
    assert.deepEqual(failure.details?.[0], {
      code,
      category: 'validation',
      upsErrors: [{ code, message }],
      missing: [],
      rowNo: 7,
    });
  }
});

test('classifyToolError: a failed OAuth token request that never reached UPS is not an auth rejection', () => {
  // The server fetches a token (POST .../security/v1/oauth/token) before every expired-token call;
  // when that request cannot connect or UPS's OAuth endpoint is down, nothing was sent and the
  // credentials were never judged. The `/oauth|401|403|.../` test in classifyToolError matches the
  // token URL (and any "401"/"403" inside a Python object address), so these become definitive auth.
  const inputs = [
    "HTTPSConnectionPool(host='wwwcie.ups.com', port=443): Max retries exceeded with url: /security/v1/oauth/token " +
      "(Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f2c3a1b5d90>: " +
      "Failed to establish a new connection: [Errno 111] Connection refused'))",
    '503 Server Error: Service Unavailable for url: https://wwwcie.ups.com/security/v1/oauth/token',
    CONNECTION_REFUSED.replace('0x7f2c3a1b5d90', '0x7f2c3a401d90'),
  ];
  for (const message of inputs) {
    const err = classifyToolError(CREATE, toolText(CREATE, requestError(message)));
    // Nothing reached the shipping API (the token request failed first), so retrying is safe.
    assert.equal(err.errorClass, 'retryable', message);
  }
});

test('the sandbox prints failures exactly like the real server (python json.dumps)', () => {
  assert.equal(
    toolText(RATE, upsHttpError(429, UPS_CODES.rateLimited, 'Rate limit exceeded')),
    'Error executing tool rate_shipment: {"status_code": 429, "code": "429", "message": "Rate limit exceeded", ' +
      '"details": {"response": {"errors": [{"code": "10429", "message": "Rate limit exceeded"}]}}}',
  );
  assert.equal(
    toolText(CREATE, requestError('network down')),
    'Error executing tool create_shipment: {"code": "REQUEST_ERROR", "message": "network down"}',
  );
  assert.equal(
    toolText(CREATE, upsHttpError(400, '120802', 'Straße')),
    'Error executing tool create_shipment: {"status_code": 400, "code": "400", "message": "Stra\\u00dfe", ' +
      '"details": {"response": {"errors": [{"code": "120802", "message": "Stra\\u00dfe"}]}}}',
  );
});

test('parseToolErrorText splits tool name and payload', () => {
  assert.deepEqual(
    parseToolErrorText(toolText(CREATE, upsHttpError(400, '120802', 'Address Validation Error'))),
    {
      tool: CREATE,
      payload: {
        status_code: 400,
        code: '400',
        message: 'Address Validation Error',
        details: { response: { errors: [{ code: '120802', message: 'Address Validation Error' }] } },
      },
    },
  );
  assert.deepEqual(
    parseToolErrorText(
      'Error executing tool rate_shipment: {"code": "REQUEST_ERROR", "message": "network down"}',
    ),
    { tool: RATE, payload: { code: 'REQUEST_ERROR', message: 'network down' } },
  );
  assert.deepEqual(
    parseToolErrorText(
      "Error executing tool rate_shipment: Invalid requestoption 'x'. Allowed values: Rate, Ratetimeintransit, Shop, Shoptimeintransit",
    ),
    {
      tool: RATE,
      payload: "Invalid requestoption 'x'. Allowed values: Rate, Ratetimeintransit, Shop, Shoptimeintransit",
    },
  );
  // Multi-line text stays whole; surrounding whitespace is dropped.
  assert.deepEqual(parseToolErrorText('  Error executing tool create_shipment: line 1\nline 2\n'), {
    tool: CREATE,
    payload: 'line 1\nline 2',
  });
  // Without the prefix: no tool, payload parsed when it is a JSON object.
  assert.deepEqual(parseToolErrorText('Unknown tool: x'), { tool: undefined, payload: 'Unknown tool: x' });
  assert.deepEqual(parseToolErrorText('{"code": "VALIDATION_ERROR"}'), {
    tool: undefined,
    payload: { code: 'VALIDATION_ERROR' },
  });
  // JSON that is not an object, or broken JSON, is text.
  assert.deepEqual(parseToolErrorText('Error executing tool void_shipment: {broken'), {
    tool: VOID,
    payload: '{broken',
  });
  assert.deepEqual(parseToolErrorText('Error executing tool void_shipment: [1, 2]'), {
    tool: VOID,
    payload: '[1, 2]',
  });
});

test('classifyUpsFailure: transport errors by whether the request was sent', () => {
  const notSent = new UpsTransportError('cannot connect to the UPS MCP server', false);
  const created = classifyUpsFailure(CREATE, notSent);
  assert.deepEqual([created.errorClass, created.category], ['retryable', 'transport']);
  assert.equal(created.message, 'cannot connect to the UPS MCP server');
  assert.equal(created.cause, notSent);

  const sent = new UpsTransportError('the UPS MCP session closed while waiting', true);
  const ambiguous = classifyUpsFailure(CREATE, sent);
  assert.deepEqual([ambiguous.errorClass, ambiguous.category], ['ambiguous', 'transport']);
  assert.equal(ambiguous.code, 'transport');
  const rated = classifyUpsFailure(RATE, sent);
  assert.deepEqual([rated.errorClass, rated.category], ['retryable', 'transport']);
  const voided = classifyUpsFailure(VOID, sent);
  assert.equal(voided.errorClass, 'retryable');
});

test('classifyUpsFailure: UpsError passes through, McpError and other throws', () => {
  const original = classifyToolError(RATE, 'Unknown tool: rate_shipment');
  assert.equal(classifyUpsFailure(RATE, original), original);

  const noMethod = classifyUpsFailure(
    CREATE,
    new McpError(ErrorCode.MethodNotFound, 'Method not found: tools/call'),
  );
  assert.deepEqual([noMethod.errorClass, noMethod.category], ['definitive', 'tool_missing']);
  const unknownTool = classifyUpsFailure(
    CREATE,
    new McpError(ErrorCode.InvalidParams, 'Tool create_shipment not found'),
  );
  assert.deepEqual([unknownTool.errorClass, unknownTool.category], ['definitive', 'tool_missing']);
  const badParams = classifyUpsFailure(RATE, new McpError(ErrorCode.InvalidParams, 'Invalid arguments'));
  assert.deepEqual([badParams.errorClass, badParams.category], ['definitive', 'validation']);

  const other = new Error('socket hang up');
  const onCreate = classifyUpsFailure(CREATE, other);
  assert.deepEqual([onCreate.errorClass, onCreate.category], ['ambiguous', 'unknown']);
  assert.equal(onCreate.cause, other);
  const onRate = classifyUpsFailure(RATE, other);
  assert.deepEqual([onRate.errorClass, onRate.category], ['retryable', 'unknown']);
  assert.equal(classifyUpsFailure(RATE, 'a string').message, 'a string');
});

test('toActivityFailure: type, nonRetryable, nextRetryDelay and details', () => {
  const rateLimited = classifyToolError(
    CREATE,
    toolText(CREATE, upsHttpError(429, UPS_CODES.rateLimited, 'Rate limit exceeded', { retry_after: 2 })),
  );
  const retry = toActivityFailure(rateLimited);
  assert.ok(retry instanceof ApplicationFailure);
  assert.equal(retry.type, UPS_FAILURE_TYPES.retryable);
  assert.equal(retry.type, 'UpsRetryableError');
  assert.equal(retry.nonRetryable, false);
  assert.equal(retry.nextRetryDelay, 2000);
  assert.equal(retry.message, 'create_shipment: 10429: Rate limit exceeded');
  assert.equal(retry.cause, rateLimited);
  assert.deepEqual(retry.details, [
    {
      code: '10429',
      category: 'rate_limit',
      upsErrors: [{ code: '10429', message: 'Rate limit exceeded' }],
      missing: [],
    },
  ]);

  const rejected = toActivityFailure(
    classifyToolError(CREATE, toolText(CREATE, upsHttpError(400, '120802', 'Address Validation Error'))),
  );
  assert.equal(rejected.type, UPS_FAILURE_TYPES.definitive);
  assert.equal(rejected.nonRetryable, true);
  assert.equal(rejected.nextRetryDelay, undefined);
  assert.deepEqual((rejected.details?.[0] as { code: string }).code, '120802');

  const missing = toActivityFailure(
    classifyToolError(
      RATE,
      toolText(
        RATE,
        elicitationUnsupported([
          field(
            'RateRequest.Shipment.Package[0].Packaging.Code',
            'package_1_packaging_code',
            'Packaging type code',
          ),
        ]),
      ),
    ),
  );
  assert.equal(missing.nonRetryable, true);
  assert.deepEqual(missing.details?.[0], {
    code: 'ELICITATION_UNSUPPORTED',
    category: 'validation',
    upsErrors: [],
    missing: ['RateRequest.Shipment.Package[0].Packaging.Code'],
  });

  const ambiguous = toActivityFailure(
    classifyToolError(CREATE, toolText(CREATE, requestError(READ_TIMEOUT))),
  );
  assert.equal(ambiguous.type, UPS_FAILURE_TYPES.ambiguous);
  assert.equal(ambiguous.nonRetryable, false);
  assert.equal(ambiguous.nextRetryDelay, undefined);
  assert.equal((ambiguous.details?.[0] as { code: string }).code, 'REQUEST_ERROR');

  // Retry-After 0 still yields a positive delay; category falls back as the code.
  const zero = toActivityFailure(
    new UpsError({
      tool: RATE,
      message: 'busy',
      errorClass: 'retryable',
      category: 'unavailable',
      retryAfterMs: 0,
    }),
  );
  assert.equal(zero.nextRetryDelay, 1);
  assert.equal(zero.message, 'rate_shipment: unavailable: busy');
  assert.equal(new Set(Object.values(UPS_FAILURE_TYPES)).size, 3);
});
