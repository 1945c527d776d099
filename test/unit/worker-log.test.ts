/**
 * The worker's log (workers/log.ts): every entry is one JSON object on one line. An "Activity failed" entry
 * with an expected ApplicationFailure (or an activity's own entry with a UpsError) carries the batch, row,
 * activity, attempt, failure type, UPS tool/category/code and a one-line message, never a stack; anything
 * unexpected carries its stack as one string field. Whatever the entry holds (newlines, escapes, a huge
 * message, a bigint, a circular object, a getter that throws, credentials), the line is one valid JSON line
 * without secrets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import {
  LogTimestamp,
  type ActivityExecuteInput,
  type LogEntry,
  type LogLevel,
  type LogMetadata,
} from '@temporalio/worker';
import type { Context } from '@temporalio/activity';
import {
  activityLogContext,
  createWorkerLogger,
  formatLogEntry,
  MESSAGE_MAX,
  sdkLogLevel,
  STACK_MAX,
  TEXT_MAX,
} from '../../workers/log';
import { toActivityFailure, UpsError } from '../../activities/ups/errors';

const AT = BigInt(Date.UTC(2026, 0, 2, 3, 4, 5, 678)) * 1_000_000n;
const TIME = '2026-01-02T03:04:05.678Z';
const TASK_TOKEN = 'CiQ2YzM4ZjQ5Ni1hZDk0LTQ4NmMtYjJmMS1mMzQ2ZTAzYjBlOGQSB2JhdGNoLTE=';

/** The metadata the SDK composes for an activity's entries (activityLogAttributes + sdkComponent). */
function activityMeta(extra: LogMetadata): LogMetadata {
  return {
    isLocal: false,
    attempt: 3,
    namespace: 'default',
    taskToken: TASK_TOKEN,
    activityId: '12',
    activityType: 'shipRow',
    taskQueue: 'shipbatch',
    workflowId: 'batch-spring',
    workflowRunId: '0190c3a2-5b1e-7f00-8000-000000000000',
    workflowType: 'shipmentBatch',
    sdkComponent: 'worker',
    durationMs: 41,
    ...extra,
  };
}

/** The SDK's activity fields in a line, as the worker writes them for activityMeta({}). */
const ACTIVITY_FIELDS = {
  batchId: 'batch-spring',
  activity: 'shipRow',
  attempt: 3,
  workflowType: 'shipmentBatch',
  taskQueue: 'shipbatch',
  sdkComponent: 'worker',
};
const ACTIVITY_REST = {
  isLocal: false,
  namespace: 'default',
  activityId: '12',
  workflowRunId: '0190c3a2-5b1e-7f00-8000-000000000000',
  durationMs: 41,
};

function entry(message: string, meta?: LogMetadata, level: LogLevel = 'WARN'): LogEntry {
  return { level, message, meta, timestampNanos: AT };
}

/** The line's one JSON object; fails unless `out` is exactly one line of JSON and its newline. */
function parse(out: string): Record<string, unknown> {
  assert.ok(out.endsWith('\n'), 'ends with a newline');
  const body = out.slice(0, -1);
  assert.doesNotMatch(body, /[\n\r\u2028\u2029\u0085]/, `one line: ${body.slice(0, 200)}`);
  const parsed: unknown = JSON.parse(body);
  assert.ok(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed), 'an object');
  return parsed as Record<string, unknown>;
}

function line(message: string, meta?: LogMetadata, level: LogLevel = 'WARN'): Record<string, unknown> {
  return parse(formatLogEntry(entry(message, meta, level)));
}

const unavailable = () =>
  ApplicationFailure.create({
    type: 'UpsRetryableError',
    message: 'create_shipment: UPS API returned HTTP 503',
    details: [{ code: '190001', category: 'unavailable', rowNo: 7 }],
  });

