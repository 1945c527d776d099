/**
 * `shipbatch-mcp` as an AI agent drives it: the bin spawned over stdio and spoken to with the
 * MCP TypeScript client, against the real stack (npm test's Temporal and PostgreSQL), a worker in this
 * process on the server's task queue and the UPS sandbox. Bad arguments first (no worker needed), then a
 * batch interrupted with no worker, the confirm-mode happy path, the pre-flight and after-the-label options
 * (a pickup's charge in the preview, its PRN in the status, shared by two batches), restart of a failed row,
 * and a batch waiting for UPS after refused credentials resumed once they are fixed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { shipmentBatch } from '../../workflows';
import { defaultPickupDate } from '../../domain/pickup';
import { readCallLog, shipmentsPerReference } from '../../ups-sandbox/call-log';
import { readPickups } from '../../ups-sandbox/pickups';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { makeOrders, SHIPPER, TEMPLATE } from '../helpers/batch';
import { createImportedOrdersTable } from '../helpers/imported-orders';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'shipbatch-mcp.js');

let env: TestEnvironment;
let sbx: ReturnType<TestEnvironment['sandboxClient']>;
let mcp: Client;
let serverLog = '';

interface Answer {
  isError: boolean;
  text: string;
}

async function call(name: string, args: Record<string, unknown>): Promise<Answer> {
  const r = (await mcp.callTool({ name, arguments: args }, undefined, { timeout: 90_000 })) as {
    isError?: boolean;
    content: { type: string; text?: string }[];
  };
  return { isError: r.isError === true, text: r.content.map((c) => c.text ?? '').join('\n') };
}

/** A successful call's JSON answer. */
async function ok<T = Record<string, unknown>>(name: string, args: Record<string, unknown>): Promise<T> {
  const r = await call(name, args);
  assert.equal(
    r.isError,
    false,
    `${name} ${JSON.stringify(args)} failed: ${r.text}\nserver log:\n${serverLog}`,
  );
  return JSON.parse(r.text) as T;
}

