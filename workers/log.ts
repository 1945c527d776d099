/**
 * The worker process's log (installed in workers/main.ts through `Runtime.install({ logger })`): every entry
 * the SDK, the workflows and the activities log is ONE JSON object on ONE line of stderr (JSON Lines), e.g.
 *
 *   {"time":"2026-01-01T00:00:00.000Z","level":"WARN","message":"Activity failed","batchId":"batch-spring",
 *    "rowNo":7,"activity":"shipRow","attempt":3,"workflowType":"shipmentBatch","taskQueue":"shipbatch",
 *    "sdkComponent":"worker","errorType":"UpsRetryableError","tool":"create_shipment","category":"unavailable",
 *    "code":"190001","errorMessage":"create_shipment: 190001: …","activityId":"12",…}        (one line)
 *
 * Fields: `time` (ISO), `level`, `message`; where known `batchId` (the workflow id), `rowNo` (the entry's
 * own, else the failure's details, else the activity's input — {@link activityLogContext}), `activity` (its
 * type), `attempt`, `workflowType`, `taskQueue`, `sdkComponent`; for an entry with an `error`: `errorType`
 * and `errorMessage` (on one line, cut at MESSAGE_MAX). An expected failure (an ApplicationFailure of
 * EXPECTED_FAILURE_TYPES, or a classified UpsError) adds `tool`, `category` and `code` and never a stack —
 * a UPS outage is one short line per attempt; anything else (a plain Error, a TypeError, a bug) adds its
 * `stack`, as one string (and its `code` when it has a short one: ECONNRESET, a SQLSTATE). Then the entry's other metadata of plain values (strings, numbers, booleans,
 * bigints as strings, arrays of those).
 *
 * Never in a line: the task token or any key that looks like a credential, objects (request bodies,
 * environments, a failure's details, causes), strings longer than TEXT_MAX. The serializer cannot throw: a
 * getter that throws, a Proxy, a circular or odd value is left out, and if everything fails the entry is
 * still a line with its time, level and message.
 */
import { types } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import {
  LogTimestamp,
  type ActivityInterceptorsFactory,
  type LogEntry,
  type LogLevel,
  type LogMetadata,
  type Logger,
} from '@temporalio/worker';
import { UPS_FAILURE_TYPES, UpsError } from '../activities/ups/errors';
import type { ShipbatchConfig } from '../temporal.config';

/** ApplicationFailure types an activity throws on purpose: logged without a stack. */
export const EXPECTED_FAILURE_TYPES: ReadonlySet<string> = new Set<string>([
  ...Object.values(UPS_FAILURE_TYPES),
  'BatchSourceError',
  'WriteBackError',
]);

/** How much of a failure's message a line shows. */
export const MESSAGE_MAX = 300;
/** How much of any other string (the entry's message, a metadata value) a line shows. */
export const TEXT_MAX = 1000;
/** How much of an unexpected error's stack a line shows. */
export const STACK_MAX = 4000;
/** How many elements of an array of plain values a line shows. */
const ARRAY_MAX = 20;

/** Metadata keys never written, whatever their value: the task token, anything named like a credential. */
const SECRET_KEY =
  /token|secret|passw(or)?d|authori[sz]ation|api[-_]?key|credential|cookie|private[-_]?key|^env$|environment/i;

/** The fields a line always leads with, in this order; metadata cannot overwrite them. */
const LEADING = [
  'time',
  'level',
  'message',
  'batchId',
  'rowNo',
  'activity',
  'attempt',
  'workflowType',
  'taskQueue',
  'sdkComponent',
] as const;
const ERROR_FIELDS = ['errorType', 'tool', 'category', 'code', 'errorMessage', 'stack'] as const;
/** Metadata keys read into the leading fields (or the error fields) rather than copied. */
const CONSUMED = new Set(['workflowId', 'activityType', 'rowNo', 'error']);
const RESERVED: ReadonlySet<string> = new Set<string>([...LEADING, ...ERROR_FIELDS, ...CONSUMED]);

/** SHIPBATCH_LOG_LEVEL → the SDK's level (the default `info` is the SDK's default, INFO). */
export function sdkLogLevel(level: ShipbatchConfig['logLevel']): LogLevel {
  return level.toUpperCase() as LogLevel;
}

/** The message on one line (whitespace runs, newlines included, become one space), at most `max` chars. */
export function oneLine(message: string, max = MESSAGE_MAX): string {
  return cut(message.replace(/\s+/g, ' ').trim(), max);
}