test('a UPS failure is one JSON line with batch, row, activity, attempt, type, category, code, message', () => {
  const out = formatLogEntry(entry('Activity failed', activityMeta({ error: unavailable() })));
  assert.deepEqual(parse(out), {
    time: TIME,
    level: 'WARN',
    message: 'Activity failed',
    ...ACTIVITY_FIELDS,
    rowNo: 7,
    errorType: 'UpsRetryableError',
    category: 'unavailable',
    code: '190001',
    errorMessage: 'create_shipment: UPS API returned HTTP 503',
    ...ACTIVITY_REST,
  });
  assert.ok(out.startsWith(`{"time":"${TIME}","level":"WARN","message":"Activity failed","batchId":`), out);
  assert.doesNotMatch(out, /stack|\bat .*\(|taskToken|CiQ2/, 'no stack, no task token');
});

test('without rowNo in the details the row is left out; the tool comes from the UpsError cause', () => {
  const ups = new UpsError({
    tool: 'create_shipment',
    message:
      'HTTPSConnectionPool(host=\'wwwcie.ups.com\', port=443): Max retries exceeded\n  (Caused by NewConnectionError("Failed to establish a new connection: [Errno 111] Connection refused"))',
    errorClass: 'ambiguous',
    category: 'transport',
    serverCode: 'REQUEST_ERROR',
  });
  const got = line('Activity failed', activityMeta({ error: toActivityFailure(ups), attempt: 12 }));
  assert.equal(got.rowNo, undefined);
  assert.equal(got.attempt, 12);
  assert.equal(got.errorType, 'UpsAmbiguousError');
  assert.equal(got.tool, 'create_shipment');
  assert.equal(got.category, 'transport');
  assert.equal(got.code, 'REQUEST_ERROR');
  assert.equal(
    got.errorMessage,
    "create_shipment: REQUEST_ERROR: HTTPSConnectionPool(host='wwwcie.ups.com', port=443): Max retries " +
      'exceeded (Caused by NewConnectionError("Failed to establish a new connection: [Errno 111] Connection refused"))',
    'the message on one line, whitespace folded',
  );
  assert.equal(got.stack, undefined, 'no stack of the failure or its causes');
});

test('rejected, batch-source and write-back failures are short too; a long message is cut', () => {
  const cases = [
    ApplicationFailure.create({
      type: 'UpsRejectedError',
      message: 'create_shipment: 120802: Address Validation Error on ShipTo address',
      nonRetryable: true,
      details: [{ code: '120802', category: 'address', rowNo: 4 }],
    }),
    ApplicationFailure.create({
      type: 'BatchSourceError',
      message: 'row 9 is not in the ledger',
      nonRetryable: true,
    }),
    ApplicationFailure.create({ type: 'WriteBackError', message: 'x'.repeat(1000), nonRetryable: true }),
  ];
  for (const error of cases) {
    const out = formatLogEntry(entry('Activity failed', activityMeta({ error })));
    const got = parse(out);
    assert.equal(got.errorType, error.type);
    assert.equal(got.stack, undefined, `no stack for ${error.type}`);
    assert.ok(out.length < MESSAGE_MAX + 600, `short: ${out.length}`);
  }
  const cut = line('Activity failed', activityMeta({ error: cases[2] }));
  assert.equal(cut.errorMessage, `${'x'.repeat(MESSAGE_MAX - 1)}…`);
  const rejected = line('Activity failed', activityMeta({ error: cases[0] }));
  assert.deepEqual(
    [rejected.rowNo, rejected.attempt, rejected.errorType, rejected.category, rejected.code],
    [4, 3, 'UpsRejectedError', 'address', '120802'],
  );
});

test('an unexpected error (TypeError, plain Error, an unknown failure type) keeps its stack, on the one line', () => {
  const typeError = new TypeError("Cannot read properties of undefined (reading 'ShipmentRequest')");
  const out = formatLogEntry(entry('Activity failed', activityMeta({ error: typeError })));
  const got = parse(out);
  assert.equal(got.errorType, 'TypeError');
  assert.equal(got.errorMessage, "Cannot read properties of undefined (reading 'ShipmentRequest')");
  assert.equal(typeof got.stack, 'string');
  assert.match(
    got.stack as string,
    /^TypeError: Cannot read properties of undefined \(reading 'ShipmentRequest'\)\n\s+at .*worker-log\.test\.ts/,
    'the stack is there, its newlines escaped in the line',
  );
  assert.equal(got.batchId, 'batch-spring');
  assert.equal(got.tool, undefined);

  const plain = line('Activity failed', activityMeta({ error: new Error('pool exhausted') }));
  assert.equal(plain.errorType, 'Error');
  assert.match(plain.stack as string, /^Error: pool exhausted\n\s+at /);
  const unknown = line(
    'Activity failed',
    activityMeta({ error: ApplicationFailure.create({ type: 'SomethingElse', message: 'what is this' }) }),
  );
  assert.equal(unknown.errorType, 'SomethingElse');
  assert.match(unknown.stack as string, /^ApplicationFailure: what is this\n\s+at /);
  const huge = new Error('y'.repeat(50_000));
  const hugeOut = formatLogEntry(entry('Activity failed', activityMeta({ error: huge })));
  assert.equal((parse(hugeOut).stack as string).length, STACK_MAX, 'the stack is cut');
  assert.ok(hugeOut.length < STACK_MAX + MESSAGE_MAX + 800, `bounded: ${hugeOut.length}`);
});

test("the SDK's, the workflows' and the core's entries are JSON lines too", () => {
  assert.deepEqual(line('No Nexus services registered', { sdkComponent: 'worker', taskQueue: 'q' }, 'INFO'), {
    time: TIME,
    level: 'INFO',
    message: 'No Nexus services registered',
    taskQueue: 'q',
    sdkComponent: 'worker',
  });
  assert.equal(
    formatLogEntry(entry('bare', undefined, 'ERROR')),
    `{"time":"${TIME}","level":"ERROR","message":"bare"}\n`,
  );
  // workflows/steps/dispatch.ts: log.warn('shipRow gave up', { rowNo, error: failureMessage(err) }).
  assert.deepEqual(
    line('shipRow gave up', {
      namespace: 'default',
      taskQueue: 'shipbatch',
      workflowId: 'batch-spring',
      runId: 'r1',
      workflowType: 'shipmentBatch',
      sdkComponent: 'workflow',
      rowNo: 5,
      error: 'create_shipment: 120802: Address Validation Error',
    }),
    {
      time: TIME,
      level: 'WARN',
      message: 'shipRow gave up',
      batchId: 'batch-spring',
      rowNo: 5,
      workflowType: 'shipmentBatch',
      taskQueue: 'shipbatch',
      sdkComponent: 'workflow',
      errorMessage: 'create_shipment: 120802: Address Validation Error',
      namespace: 'default',
      runId: 'r1',
    },
  );
  // A core entry (runtime-logger: target, spanContexts and the Rust fields).
  assert.deepEqual(
    line(
      'Failed to poll',
      {
        sdkComponent: 'core',
        target: 'temporal_sdk_core::worker',
        spanContexts: ['poll', 'worker'],
        error: 'Unavailable',
      },
      'WARN',
    ),
    {
      time: TIME,
      level: 'WARN',
      message: 'Failed to poll',
      sdkComponent: 'core',
      errorMessage: 'Unavailable',
      target: 'temporal_sdk_core::worker',
      spanContexts: ['poll', 'worker'],
    },
  );
  // 'Activity completed' with an expected failure in it is still short: what the error is decides.
  const completed = line('Activity completed', activityMeta({ error: unavailable() }), 'DEBUG');
  assert.equal(completed.errorType, 'UpsRetryableError');
  assert.equal(completed.stack, undefined);
});

test('the logger filters by SHIPBATCH_LOG_LEVEL, keeps the SDK timestamp and writes one line per entry', () => {
  assert.equal(sdkLogLevel('info'), 'INFO');
  assert.equal(sdkLogLevel('debug'), 'DEBUG');
  const written: string[] = [];
  const logger = createWorkerLogger('warn', (t) => written.push(t));
  logger.info('Worker state changed', { state: 'RUNNING' });
  logger.debug('Activity started', activityMeta({}));
  logger.warn('Activity failed', { ...activityMeta({ error: unavailable() }), [LogTimestamp]: AT });
  logger.error('Worker failed', { sdkComponent: 'worker' });
  assert.equal(written.length, 2, 'only WARN and up at level warn');
  const failed = parse(written[0]!);
  assert.equal(failed.time, TIME, "the SDK's timestamp");
  assert.deepEqual(
    [failed.level, failed.batchId, failed.rowNo, failed.attempt],
    ['WARN', 'batch-spring', 7, 3],
  );
  const at = Date.parse(parse(written[1]!).time as string);
  assert.ok(Math.abs(at - Date.now()) < 60_000, 'no SDK timestamp: now');

  const info: string[] = [];
  createWorkerLogger('info', (t) => info.push(t)).info('Worker state changed', { state: 'RUNNING' });
  assert.equal(info.length, 1, 'info entries at the default level');
  assert.equal(parse(info[0]!).state, 'RUNNING');
  const debug: string[] = [];
  createWorkerLogger('debug', (t) => debug.push(t)).debug('Activity started', activityMeta({}));
  assert.equal(parse(debug[0]!).level, 'DEBUG');
});

test('an entry an activity logs with an UpsError is one short line too (row from the metadata)', () => {
  const error = new UpsError({
    tool: 'create_shipment',
    message: 'The UPS system is temporarily unavailable',
    errorClass: 'retryable',
    category: 'unavailable',
    statusCode: 503,
    upsCode: '190001',
  });
  const meta = activityMeta({ error, rowNo: 5, sdkComponent: 'activity' });
  delete meta.durationMs;
  const { durationMs: _, ...rest } = ACTIVITY_REST;
  assert.deepEqual(line('UPS call failed', meta), {
    time: TIME,
    level: 'WARN',
    message: 'UPS call failed',
    ...ACTIVITY_FIELDS,
    sdkComponent: 'activity',
    rowNo: 5,
    errorType: 'UpsRetryableError',
    tool: 'create_shipment',
    category: 'unavailable',
    code: '190001',
    errorMessage: 'The UPS system is temporarily unavailable',
    ...rest,
  });
  // The entry's own rowNo wins over the failure's.
  assert.equal(line('Activity failed', activityMeta({ error: unavailable(), rowNo: 9 })).rowNo, 9);
  // Not a row number: left out.
  assert.equal(line('x', { rowNo: '7; DROP TABLE' }).rowNo, undefined);
  assert.equal(line('x', { rowNo: 1.5 }).rowNo, undefined);
});

// ------------------------------------------------------------------ what an attacker (or a bug) can put in

const SECRET = 'SEKRET-log-5f2a9c';

test('newlines, quotes, ANSI escapes and line separators in a message stay inside one JSON line', () => {
  const nasty = `line one\nline two\r\n"quoted" \\ back\x1b[31mRED\x1b[0m\u2028sep\u2029para\u0085nel\x00nul\t}{"level":"ERROR"}`;
  const got = line(nasty, { note: nasty, sdkComponent: 'activity' });
  assert.equal(got.message, nasty, 'the message is kept exactly, escaped');
  assert.equal(got.note, nasty);
  assert.equal(got.level, 'WARN', 'an injected field is text, not a field');
  const out = formatLogEntry(entry(nasty));
  const raw = [...out.slice(0, -1)].filter((c) => c < ' ' || '\u2028\u2029\u0085'.includes(c));
  assert.deepEqual(raw, [], 'no raw control or separator character');
  const failure = ApplicationFailure.create({
    type: 'UpsRetryableError',
    message: nasty,
    details: [{ rowNo: 2 }],
  });
  const short = line('Activity failed', activityMeta({ error: failure }));
  assert.doesNotMatch(short.errorMessage as string, /\n|\r|\u2028/, 'the failure message is on one line');
});

test('a huge message or metadata value is cut; the line stays bounded', () => {
  const huge = 'z'.repeat(5_000_000);
  const out = formatLogEntry(
    entry(huge, { big: huge, sdkComponent: 'worker', list: Array(10_000).fill(huge) }),
  );
  const got = parse(out);
  assert.equal(got.message, `${'z'.repeat(TEXT_MAX - 1)}…`);
  assert.equal(got.big, `${'z'.repeat(TEXT_MAX - 1)}…`);
  assert.equal((got.list as string[]).length, 20);
  assert.ok(out.length < 2 * TEXT_MAX + 20 * MESSAGE_MAX + 500, `bounded: ${out.length}`);
});

test('bigints, circular objects, throwing getters, Proxies and symbols never break the line', () => {
  const circular: Record<string, unknown> = { name: 'loop' };
  circular.self = circular;
  const trap = new Proxy(
    {},
    {
      get: () => {
        throw new Error('trap');
      },
      ownKeys: () => {
        throw new Error('trap');
      },
      getPrototypeOf: () => {
        throw new Error('trap');
      },
    },
  );
  const meta: Record<string | symbol, unknown> = {
    sdkComponent: 'activity',
    count: 12345678901234567890n,
    circular,
    trap,
    fn: () => 1,
    sym: Symbol('s'),
    [Symbol('key')]: 'hidden',
    nan: NaN,
    inf: -Infinity,
    nothing: undefined,
    nil: null,
    deep: [1, [2, [3]]],
    mixed: [1, { a: 1 }],
  };
  Object.defineProperty(meta, 'boom', {
    enumerable: true,
    get() {
      throw new Error('getter');
    },
  });
  const written: string[] = [];
  const logger = createWorkerLogger('debug', (t) => written.push(t));
  logger.warn('odd metadata', meta);
  const got = parse(written[0]!);
  assert.deepEqual(got, {
    time: got.time,
    level: 'WARN',
    message: 'odd metadata',
    sdkComponent: 'activity',
    count: '12345678901234567890',
    nan: 'NaN',
    inf: '-Infinity',
    nil: null,
  });

  // The whole metadata a Proxy that throws on every access; an error whose every property throws.
  logger.error('trapped', trap);
  assert.deepEqual(Object.keys(parse(written[1]!)), ['time', 'level', 'message']);
  const evil = new Proxy(new Error('evil'), {
    get: () => {
      throw new Error('trap');
    },
  });
  logger.error('evil error', { error: evil, attempt: 2n });
  const evilLine = parse(written[2]!);
  assert.equal(evilLine.message, 'evil error');
  assert.equal(evilLine.attempt, '2');
  // Not even a string message or level: still a line.
  const odd = formatLogEntry({
    level: 42 as unknown as LogLevel,
    message: { toString: null } as unknown as string,
    meta: undefined,
    timestampNanos: 'x' as unknown as bigint,
  });
  assert.equal(typeof parse(odd).time, 'string');
});

test('no task token, credential-named field, object, failure detail or cause in a line', () => {
  const cause = new Error(`connect ECONNREFUSED with Authorization: Bearer ${SECRET}`);
  const ups = new UpsError({
    tool: 'create_shipment',
    message: 'UPS unreachable',
    errorClass: 'retryable',
    category: 'transport',
    cause,
  });
  const failure = toActivityFailure(ups, { rowNo: 3 });
  // toActivityFailure puts upsErrors/missing in its details: a server's text could be anything.
  (failure.details![0] as Record<string, unknown>).upsErrors = [{ code: '1', message: SECRET }];
  const unexpected = new Error('boom', { cause });
  // A driver's error (pg: a SQLSTATE code, the offending row in `detail`), a request's config.
  Object.assign(unexpected, {
    code: '23505',
    detail: `Key (name)=(${SECRET}) already exists.`,
    config: { headers: { authorization: SECRET } },
    body: SECRET,
  });
  for (const error of [failure, ups, unexpected]) {
    const out = formatLogEntry(
      entry(
        'Activity failed',
        activityMeta({
          error,
          password: SECRET,
          apiKey: SECRET,
          CLIENT_SECRET: SECRET,
          authorization: SECRET,
          accessToken: SECRET,
          env: SECRET,
          request: { ShipmentRequest: { Shipper: { Name: SECRET } } },
          environment: { CLIENT_SECRET: SECRET },
          headers: [SECRET, { x: SECRET }],
        }),
      ),
    );
    const got = parse(out);
    assert.equal(got.code, error === unexpected ? '23505' : 'transport', 'the code is kept');
    assert.ok(!out.includes(SECRET), `no secret in ${out}`);
    assert.ok(!out.includes(TASK_TOKEN) && !out.includes('taskToken'), 'no task token');
  }
});

test('activityLogContext puts the row of an activity into every entry it and the SDK log for it', async () => {
  const interceptors = activityLogContext({} as Context);
  const execute = interceptors.inbound!.execute!;
  const attrs = interceptors.outbound!.getLogAttributes!;
  const same = (a: Record<string, unknown>) => a;
  assert.deepEqual(attrs({ workflowId: 'b' }, same), { workflowId: 'b' }, 'before the activity runs: no row');
  let seen: ActivityExecuteInput | undefined;
  const input: ActivityExecuteInput = { args: [{ batchId: 'b', rowNo: 4 }], headers: {} };
  assert.equal(await execute(input, (i) => ((seen = i), Promise.resolve('done'))), 'done');
  assert.equal(seen, input, 'the activity runs with its own input');
  assert.deepEqual(attrs({ workflowId: 'b', attempt: 2 }, same), { rowNo: 4, workflowId: 'b', attempt: 2 });
  // What it feeds the log: the SDK's "Activity failed" of a bug in shipRow names the row.
  const got = line('Activity failed', {
    ...attrs(activityMeta({}), same),
    error: new TypeError('bug'),
  });
  assert.equal(got.rowNo, 4);
  assert.equal(got.errorType, 'TypeError');

  // Activities without a row (loadBatch, probeUps, a bare argument): nothing added.
  for (const args of [[{ batchId: 'b' }], ['b'], [], [{ rowNo: 'x' }], [null]]) {
    const other = activityLogContext({} as Context);
    await other.inbound!.execute!({ args, headers: {} }, () => Promise.resolve(undefined));
    assert.deepEqual(other.outbound!.getLogAttributes!({ a: 1 }, same), { a: 1 }, JSON.stringify(args));
  }
});