/** A refused call's message, checked against `pattern`. */
async function refused(name: string, args: Record<string, unknown>, pattern: RegExp): Promise<string> {
  const r = await call(name, args);
  assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} should fail, answered ${r.text}`);
  assert.match(r.text, pattern);
  return r.text;
}

interface Status {
  job_id: string;
  phase: string;
  mode: string;
  counts: { total: number; shipped: number; failed: number };
  approval?: { by: string };
}

const FINAL = ['completed', 'completed_with_errors', 'cancelled', 'rejected', 'expired'];

/** Follow a batch through batch_execute (its status answer) until `phase`. */
async function untilPhase(jobId: string, phase: string): Promise<Status> {
  const deadline = Date.now() + 120_000;
  let s: Status;
  do {
    s = await ok<Status>('batch_execute', { job_id: jobId, wait_seconds: 10 });
    if (s.phase === phase) return s;
    if (FINAL.includes(s.phase)) break; // awaiting_action may be left after a restart: keep polling
  } while (Date.now() < deadline);
  assert.fail(`batch ${jobId} is ${s.phase}, expected ${phase}: ${JSON.stringify(s)}`);
}

const previewArgs = (table: string, extra: Record<string, unknown> = {}) => ({
  source_table: table,
  mapping_template: TEMPLATE,
  shipper_info: SHIPPER,
  ...extra,
});

before(async () => {
  env = await openTestEnvironment('agent-mcp');
  sbx = env.sandboxClient('agent');
  writeFileSync(sbx.knobsFile, JSON.stringify({ rejectPostalCodes: ['60601'] })); // Chicago rows fail
  const transport = new StdioClientTransport({
    command: process.execPath,
    // Auto mode allowed: one test below ships a batch in auto mode.
    args: [BIN, '--allow-auto'],
    // A directory without a `shipbatch dev` state file: the services come from the environment only.
    cwd: await mkdtemp(path.join(os.tmpdir(), 'shipbatch-agent-mcp-')),
    env: { ...(process.env as Record<string, string>), SHIPBATCH_TASK_QUEUE: env.taskQueue },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (d: Buffer) => (serverLog += d.toString()));
  mcp = new Client({ name: 'agent-mcp-test', version: '1.0.0' });
  await mcp.connect(transport);
});

after(async () => {
  await mcp?.close();
  await sbx?.ups.close();
  await env?.close();
});

test('lists the four tools with described JSON Schemas; bad arguments are tool errors naming the argument', async () => {
  const { tools } = await mcp.listTools();
  assert.deepEqual(
    tools.map((t) => t.name),
    ['batch_preview', 'batch_execute', 'batch_set_mode', 'batch_resume'],
  );
  assert.equal(
    tools[1]!.annotations?.destructiveHint,
    true,
    'batch_execute ships: clients may ask the user first',
  );
  const preview = tools[0]!.inputSchema as {
    required: string[];
    properties: Record<string, { description?: string }>;
  };
  assert.deepEqual(preview.required, ['source_table', 'mapping_template', 'shipper_info']);
  for (const [name, prop] of Object.entries(preview.properties))
    assert.ok(prop.description, `${name} is described`);

  const table = await createImportedOrdersTable(env.pool, makeOrders(1));
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'batch_preview',
      previewArgs('orders; DROP TABLE batch_rows'),
      /source_table: table must be a plain identifier/,
    ],
    [
      'batch_preview',
      previewArgs(table, { mapping_template: '' }),
      /mapping_template: mapping_template is empty/,
    ],
    [
      'batch_preview',
      previewArgs(table, { shipper_info: { ...SHIPPER, ShipperNumber: 'x' } }),
      /shipper_info\.ShipperNumber/,
    ],
    ['batch_preview', previewArgs(table, { mode: 'yolo' }), /mode: mode must be "confirm" or "auto"/],
    ['batch_preview', previewArgs(table, { job_id: '../../etc/passwd' }), /job_id: invalid batch id/],
    ['batch_preview', previewArgs(table, { sql: 'DROP TABLE x' }), /Unrecognized key: "sql"/],
    ['batch_preview', previewArgs('no_such_table'), /source_table: .*no_such_table/],
    [
      'batch_preview',
      previewArgs(table, { filter_clause: `id IN (SELECT id FROM ${table})` }),
      /filter_clause: .*subquer/i,
    ],
    ['batch_preview', previewArgs(table, { filter_clause: '1=1; DROP TABLE batch_rows' }), /filter_clause: /],
    [
      'batch_preview',
      previewArgs(table, { filter_clause: 'nosuchcolumn = 1' }),
      /filter_clause: .*nosuchcolumn/,
    ],
    [
      'batch_preview',
      previewArgs(table, { mapping_template: '{% if %}' }),
      /mapping_template: does not compile: \[Line 1, Column 7\]/,
    ],
    [
      'batch_preview',
      previewArgs(table, { address_check: 'strict' }),
      /address_check: address_check must be "off", "warn" or "require"/,
    ],
    [
      'batch_preview',
      previewArgs(table, { service: 'fastest' }),
      /service: service must be "template" or "cheapest"/,
    ],
    ...[0, 31, 2.5, 1e308, '2', -1].map((bad): [string, Record<string, unknown>, RegExp] => [
      'batch_preview',
      previewArgs(table, { service: 'cheapest', max_transit_days: bad }),
      /max_transit_days: max_transit_days must be a whole number from 1 to 30/,
    ]),
    [
      'batch_preview',
      previewArgs(table, { max_transit_days: 2 }),
      /max_transit_days: applies only with service "cheapest" \(service is "template"\)/,
    ],
    [
      'batch_preview',
      previewArgs(table, { use_corrected_address: 'yes' }),
      /use_corrected_address: use_corrected_address must be true or false/,
    ],
    [
      'batch_preview',
      previewArgs(table, { use_corrected_address: true }),
      /use_corrected_address: needs an address check/,
    ],
    // The after-the-label arguments (issue 25): wrong types, impossible times, a short window, junk keys.
    ...(
      [
        ['tomorrow', /pickup: .*expected object, received string/],
        [{ ready_time: 9, close_time: '17:00' }, /pickup\.ready_time: .*expected string, received number/],
        [{ ready_time: '25:00', close_time: '26:00' }, /pickup\.ready_time: expected a time of day/],
        [
          { ready_time: '09:00', close_time: '09:30' },
          /pickup\.close_time: close_time must be at least 60 minutes after ready_time/,
        ],
        [
          { ready_time: '09:00', close_time: '17:00', sql: 'DROP TABLE x' },
          /pickup: Unrecognized key: "sql"/,
        ],
        [
          { ready_time: '09:00', close_time: '17:00', date: '2026-02-30' },
          /pickup\.date: not a calendar date/,
        ],
      ] as const
    ).map(([pickup, pattern]): [string, Record<string, unknown>, RegExp] => [
      'batch_preview',
      previewArgs(table, { pickup }),
      pattern,
    ]),
    [
      'batch_preview',
      previewArgs(table, {
        pickup: { ready_time: '09:00', close_time: '17:00' },
        shipper_info: { ...SHIPPER, Phone: undefined },
      }),
      /pickup: needs shipper_info\.Phone\.Number/,
    ],
    ['batch_preview', previewArgs(table, { track_for: 14 }), /track_for: .*expected string, received number/],
    ['batch_preview', previewArgs(table, { track_for: '2 weeks' }), /track_for: expected a duration/],
    ['batch_preview', previewArgs(table, { track_for: '400d' }), /track_for: at most 365 days/],
    ['batch_preview', previewArgs(table, { track_every: '0s' }), /track_every: at least 1s/],
    [
      'batch_preview',
      previewArgs(table, { track_for: '0s', track_every: '1h' }),
      /track_every: applies only with tracking \(track_for is "0s": no tracking\)/,
    ],
    ['batch_execute', {}, /job_id: .*expected string/],
    ['batch_execute', { job_id: 'x', approved: 'yes' }, /approved: .*expected boolean/],
    ['batch_execute', { job_id: 'batch-no-such-batch' }, /job_id: no batch "batch-no-such-batch"/],
    ['batch_set_mode', { job_id: 'x', mode: 'fast' }, /mode: mode must be "confirm" or "auto"/],
    ['batch_resume', { choice: 'restart' }, /job_id: required with choice "restart"/],
    [
      'batch_resume',
      { job_id: 'x', choice: 'delete' },
      /choice: choice must be "resume", "restart" or "cancel"/,
    ],
    ['batch_ship_everything', {}, /unknown tool "batch_ship_everything"/],
  ];
  for (const [name, args, pattern] of cases) await refused(name, args, pattern);
  // A huge value is refused in a few words, not sent back.
  const huge = '9'.repeat(200_000);
  for (const [extra, pattern] of [
    [{ pickup: { ready_time: huge, close_time: '17:00' } }, /pickup\.ready_time: expected a time of day/],
    [{ pickup: { ready_time: '09:00', close_time: '17:00', date: huge } }, /pickup\.date: expected a date/],
    [{ track_for: `${huge}d` }, /track_for: expected a duration/],
  ] as const) {
    const text = await refused('batch_preview', previewArgs(table, extra), pattern);
    assert.ok(text.length < 400, `${text.length} characters answered`);
  }
  // None of them started a batch on the server's task queue (the refused ones check before starting).
  const started = await env.client.workflow.count(`TaskQueue = '${env.taskQueue}'`);
  assert.equal(started.count, 0);
});

test('a batch with no worker: preview says so, resume lists it with a recovery prompt, cancel applies once a worker runs', async () => {
  // No worker has polled this test's task queue yet: the batch is started and waits durably.
  const table = await createImportedOrdersTable(env.pool, makeOrders(3));
  const msg = await refused('batch_preview', previewArgs(table), /no worker polls task queue/);
  const jobId = /job_id "(batch-[\w.-]+)"/.exec(msg)?.[1];
  assert.ok(jobId, msg);

  // Visibility lists a new workflow within moments: look a few times.
  type Listed = {
    batches: {
      job_id: string;
      reason: string;
      prompt: string;
      choices: { choice: string; effect: string }[];
    }[];
  };
  let listed: Listed = { batches: [] };
  for (let i = 0; i < 20 && !listed.batches.some((b) => b.job_id === jobId); i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 250));
    listed = await ok<Listed>('batch_resume', {});
  }
  const item = listed.batches.find((b) => b.job_id === jobId);
  assert.ok(item, `resume lists ${jobId}: ${JSON.stringify(listed)}`);
  assert.equal(item.reason, 'no_worker');
  assert.match(
    item.prompt,
    /not yet loaded by a worker\) is interrupted: no worker polls its task queue\. 0 row\(s\) done .* 0 remaining .*Last error: none/,
  );
  assert.deepEqual(
    item.choices.map((c) => c.choice),
    ['resume', 'cancel'],
  );
  assert.match(item.choices[0]!.effect, new RegExp(`task queue ${env.taskQueue}`));

  const resume = await ok<{ worker_polling: boolean; will_happen: string }>('batch_resume', {
    job_id: jobId,
    choice: 'resume',
  });
  assert.equal(resume.worker_polling, false);
  assert.match(resume.will_happen, /continues from where it stopped/);
  await refused('batch_resume', { job_id: jobId, choice: 'restart' }, /choice: nothing to restart/);
  const cancel = await ok<{ queued: boolean }>('batch_resume', { job_id: jobId, choice: 'cancel' });
  assert.equal(cancel.queued, true);

  await env.withWorker(
    async () => {
      const result = await env.client.workflow.getHandle<typeof shipmentBatch>(jobId).result();
      assert.equal(result.phase, 'cancelled');
    },
    { ups: sbx.ups },
  );
  assert.equal(
    readCallLog(sbx.dataDir).filter((c) => c.tool === 'create_shipment').length,
    0,
    'nothing shipped',
  );
});

test('confirm mode: preview → execute without approval refused → execute with approval → completed; reuse by job_id', async () => {
  const table = await createImportedOrdersTable(env.pool, makeOrders(3)); // Portland, Houston, Denver: all ship
  await env.withWorker(
    async () => {
      const p = await ok<{
        job_id: string;
        reused: boolean;
        phase: string;
        mode: string;
        totalRows: number;
        validRows: number;
        previewHash: string;
        previewRows: { recipient: string }[];
        totalEstimatedCostCents: number;
      }>('batch_preview', previewArgs(table, { mode: 'CONFIRM' }));
      assert.equal(p.phase, 'awaiting_approval');
      assert.equal(p.mode, 'confirm');
      assert.equal(p.reused, false);
      assert.equal(p.totalRows, 3);
      assert.equal(p.validRows, 3);
      assert.match(p.previewHash, /^[0-9a-f]{64}$/);
      assert.equal(p.previewRows[0]!.recipient, 'Michael Davis', 'recipients merged from the ledger');
      assert.ok(p.totalEstimatedCostCents > 0);

      const again = await ok<{ reused: boolean; previewHash: string }>(
        'batch_preview',
        previewArgs(table, { job_id: p.job_id }),
      );
      assert.equal(again.reused, true);
      assert.equal(again.previewHash, p.previewHash);

      const mode = await ok<Status>('batch_set_mode', { job_id: p.job_id, mode: 'Confirm' });
      assert.equal(mode.mode, 'confirm');
      await refused('batch_execute', { job_id: p.job_id }, /Preview approval required in CONFIRM mode/);
      await refused(
        'batch_execute',
        { job_id: p.job_id, approved: false },
        /Preview approval required in CONFIRM mode/,
      );
      assert.equal(readCallLog(sbx.dataDir).filter((c) => c.tool === 'create_shipment').length, 0);

      const started = await ok<Status>('batch_execute', { job_id: p.job_id, approved: true });
      assert.equal(started.approval?.by, 'shipbatch-mcp');
      const done = await untilPhase(p.job_id, 'completed');
      assert.equal(done.counts.shipped, 3);
      const shipments = shipmentsPerReference(sbx.dataDir);
      assert.equal(shipments.size, 3);
      assert.ok(
        [...shipments.values()].every((n) => n === 1),
        'each row shipped once',
      );

      await refused('batch_set_mode', { job_id: p.job_id, mode: 'auto' }, /refused by batch .*closed/);
    },
    { ups: sbx.ups },
  );
});

/** The batch options the ledger recorded for a batch (what its workflow was started with). */
async function ledgerOptions(jobId: string): Promise<Record<string, unknown>> {
  const { rows } = await env.pool.query<{ options: Record<string, unknown> }>(
    'SELECT options FROM batches WHERE batch_id = $1',
    [jobId],
  );
  assert.ok(rows[0], `batch ${jobId} in the ledger`);
  return rows[0].options;
}

test('address check and rate shopping: batch_preview passes the options and answers with their summaries', async () => {
  const table = await createImportedOrdersTable(env.pool, makeOrders(5)); // row 4 is in Chicago: UPS knows no such address
  await env.withWorker(
    async () => {
      writeFileSync(sbx.knobsFile, JSON.stringify({ rejectPostalCodes: ['60601'] }));
      const p = await ok<{
        job_id: string;
        validRows: number;
        invalidRows: number;
        addressCheck: {
          mode: string;
          checked: number;
          notFound: number;
          invalidated: number;
          rows: { notFound: number[] };
        };
        rateShopping: {
          maxTransitDays: number;
          shopped: number;
          services: Record<string, number>;
          savingsCents: number;
          templateCents: number;
          chosenCents: number;
        };
        previewRows: {
          rowNo: number;
          service: string;
          templateService?: string;
          address?: { outcome: string };
        }[];
      }>(
        'batch_preview',
        previewArgs(table, { address_check: 'require', service: 'cheapest', max_transit_days: 2 }),
      );
      const options = await ledgerOptions(p.job_id);
      assert.equal(options.addressCheck, 'require');
      assert.deepEqual(options.service, { cheapest: { maxTransitDays: 2 } });
      assert.deepEqual([p.validRows, p.invalidRows], [4, 1]);
      assert.equal(p.addressCheck.mode, 'require');
      assert.deepEqual(
        [p.addressCheck.checked, p.addressCheck.notFound, p.addressCheck.invalidated],
        [5, 1, 1],
      );
      assert.deepEqual(p.addressCheck.rows.notFound, [4]);
      assert.equal(p.rateShopping.maxTransitDays, 2);
      assert.equal(p.rateShopping.shopped, 4);
      assert.equal(
        Object.values(p.rateShopping.services).reduce((a, b) => a + b, 0),
        4,
      );
      assert.equal(p.rateShopping.savingsCents, p.rateShopping.templateCents - p.rateShopping.chosenCents);
      assert.ok(p.previewRows.every((r) => r.address?.outcome === 'valid'));
      const asked = readCallLog(sbx.dataDir).filter((c) => c.tool === 'validate_address');
      assert.ok(asked.length >= 5, 'one validate_address per row');
      await env.client.workflow.getHandle(p.job_id).terminate('test done');
    },
    { ups: sbx.ups },
  );
});

interface PickupAnswers {
  job_id: string;
  phase: string;
  pickup?: {
    date: string;
    readyTime: string;
    closeTime: string;
    state?: string;
    prn?: string;
    costCents?: number;
    currency?: string;
    sharedWith?: string[];
    error?: string;
  };
}

test('pickup and tracking: batch_preview passes pickup, track_for and track_every; the preview has UPS’s charge, the status the PRN and the batch sharing it', async () => {
  // A weekday at least three days ahead: UPS takes the pickup whatever the time of day.
  const date = defaultPickupDate(new Date(Date.now() + 2 * 86_400_000), '00:00');
  const pickup = { ready_time: '09:00', close_time: '17:00', date };
  const schedules = () => readCallLog(sbx.dataDir).filter((c) => c.tool === 'schedule_pickup').length;
  const scheduledBefore = schedules();
  await env.withWorker(
    async () => {
      const a = await ok<PickupAnswers>(
        'batch_preview',
        previewArgs(await createImportedOrdersTable(env.pool, makeOrders(2)), {
          pickup,
          track_for: '2d',
          track_every: '6h',
        }),
      );
      assert.equal(a.phase, 'awaiting_approval');
      const options = await ledgerOptions(a.job_id);
      assert.deepEqual(options.pickup, { date, readyTime: '09:00', closeTime: '17:00' });
      assert.deepEqual([options.trackFor, options.trackEvery], ['2d', '6h']);
      // The preview's pickup line: the window asked for and UPS's charge for it.
      assert.deepEqual([a.pickup?.date, a.pickup?.readyTime, a.pickup?.closeTime], [date, '09:00', '17:00']);
      assert.ok((a.pickup?.costCents ?? 0) > 0, `UPS's charge in the preview: ${JSON.stringify(a.pickup)}`);
      assert.equal(a.pickup?.currency, 'USD');
      assert.equal(schedules(), scheduledBefore, 'nothing scheduled before approval');

      await ok('batch_execute', { job_id: a.job_id, approved: true });
      const doneA = (await untilPhase(a.job_id, 'completed')) as Status & PickupAnswers;
      assert.equal(doneA.pickup?.state, 'scheduled', JSON.stringify(doneA.pickup));
      assert.match(doneA.pickup?.prn ?? '', /^[0-9A-Z]{11}$/);
      assert.equal(doneA.pickup?.date, date);
      assert.equal(
        readPickups(sbx.dataDir).filter((p) => p.prn === doneA.pickup?.prn).length,
        1,
        'the PRN is UPS’s pickup',
      );

      // Another batch for the same address and day, in auto mode without tracking: UPS merges the pickups.
      const b = await ok<PickupAnswers>(
        'batch_preview',
        previewArgs(await createImportedOrdersTable(env.pool, makeOrders(2)), {
          mode: 'auto',
          pickup,
          track_for: '0s',
        }),
      );
      const optionsB = await ledgerOptions(b.job_id);
      assert.deepEqual([optionsB.trackFor, optionsB.trackEvery], ['0s', '4h']);
      const doneB = (await untilPhase(b.job_id, 'completed')) as Status & PickupAnswers;
      assert.equal(doneB.pickup?.state, 'scheduled', JSON.stringify(doneB.pickup));
      assert.equal(doneB.pickup?.prn, doneA.pickup?.prn, 'one pickup for both batches');
      assert.deepEqual(doneB.pickup?.sharedWith, [a.job_id]);
      assert.equal(schedules(), scheduledBefore + 2, 'each batch asked once');
    },
    { ups: sbx.ups },
  );
});