function cut(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** `f()`, or undefined when it throws (a getter, a Proxy trap, an odd prototype). */
function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

type Plain = string | number | boolean | null;
type Fields = Record<string, Plain | Plain[]>;

/** A plain value for a line, or undefined for anything else (objects, functions, symbols, undefined). */
function plain(v: unknown, max = TEXT_MAX): Plain | undefined {
  switch (typeof v) {
    case 'string':
      return cut(v, max);
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v;
    default:
      return v === null ? null : undefined;
  }
}

/** An array of plain values (the core's span contexts, say), at most ARRAY_MAX of them; else undefined. */
function plainArray(v: unknown): Plain[] | undefined {
  if (!safe(() => Array.isArray(v))) return undefined;
  const items = safe(() => (v as unknown[]).slice(0, ARRAY_MAX).map((x) => plain(x, MESSAGE_MAX)));
  if (!items || items.some((x) => x === undefined)) return undefined;
  return items as Plain[];
}

function isError(v: unknown): v is Error {
  return safe(() => v instanceof Error || types.isNativeError(v)) === true;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function rowNoOf(v: unknown): number | undefined {
  return Number.isSafeInteger(v) ? (v as number) : undefined;
}

/**
 * The error fields of an entry's `error`: type, message (one line, cut) and, for an expected failure, the
 * UPS tool, category and code; for anything else the stack. `rowNo` is the failure's own when it has one.
 * Reads only what it names: never a failure's details beyond rowNo/category/code, nor its cause beyond tool.
 */
function errorFields(error: unknown): { fields: Fields; rowNo?: number } {
  if (error === undefined) return { fields: {} };
  if (!isError(error)) {
    const message = plain(error);
    return {
      fields: message === undefined || message === null ? {} : { errorMessage: oneLine(String(message)) },
    };
  }
  const message = oneLine(text(safe(() => error.message)) ?? '');
  if (safe(() => error instanceof UpsError)) {
    const ups = error as UpsError;
    return {
      fields: withoutUndefined({
        errorType: safe(() => UPS_FAILURE_TYPES[ups.errorClass]),
        tool: text(safe(() => ups.tool)),
        category: text(safe(() => ups.category)),
        code: text(safe(() => ups.code)),
        errorMessage: message,
      }),
    };
  }
  if (safe(() => error instanceof ApplicationFailure)) {
    const failure = error as ApplicationFailure;
    const type = text(safe(() => failure.type));
    if (type !== undefined && EXPECTED_FAILURE_TYPES.has(type)) {
      const details: unknown = safe(() => failure.details?.[0]);
      const about = (key: string): unknown =>
        typeof details === 'object' && details !== null
          ? safe(() => (details as Record<string, unknown>)[key])
          : undefined;
      const cause: unknown = safe(() => failure.cause);
      return {
        fields: withoutUndefined({
          errorType: type,
          tool: safe(() => cause instanceof UpsError)
            ? text(safe(() => (cause as UpsError).tool))
            : undefined,
          category: text(about('category')),
          code: text(about('code')),
          errorMessage: message,
        }),
        rowNo: rowNoOf(about('rowNo')),
      };
    }
  }
  // Unexpected: what it is (a failure's type, else the error's name), what it says, its code when it has a
  // short one (ECONNRESET, a SQLSTATE) and where it came from. Nothing else: a driver's error can carry
  // row data (pg's `detail`), a request's config and headers.
  const failureType = safe(() => error instanceof ApplicationFailure)
    ? text(safe(() => (error as ApplicationFailure).type))
    : undefined;
  const code: unknown = safe(() => (error as { code?: unknown }).code);
  const stack = text(safe(() => error.stack));
  return {
    fields: withoutUndefined({
      errorType: failureType ?? text(safe(() => error.name)) ?? 'Error',
      code:
        (typeof code === 'string' && code.length <= 40) || Number.isInteger(code)
          ? (code as Plain)
          : undefined,
      errorMessage: message,
      stack: stack === undefined ? undefined : cut(stack, STACK_MAX),
    }),
  };
}

function withoutUndefined(o: Record<string, Plain | Plain[] | undefined>): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

function isoTime(nanos: unknown): string {
  const ms = typeof nanos === 'bigint' ? Number(nanos / 1_000_000n) : Date.now();
  return safe(() => new Date(ms).toISOString()) ?? new Date().toISOString();
}

/** The JSON object of one entry (see the file's comment for the fields). */
export function logRecord(entry: LogEntry): Fields {
  const meta: unknown = safe(() => entry.meta);
  const get = (key: string): unknown =>
    typeof meta === 'object' && meta !== null
      ? safe(() => (meta as Record<string, unknown>)[key])
      : undefined;
  const { fields: errors, rowNo: failureRowNo } = errorFields(get('error'));
  const level = safe(() => entry.level);
  const record = withoutUndefined({
    time: isoTime(safe(() => entry.timestampNanos)),
    level: plain(level, 16) ?? 'INFO',
    message: plain(safe(() => entry.message)) ?? '',
    batchId: plain(get('workflowId')),
    rowNo: rowNoOf(get('rowNo')) ?? failureRowNo,
    activity: plain(get('activityType')),
    attempt: plain(get('attempt')),
    workflowType: plain(get('workflowType')),
    taskQueue: plain(get('taskQueue')),
    sdkComponent: plain(get('sdkComponent')),
    ...errors,
  });
  const keys = safe(() => (typeof meta === 'object' && meta !== null ? Object.keys(meta) : [])) ?? [];
  for (const key of keys) {
    if (RESERVED.has(key) || SECRET_KEY.test(key)) continue;
    const v = get(key);
    const value = plain(v);
    const values = value === undefined ? plainArray(v) : undefined;
    if (value !== undefined) record[key] = value;
    else if (values !== undefined) record[key] = values;
  }
  return record;
}

/** U+2028/U+2029/U+0085 are legal in JSON strings but end a line for some readers: escaped too. */
function jsonLine(record: Fields): string {
  return `${JSON.stringify(record).replace(/[\u2028\u2029\u0085]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

/** One entry as the worker prints it: one JSON object and a newline. Never throws. */
export function formatLogEntry(entry: LogEntry): string {
  try {
    return jsonLine(logRecord(entry));
  } catch (err) {
    // Not reached with the plain values logRecord builds; kept so a log call can never fail the worker.
    return jsonLine({
      time: new Date().toISOString(),
      level:
        plain(
          safe(() => entry.level),
          16,
        ) ?? 'ERROR',
      message: plain(safe(() => entry.message)) ?? '',
      logError: (isError(err) && text(safe(() => err.message))) || 'unprintable entry',
    });
  }
}

/**
 * A line of the worker process itself (started, stopping, stopped, a fatal error) in the same JSON Lines
 * format, written whatever SHIPBATCH_LOG_LEVEL says: supervisors and tests wait for these.
 */
export function processLine(
  level: 'INFO' | 'ERROR',
  message: string,
  meta?: LogMetadata,
  write: (text: string) => void = (text) => void process.stderr.write(text),
): void {
  write(formatLogEntry({ level, message, meta, timestampNanos: BigInt(Date.now()) * 1_000_000n }));
}

const SEVERITIES: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/**
 * The worker's logger for `Runtime.install`: the SDK's level filtering (an entry at the level and up) and
 * its entry shape (the SDK's LogTimestamp in the metadata is the entry's time), each entry written as one
 * line by formatLogEntry. Not the SDK's DefaultLogger: that one copies the metadata before formatting, and
 * a getter in it that throws would fail the log call. `write` is for tests.
 */
export class WorkerLogger implements Logger {
  private readonly severity: number;

  constructor(
    readonly level: LogLevel,
    private readonly write: (text: string) => void,
  ) {
    this.severity = SEVERITIES.indexOf(level);
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (SEVERITIES.indexOf(level) < this.severity) return;
    const stamp = safe((): unknown => meta?.[LogTimestamp]);
    const timestampNanos = typeof stamp === 'bigint' ? stamp : BigInt(Date.now()) * 1_000_000n;
    this.write(formatLogEntry({ level, message, meta, timestampNanos }));
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/** The worker's logger at SHIPBATCH_LOG_LEVEL, writing to stderr. */
export function createWorkerLogger(
  level: ShipbatchConfig['logLevel'],
  write: (text: string) => void = (text) => void process.stderr.write(text),
): Logger {
  return new WorkerLogger(sdkLogLevel(level), write);
}

/**
 * An activity interceptor (for `Worker.create({ interceptors: { activity: [activityLogContext] } })`) that
 * puts the row an activity works on — `rowNo` of its argument, as shipRow and settleRow take — into every
 * entry of that activity: the SDK's own "Activity failed" (a bug in shipRow names its row) and what the
 * activity logs itself. An entry that names a row of its own keeps it.
 */
export const activityLogContext: ActivityInterceptorsFactory = () => {
  let rowNo: number | undefined;
  return {
    inbound: {
      execute(input, next) {
        const arg: unknown = input.args[0];
        rowNo =
          typeof arg === 'object' && arg !== null
            ? rowNoOf(safe(() => (arg as { rowNo?: unknown }).rowNo))
            : undefined;
        return next(input);
      },
    },
    outbound: {
      getLogAttributes(attributes, next) {
        return next(rowNo === undefined ? attributes : { rowNo, ...attributes });
      },
    },
  };
};
