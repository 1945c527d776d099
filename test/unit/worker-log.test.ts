/**
 * The worker's log formatter (workers/log.ts): an "Activity failed" entry with an expected
 * ApplicationFailure is one WARN line with the activity, batch, row, attempt, type, UPS category/code and
 * message; anything unexpected keeps its stack; other entries print as the SDK prints them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import type { LogEntry, LogLevel, LogMetadata } from '@temporalio/worker';
import { createWorkerLogger, formatLogEntry, MESSAGE_MAX, sdkLogLevel } from '../../workers/log';
import { toActivityFailure, UpsError } from '../../activities/ups/errors';

const AT = BigInt(Date.UTC(2026, 0, 2, 3, 4, 5, 678)) * 1_000_000n;

/** The metadata the SDK composes for an activity's entries (activityLogAttributes + sdkComponent). */
function activityMeta(extra: LogMetadata): LogMetadata {
  return {
    isLocal: false,
    attempt: 3,
    namespace: 'default',
    taskToken: 'CiQ2YzM4ZjQ5Ni1hZDk0LTQ4NmMtYjJmMS1mMzQ2ZTAzYjBlOGQSB2JhdGNoLTE=',
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

function entry(message: string, meta?: LogMetadata, level: LogLevel = 'WARN'): LogEntry {
  return { level, message, meta, timestampNanos: AT };
}

test('a UPS failure is exactly one WARN line with activity, batch, row, attempt, type, category, code, message', () => {
  const error = ApplicationFailure.create({
    type: 'UpsRetryableError',
    message: 'create_shipment: UPS API returned HTTP 503',
    details: [{ code: '190001', category: 'unavailable', rowNo: 7 }],
  });
  const out = formatLogEntry(entry('Activity failed', activityMeta({ error })));
  assert.equal(
    out,
    '2026-01-02T03:04:05.678Z [WARN] Activity failed activity=shipRow batch=batch-spring row=7 attempt=3 ' +
      'type=UpsRetryableError category=unavailable code=190001 ' +
      'message="create_shipment: UPS API returned HTTP 503"\n',
  );
  assert.equal(out.split('\n').length, 2, 'one line');
  assert.doesNotMatch(out, /\bat .*\(|taskToken|CiQ2/, 'no stack, no task token');
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
  const error = toActivityFailure(ups);
  const out = formatLogEntry(entry('Activity failed', activityMeta({ error, attempt: 12 })));
  assert.equal(out.split('\n').length, 2, 'one line');
  assert.match(
    out,
    /^\S+ \[WARN\] Activity failed activity=shipRow batch=batch-spring attempt=12 type=UpsAmbiguousError tool=create_shipment category=transport code=REQUEST_ERROR message="create_shipment: REQUEST_ERROR: HTTPSConnectionPool/,
  );
  assert.doesNotMatch(out, / row=/);
  assert.match(
    out,
    /Max retries exceeded \(Caused by NewConnectionError\(\\"Failed/,
    'newlines folded, quotes escaped',
  );
  assert.doesNotMatch(out, /\n {4}at /, 'no stack of the failure or its causes');
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
    assert.equal(out.split('\n').length, 2, `one line for ${error.type}`);
    assert.match(out, new RegExp(` type=${error.type} `));
    assert.ok(out.length < MESSAGE_MAX + 250, `short: ${out.length}`);
  }
  const cut = formatLogEntry(entry('Activity failed', activityMeta({ error: cases[2] })));
  assert.match(cut, new RegExp(`message="x{${MESSAGE_MAX - 1}}…"\\n$`));
  const rejected = formatLogEntry(entry('Activity failed', activityMeta({ error: cases[0] })));
  assert.match(rejected, / row=4 attempt=3 type=UpsRejectedError category=address code=120802 /);
});

test('an unexpected error (TypeError, plain Error, an unknown failure type) keeps its stack', () => {
  const typeError = new TypeError("Cannot read properties of undefined (reading 'ShipmentRequest')");
  const out = formatLogEntry(entry('Activity failed', activityMeta({ error: typeError })));
  assert.ok(out.startsWith('2026-01-02T03:04:05.678Z [WARN] Activity failed {'), out);
  assert.ok(out.includes("TypeError: Cannot read properties of undefined (reading 'ShipmentRequest')"));
  assert.match(out, /\n\s+at .*worker-log\.test\.ts/, 'the stack is there');
  assert.ok(out.split('\n').length > 3);

  const plain = formatLogEntry(
    entry('Activity failed', activityMeta({ error: new Error('pool exhausted') })),
  );
  assert.match(plain, /Error: pool exhausted\n\s+at /);
  const unknown = ApplicationFailure.create({ type: 'SomethingElse', message: 'what is this' });
  assert.match(
    formatLogEntry(entry('Activity failed', activityMeta({ error: unknown }))),
    /ApplicationFailure: what is this\n\s+at /,
  );
});

test('other entries print as the SDK prints them', () => {
  assert.equal(
    formatLogEntry(entry('No Nexus services registered', { sdkComponent: 'worker', taskQueue: 'q' }, 'INFO')),
    "2026-01-02T03:04:05.678Z [INFO] No Nexus services registered { sdkComponent: 'worker', taskQueue: 'q' }\n",
  );
  assert.equal(formatLogEntry(entry('bare', undefined, 'ERROR')), '2026-01-02T03:04:05.678Z [ERROR] bare\n');
  // 'Activity failed' without an error, or a different message with an expected failure: unchanged.
  const error = ApplicationFailure.create({ type: 'UpsRetryableError', message: 'm' });
  assert.match(
    formatLogEntry(entry('Activity completed', activityMeta({ error }))),
    /ApplicationFailure: m\n\s+at /,
  );
});

test('the logger filters by SHIPBATCH_LOG_LEVEL and writes through the formatter', () => {
  assert.equal(sdkLogLevel('info'), 'INFO');
  assert.equal(sdkLogLevel('debug'), 'DEBUG');
  const written: string[] = [];
  const logger = createWorkerLogger('warn', (t) => written.push(t), false);
  logger.info('Worker state changed', { state: 'RUNNING' });
  logger.debug('Activity started', activityMeta({}));
  const error = ApplicationFailure.create({
    type: 'UpsRetryableError',
    message: 'create_shipment: UPS API returned HTTP 503',
    details: [{ code: '190001', category: 'unavailable', rowNo: 7 }],
  });
  logger.warn('Activity failed', activityMeta({ error }));
  assert.equal(written.length, 1, 'only the WARN entry at level warn');
  assert.match(
    written[0]!,
    /^\S+ \[WARN\] Activity failed activity=shipRow batch=batch-spring row=7 attempt=3 /,
  );
  assert.equal(written[0]!.split('\n').length, 2);

  const info: string[] = [];
  createWorkerLogger('info', (t) => info.push(t), false).info('Worker state changed', { state: 'RUNNING' });
  assert.equal(info.length, 1, 'info entries at the default level');
});

test('an entry an activity logs with an UpsError is one line too (row from the metadata)', () => {
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
  assert.equal(
    formatLogEntry(entry('UPS call failed', meta)),
    '2026-01-02T03:04:05.678Z [WARN] UPS call failed activity=shipRow batch=batch-spring row=5 attempt=3 ' +
      'type=UpsRetryableError tool=create_shipment category=unavailable code=190001 ' +
      'message="The UPS system is temporarily unavailable"\n',
  );
});