test('auto mode with a failed row: mode locked, resume lists it, restart ships the failed row once', async () => {
  const table = await createImportedOrdersTable(env.pool, makeOrders(5)); // row 4 is in Chicago: UPS rejects it
  await env.withWorker(
    async () => {
      const p = await ok<{ job_id: string; validRows: number }>(
        'batch_preview',
        previewArgs(table, { mode: 'auto' }),
      );
      assert.equal(p.validRows, 5);
      const waiting = await untilPhase(p.job_id, 'awaiting_action');
      assert.equal(waiting.counts.failed, 1);
      assert.equal(waiting.counts.shipped, 4);
      await refused('batch_set_mode', { job_id: p.job_id, mode: 'CONFIRM' }, /mode is locked/);

      const listed = await ok<{
        batches: {
          job_id: string;
          reason: string;
          rows_done: number;
          rows_remaining: number;
          last_error: string;
          choices: { choice: string }[];
        }[];
      }>('batch_resume', { job_id: p.job_id });
      assert.equal(listed.batches.length, 1);
      const item = listed.batches[0]!;
      assert.equal(item.reason, 'awaiting_action');
      assert.equal(item.rows_done, 5);
      assert.equal(item.rows_remaining, 0);
      assert.match(item.last_error, /Address Validation/);
      assert.deepEqual(
        item.choices.map((c) => c.choice),
        ['resume', 'restart', 'cancel'],
      );

      writeFileSync(sbx.knobsFile, '{}'); // the address problem is fixed
      const restarted = await ok<{ scope: string }>('batch_resume', { job_id: p.job_id, choice: 'restart' });
      assert.equal(restarted.scope, 'failed');
      const done = await untilPhase(p.job_id, 'completed');
      assert.equal(done.counts.shipped, 5);
      const { rows } = await env.pool.query<{ reference: string }>(
        'SELECT reference FROM batch_rows WHERE batch_id = $1',
        [p.job_id],
      );
      const shipments = shipmentsPerReference(sbx.dataDir);
      assert.ok(
        rows.every((r) => shipments.get(r.reference) === 1),
        'every row shipped exactly once',
      );
    },
    { ups: sbx.ups },
  );
});

