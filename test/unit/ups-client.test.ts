/**
 * UpsClient decisions that do not need a server: classification by the create tool's configured name,
 * what a label lookup may read as "not shipped", unreadable success bodies, call pacing. The
 * connection is a stub answering fixed tool results.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { UpsClient, type UpsToolNames } from '../../activities/ups/client';
import { UpsTransportError, type CallOptions, type UpsMcpConnection } from '../../activities/ups/connection';
import { UpsError } from '../../activities/ups/errors';
import { pythonJson, requestError, toolErrorResult, upsHttpError } from '../../ups-sandbox/errors';
import { shipmentRequest } from '../helpers/ups-sandbox';

const RENAMED: UpsToolNames = {
  rate: 'ups_rate',
  create: 'ups_ship',
  void: 'ups_void',
  recoverLabel: 'ups_recover',
  validateAddress: 'ups_xav',
  track: 'ups_track',
  ratePickup: 'ups_rate_pickup',
  schedulePickup: 'ups_schedule_pickup',
  cancelPickup: 'ups_cancel_pickup',
  pickupStatus: 'ups_pickup_status',
};

/** A client whose server answers every call with `answer(tool)`. */
function clientAnswering(answer: (tool: string) => CallToolResult | Error, callsPerSecond = 0) {
  const calls: string[] = [];
  const connection = {
    async callTool(tool: string, _args: unknown, opts: CallOptions): Promise<CallToolResult> {
      await opts.beforeSend?.(); // as the real connection does, once it has a session
      calls.push(tool);
      const result = answer(tool);
      return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
    },
    close: () => Promise.resolve(),
  } as unknown as UpsMcpConnection;
  return {
    client: new UpsClient(connection, { tools: RENAMED, callTimeoutMs: 1000, callsPerSecond }),
    calls,
  };
}

async function failure(fn: () => Promise<unknown>): Promise<UpsError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof UpsError, `expected UpsError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a failure');
}

const readTimeout = (tool: string) =>
  toolErrorResult(tool, requestError('Read timed out. (read timeout=30)'));

test('a create under a configured name is still treated as a create: timeouts are ambiguous', async () => {
  const { client, calls } = clientAnswering(readTimeout);
  const onCreate = await failure(() => client.createShipment(shipmentRequest('SBunit-1')));
  assert.equal(onCreate.errorClass, 'ambiguous');
  assert.equal(onCreate.tool, 'ups_ship');
  const onRate = await failure(() => client.rateShipmentRequest(shipmentRequest('SBunit-2')));
  assert.equal(onRate.errorClass, 'retryable');
  assert.deepEqual(calls, ['ups_ship', 'ups_rate']);
});

test('a broken session after sending is ambiguous for the renamed create, retryable for others', async () => {
  const broken = () => new UpsTransportError('connection reset', true);
  const { client } = clientAnswering(broken);
  assert.equal(
    (await failure(() => client.createShipment(shipmentRequest('SBunit-3')))).errorClass,
    'ambiguous',
  );
  assert.equal((await failure(() => client.track('1ZA1B2C30300000017'))).errorClass, 'retryable');
  const { client: refused } = clientAnswering(() => new UpsTransportError('refused', false));
  assert.equal(
    (await failure(() => refused.createShipment(shipmentRequest('SBunit-4')))).errorClass,
    'retryable',
  );
});

test('an unexplained plain-text error on create is ambiguous; a pre-call validation text is definitive', async () => {
  const text = (body: string) => (tool: string) =>
    ({
      isError: true,
      content: [{ type: 'text', text: `Error executing tool ${tool}: ${body}` }],
    }) as CallToolResult;
  const { client } = clientAnswering(text("'NoneType' object has no attribute 'get'"));
  const crash = await failure(() => client.createShipment(shipmentRequest('SBunit-5')));
  assert.deepEqual([crash.errorClass, crash.category], ['ambiguous', 'unknown']);
  const { client: pydantic } = clientAnswering(
    text('1 validation error for create_shipmentArguments\nrequest_body\n  Field required [type=missing]'),
  );
  const invalid = await failure(() => pydantic.createShipment(shipmentRequest('SBunit-6')));
  assert.deepEqual([invalid.errorClass, invalid.category], ['definitive', 'validation']);
});

test('a success body that cannot be read after a create is ambiguous (the shipment exists)', async () => {
  const { client } = clientAnswering(() => ({
    content: [{ type: 'text', text: '{}' }],
    structuredContent: {},
  }));
  const err = await failure(() => client.createShipment(shipmentRequest('SBunit-7')));
  assert.equal(err.errorClass, 'ambiguous');
});

test('recoverByReference: only UPS "no label found" means not shipped; other lookup failures throw', async () => {
  const notFound = clientAnswering((tool) =>
    toolErrorResult(tool, upsHttpError(400, '190202', 'No label found')),
  );
  assert.equal(await notFound.client.recoverByReference('SBunit-8', 'A1B2C3'), undefined);

  const bare404 = clientAnswering((tool) => ({
    isError: true,
    content: [
      {
        type: 'text',
        text: `Error executing tool ${tool}: ${pythonJson({ status_code: 404, code: '404', message: 'Not Found', details: { raw: '<html>' } })}`,
      },
    ],
  }));
  const err = await failure(() => bare404.client.recoverByReference('SBunit-9', 'A1B2C3'));
  assert.equal(err.statusCode, 404);
  const trackingCode = clientAnswering((tool) =>
    toolErrorResult(tool, upsHttpError(404, '151044', 'Tracking Information Not Found')),
  );
  await failure(() => trackingCode.client.recoverByReference('SBunit-10', 'A1B2C3'));
  const down = clientAnswering((tool) => toolErrorResult(tool, upsHttpError(503, '190001', 'unavailable')));
  assert.equal(
    (await failure(() => down.client.recoverByReference('SBunit-11', 'A1B2C3'))).errorClass,
    'retryable',
  );
});

test('callsPerSecond spaces call starts', async () => {
  const { client } = clientAnswering((tool) => toolErrorResult(tool, upsHttpError(503, '190001', 'x')), 20);
  const started = Date.now();
  await Promise.all(Array.from({ length: 5 }, () => failure(() => client.track('1ZA1B2C30300000017'))));
  // 5 starts at 20/s: the last one no earlier than 200 ms after the first.
  assert.ok(Date.now() - started >= 195, `took ${Date.now() - started} ms`);
});

test('a create cancelled while it waits for its pacing slot is never sent: retryable, not ambiguous', async () => {
  const unavailable = (tool: string) => toolErrorResult(tool, upsHttpError(503, '190001', 'x'));
  const { client, calls } = clientAnswering(unavailable, 2);
  const controller = new AbortController();
  const first = failure(() => client.createShipment(shipmentRequest('SBunit-p1')));
  const second = failure(() => client.createShipment(shipmentRequest('SBunit-p2'), controller.signal));
  setTimeout(() => controller.abort(), 50);
  const err = await second;
  assert.deepEqual([err.category, err.errorClass], ['transport', 'retryable']);
  assert.match(err.message, /cancelled before it was sent/);
  await first;
  assert.deepEqual(calls, ['ups_ship'], 'only the first create reached the server');
});
