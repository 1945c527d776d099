/**
 * The worker process's log (installed in workers/main.ts through `Runtime.install({ logger })`). The
 * Temporal SDK logs every failed activity attempt as "Activity failed" with the whole error object; during
 * a UPS outage that is dozens of lines of stack per retry. Here an attempt that failed the expected way
 * (an ApplicationFailure of a known type: a classified UPS error, a bad batch source, a failed write-back)
 * is ONE line:
 *
 *   2026-01-01T00:00:00.000Z [WARN] Activity failed activity=shipRow batch=batch-spring row=7 attempt=3
 *     type=UpsRetryableError tool=create_shipment category=unavailable code=190001 message="…"   (one line)
 *
 * An entry an activity logs itself with an UpsError as `error` is one line the same way. Anything else (a
 * plain Error, a TypeError, a bug) is printed as the SDK prints it, stack included, and so is every other
 * entry. The message is the failure's own (already free of secrets), on one line, cut at
 * MESSAGE_MAX characters; nothing else of the error (request bodies, causes, environment) is printed.
 */
import { formatWithOptions } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, type LogEntry, type LogLevel, type Logger } from '@temporalio/worker';
import { UPS_FAILURE_TYPES, UpsError } from '../activities/ups/errors';
import type { ShipbatchConfig } from '../temporal.config';

/** ApplicationFailure types an activity throws on purpose: logged as one line, without a stack. */
export const EXPECTED_FAILURE_TYPES: ReadonlySet<string> = new Set<string>([
  ...Object.values(UPS_FAILURE_TYPES),
  'BatchSourceError',
  'WriteBackError',
]);

/** How much of a failure's message one line shows. */
export const MESSAGE_MAX = 300;

/** SHIPBATCH_LOG_LEVEL → the SDK's level (the default `info` is the SDK's default, INFO). */
export function sdkLogLevel(level: ShipbatchConfig['logLevel']): LogLevel {
  return level.toUpperCase() as LogLevel;
}

/** A value for `key=value`: as is when it is one plain word, else quoted (JSON string escapes). */
function value(v: string | number): string {
  const s = String(v);
  return /^[^\s"=\\]+$/.test(s) ? s : JSON.stringify(s);
}

/** The message on one line (whitespace runs, newlines included, become one space), at most `max` chars. */
export function oneLine(message: string, max = MESSAGE_MAX): string {
  const flat = message.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The one line for an entry whose error is an expected failure: an "Activity failed" of the SDK with an
 * ApplicationFailure of a known type, or any entry an activity logs with an UpsError as `error` (e.g.
 * `log.warn('UPS call failed', { error, rowNo })`). Undefined for any other entry (printed the SDK's way).
 */
export function formatActivityFailure(entry: LogEntry, colors = false): string | undefined {
  const { message } = entry;
  const meta = entry.meta ?? {};
  const error: unknown = meta.error;
  let about: { row: unknown; type: string; tool?: string; category: unknown; code: unknown };
  if (message === 'Activity failed' && error instanceof ApplicationFailure) {
    if (!error.type || !EXPECTED_FAILURE_TYPES.has(error.type)) return undefined;
    const details = isRecord(error.details?.[0]) ? error.details[0] : {};
    const tool = error.cause instanceof UpsError ? error.cause.tool : undefined;
    about = { row: details.rowNo, type: error.type, tool, category: details.category, code: details.code };
  } else if (error instanceof UpsError) {
    const type = UPS_FAILURE_TYPES[error.errorClass];
    about = { row: meta.rowNo, type, tool: error.tool, category: error.category, code: error.code };
  } else {
    return undefined;
  }
  const fields: [string, unknown][] = [
    ['activity', meta.activityType],
    ['batch', meta.workflowId],
    ['row', Number.isInteger(about.row) ? about.row : undefined],
    ['attempt', meta.attempt],
    ['type', about.type],
    ['tool', about.tool],
    ['category', about.category],
    ['code', about.code],
  ];
  const pairs = fields
    .filter(
      (f): f is [string, string | number] =>
        typeof f[1] === 'number' || (typeof f[1] === 'string' && f[1] !== ''),
    )
    .map(([k, v]) => `${k}=${value(v)}`);
  pairs.push(`message=${JSON.stringify(oneLine(error.message))}`);
  return `${timestamp(entry, colors)} [${entry.level}] ${message} ${pairs.join(' ')}\n`;
}

function timestamp(entry: LogEntry, colors: boolean): string {
  return formatWithOptions({ colors }, new Date(Number(entry.timestampNanos / 1_000_000n)));
}

/** One entry as the worker prints it: the short line of an expected failure, else the SDK's own format. */
export function formatLogEntry(entry: LogEntry, colors = false): string {
  const short = formatActivityFailure(entry, colors);
  if (short) return short;
  // The SDK's DefaultLogger format: `<date> [LEVEL] message <meta, util.format'ed>`.
  const head = `${timestamp(entry, colors)} [${entry.level}] ${entry.message}`;
  return entry.meta === undefined ? `${head}\n` : `${head} ${formatWithOptions({ colors }, entry.meta)}\n`;
}

/** Whether stderr takes colours (a terminal that has them; FORCE_COLOR / NO_COLOR respected by Node). */
function stderrHasColors(): boolean {
  return process.stderr.isTTY === true && process.stderr.hasColors();
}

/**
 * The worker's logger for `Runtime.install`: the SDK's level filtering and entry shape (DefaultLogger),
 * written through formatLogEntry. `write` and `colors` are for tests.
 */
export function createWorkerLogger(
  level: ShipbatchConfig['logLevel'],
  write: (text: string) => void = (text) => void process.stderr.write(text),
  colors: boolean = stderrHasColors(),
): Logger {
  return new DefaultLogger(sdkLogLevel(level), (entry) => write(formatLogEntry(entry, colors)));
}