test('UPS refuses the credentials: execute reports waiting_for_ups, resume lists the outage and sends resume after the fix', async () => {
  const table = await createImportedOrdersTable(env.pool, makeOrders(3)); // Portland, Houston, Denver: all ship
  await env.withWorker(
    async () => {
      writeFileSync(sbx.knobsFile, '{}');
      const p = await ok<{ job_id: string; validRows: number }>('batch_preview', previewArgs(table));
      assert.equal(p.validRows, 3);
      // The credentials expire between the preview and the approval: every UPS call answers 401.
      writeFileSync(sbx.knobsFile, JSON.stringify({ faultRates: { auth_error: 1 } }));
      try {
        await ok<Status>('batch_execute', { job_id: p.job_id, approved: true });
        type Waiting = Status & {
          upsOutage?: { kind: string; needsOperator: boolean };
          next_step: string;
        };
        let s: Waiting;
        const deadline = Date.now() + 90_000;
        do {
          s = await ok<Waiting>('batch_execute', { job_id: p.job_id, wait_seconds: 2 });
        } while (!(s.phase === 'waiting_for_ups' && s.upsOutage?.needsOperator) && Date.now() < deadline);
        assert.equal(s.phase, 'waiting_for_ups', JSON.stringify(s));
        assert.equal(s.upsOutage?.kind, 'auth');
        assert.match(s.next_step, /Ask the user to fix the UPS credentials/);
        assert.equal(s.counts.failed, 0, 'no row fails for the outage');

        const listed = await ok<{
          batches: {
            reason: string;
            ups_outage?: { needsOperator: boolean; reason: string };
            choices: { choice: string; effect: string }[];
            prompt: string;
          }[];
        }>('batch_resume', { job_id: p.job_id });
        const item = listed.batches[0]!;
        assert.equal(item.reason, 'waiting_for_ups');
        assert.equal(item.ups_outage?.needsOperator, true);
        assert.match(
          item.prompt,
          /waits for UPS: shipping is paused\. UPS outage: UPS refused the credentials/,
        );
        assert.deepEqual(
          item.choices.map((c) => c.choice),
          ['resume', 'cancel'],
        );

        writeFileSync(sbx.knobsFile, '{}'); // the user fixed the credentials
        const r = await call('batch_resume', { job_id: p.job_id, choice: 'resume' });
        if (r.isError) {
          // A probe saw UPS answer first: the batch resumed by itself.
          assert.match(r.text, /nothing to resume: the batch is (executing|completed)/);
        } else {
          const resumed = JSON.parse(r.text) as { sent: boolean; phase: string };
          assert.equal(resumed.sent, true, r.text);
        }
        const done = await untilPhase(p.job_id, 'completed');
        assert.equal(done.counts.shipped, 3);
        const { rows } = await env.pool.query<{ reference: string }>(
          'SELECT reference FROM batch_rows WHERE batch_id = $1',
          [p.job_id],
        );
        const shipments = shipmentsPerReference(sbx.dataDir);
        assert.ok(
          rows.every((row) => shipments.get(row.reference) === 1),
          'every row shipped exactly once',
        );
      } finally {
        writeFileSync(sbx.knobsFile, '{}');
      }
    },
    { ups: sbx.ups },
  );
});

