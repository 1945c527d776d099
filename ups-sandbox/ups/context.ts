/**
 * What every simulated UPS API shares: the call's context (store, knobs, account, clock, elicitor),
 * UPS's success block, the tool's parsed arguments and the UPS errors more than one API answers.
 */
import { isObj, type JsonObject } from '../json';
import type { FormElicitor } from '../elicitation';
import { ToolFailure, UPS_CODES, upsHttpError } from '../errors';
import type { Knobs } from '../knobs';
import type { ShipmentStore } from '../store';
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
