/**
 * Whether a classified UPS failure is about UPS itself (credentials refused, UPS or the MCP server
 * unreachable, unavailable, rate limiting) rather than about one row: what a batch waits out instead of
 * failing rows. Re-exported by ./errors.
 */
import type { UpsOutageKind } from '../../domain/batch';

/** What this reads of a classified failure (an `UpsError`; not imported: ./errors re-exports this file). */
interface ClassifiedFailure {
  category: string;
  message: string;
  retryAfterMs?: number;
}

/** A failure about UPS itself rather than one row: what a batch waits out (phase waiting_for_ups). */
export interface UpsOutageSign {
  kind: UpsOutageKind;
  /** In plain words, for status and the Web UI. */
  reason: string;
  /** UPS asked to wait this long (429 / 503 with Retry-After). */
  retryAfterMs?: number;
}

/**
 * Whether a UPS error is about UPS itself (credentials refused, UPS or the MCP server unreachable,
 * unavailable, rate limiting) rather than about the row: undefined for row-level errors.
 */
export function upsOutageOf(err: ClassifiedFailure): UpsOutageSign | undefined {
  const sign = outageSign(err);
  return sign && err.retryAfterMs !== undefined ? { ...sign, retryAfterMs: err.retryAfterMs } : sign;
}

function outageSign(err: ClassifiedFailure): UpsOutageSign | undefined {
  switch (err.category) {
    case 'auth':
      return { kind: 'auth', reason: `UPS refused the credentials (${plainCause(err.message)})` };
    case 'transport':
      return { kind: 'unreachable', reason: `UPS unreachable: ${plainCause(err.message)}` };
    case 'unavailable':
    case 'server':
      return { kind: 'unavailable', reason: `UPS unavailable: ${plainCause(err.message)}` };
    case 'rate_limit':
      return {
        kind: 'rate_limited',
        reason: `UPS is refusing calls (rate limit): ${plainCause(err.message)}`,
      };
    default:
      return undefined;
  }
}

/** The gist of a transport or HTTP error message, short enough for a status line. */
function plainCause(message: string): string {
  const m = message.toLowerCase();
  if (/connection refused/.test(m)) return 'connection refused';
  if (/name or service not known|getaddrinfo|nodename nor servname|name resolution/.test(m))
    return "UPS's address cannot be resolved";
  if (/timed? ?out|timeout/.test(m)) return 'no answer in time';
  if (/\b401\b|unauthori[sz]ed|invalid authentication/.test(m)) return 'HTTP 401';
  if (/\b403\b|forbidden/.test(m)) return 'HTTP 403';
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return oneLine.length > 160 ? `${oneLine.slice(0, 157)}…` : oneLine;
}