test('UPS refuses the credentials during the preview: preview null with the outage, the preview follows the fix', async () => {
  const table = await createImportedOrdersTable(env.pool, makeOrders(3));
  await env.withWorker(
    async () => {
      writeFileSync(sbx.knobsFile, JSON.stringify({ faultRates: { auth_error: 1 } }));
      try {
        const p = await ok<{
          job_id: string;
          phase: string;
          preview: null;
          upsOutage?: { kind: string; needsOperator: boolean };
          next_step: string;
        }>('batch_preview', previewArgs(table));
        assert.equal(p.phase, 'waiting_for_ups', JSON.stringify(p));
        assert.equal(p.preview, null, 'no $0.00 estimate');
        assert.equal(p.upsOutage?.needsOperator, true);
        assert.match(
          p.next_step,
          /^No preview yet: UPS rated no row: .*Ask the user to fix the UPS credentials/,
        );
        // Nothing to approve yet: execute answers the status and the same next step, approving nothing.
        const ex = await ok<Status & { next_step: string }>('batch_execute', {
          job_id: p.job_id,
          approved: true,
        });
        assert.equal(ex.phase, 'waiting_for_ups');
        assert.equal(ex.approval, undefined);
        assert.match(ex.next_step, /^No preview yet/);

        writeFileSync(sbx.knobsFile, '{}');
        const r = await call('batch_resume', { job_id: p.job_id, choice: 'resume' });
        if (r.isError) assert.match(r.text, /nothing to resume: the batch is (previewing|awaiting_approval)/);
        let again: { phase: string; previewHash?: string; totalEstimatedCostCents?: number };
        const deadline = Date.now() + 60_000;
        do {
          again = await ok('batch_preview', previewArgs(table, { job_id: p.job_id }));
        } while (again.phase !== 'awaiting_approval' && Date.now() < deadline);
        assert.equal(again.phase, 'awaiting_approval', JSON.stringify(again));
        assert.match(again.previewHash ?? '', /^[0-9a-f]{64}$/);
        assert.ok((again.totalEstimatedCostCents ?? 0) > 0);
        await ok('batch_resume', { job_id: p.job_id, choice: 'cancel' });
      } finally {
        writeFileSync(sbx.knobsFile, '{}');
      }
    },
    { ups: sbx.ups },
  );
});

test('--http serves the same tools over Streamable HTTP on 127.0.0.1; a foreign Host header is refused', async () => {
  const child = spawn(process.execPath, [BIN, '--http', '0'], {
    env: { ...process.env, SHIPBATCH_TASK_QUEUE: env.taskQueue },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    let err = '';
    let url: string | undefined;
    for await (const chunk of child.stderr) {
      err += (chunk as Buffer).toString();
      url = /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(err)?.[1];
      if (url) break;
    }
    assert.ok(url, `no address printed: ${err}`);
    // node:http, not fetch: fetch does not let a caller set Host.
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    });
    const req = request(url, {
      method: 'POST',
      headers: {
        host: 'evil.example',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
    });
    req.end(body);
    const [rebound] = (await once(req, 'response')) as [IncomingMessage];
    rebound.resume();
    assert.equal(rebound.statusCode, 403);
    const http = new Client({ name: 'agent-mcp-http-test', version: '1.0.0' });
    await http.connect(new StreamableHTTPClientTransport(new URL(url)));
    try {
      assert.equal((await http.listTools()).tools.length, 4);
      const r = (await http.callTool({
        name: 'batch_set_mode',
        arguments: { job_id: 'x', mode: 'FAST' },
      })) as {
        isError?: boolean;
        content: { text: string }[];
      };
      assert.equal(r.isError, true);
      assert.match(r.content[0]!.text, /mode: mode must be "confirm" or "auto"/);
    } finally {
      await http.close();
    }
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
  }
});

test('PostgreSQL unreachable: a tool error naming the database without its password', async () => {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN],
    cwd: await mkdtemp(path.join(os.tmpdir(), 'shipbatch-agent-mcp-')),
    env: {
      ...(process.env as Record<string, string>),
      SHIPBATCH_TASK_QUEUE: env.taskQueue,
      DATABASE_URL: 'postgres://shop:s3cret-pw@127.0.0.1:1/shop',
    },
    stderr: 'ignore',
  });
  const other = new Client({ name: 'agent-mcp-nodb-test', version: '1.0.0' });
  await other.connect(transport);
  try {
    const table = 'orders';
    const r = (await other.callTool({ name: 'batch_preview', arguments: previewArgs(table) })) as {
      isError?: boolean;
      content: { text: string }[];
    };
    assert.equal(r.isError, true);
    assert.match(r.content[0]!.text, /PostgreSQL at 127\.0\.0\.1:1\/shop is unreachable/);
    assert.doesNotMatch(r.content[0]!.text, /s3cret-pw/);
  } finally {
    await other.close();
  }
});
