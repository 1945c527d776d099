/**
 * The agent's batch_resume and batch_execute on a batch waiting for UPS, against a fake client
 * (the workflow's side is tested in test/workflow): the listing carries the outage and the right choices,
 * `resume` sends the `resume` Update only when the operator had to act (credentials refused), and
 * otherwise says the batch resumes by itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyCounts, type BatchStatus, type UpsOutage } from '../../domain/batch';
import type { AttentionItem, ShipbatchClient } from '../../client/batches';
import { BatchRefusedError } from '../../client/errors';
import { callTool } from '../../agent/tools/index';

const ID = 'batch-ups';

function outage(needsOperator: boolean): UpsOutage {
  return needsOperator
    ? {
        kind: 'auth',
        reason: 'UPS refused the credentials',
        since: '2025-06-01T10:00:00.000Z',
        nextProbeAt: '2025-06-01T10:30:00.000Z',
        probes: 2,
        needsOperator: true,
      }
    : {
        kind: 'unreachable',
        reason: 'UPS unreachable: connection refused',
        since: '2025-06-01T10:00:00.000Z',
        nextProbeAt: '2025-06-01T10:05:00.000Z',
        probes: 3,
        needsOperator: false,
      };
}

function status(phase: BatchStatus['phase'], upsOutage?: UpsOutage, previewed = true): BatchStatus {
  return {
    batchId: ID,
    name: 'ups',
    phase,
    mode: 'auto',
    modeLocked: true,
    counts: { ...emptyCounts(), total: 10, shipped: 4, pending: 6 },
    estimatedCostCents: 10_000,
    actualCostCents: 4_000,
    currency: 'USD',
    rejectedMessages: [],
    updatedAt: '2025-06-01T10:01:00.000Z',
    ...(previewed ? { previewHash: 'a'.repeat(64) } : {}),
    ...(upsOutage ? { upsOutage } : {}),
  };
}

/** A client whose batch waits for UPS; records the resume Updates sent. */
function fakeClient(
  current: () => BatchStatus,
  resumed: unknown[],
  afterStatusRead: () => void = () => undefined,
): ShipbatchClient {
  const s = () => current();
  return {
    describeBatch: () => Promise.resolve({ taskQueue: 'shipbatch', status: { name: 'RUNNING' } }),
    workerPolling: () => Promise.resolve(true),
    getPreview: () => Promise.resolve(null),
    getBatch: () => {
      const answer = s();
      afterStatusRead();
      return Promise.resolve(answer);
    },
    ledgerCounts: () => Promise.resolve({ counts: s().counts }),
    // No tracked package is in exception: batch_resume lists the outage only.
    trackingExceptions: () => Promise.resolve([]),
    attentionBatches: (): Promise<AttentionItem[]> =>
      Promise.resolve([
        {
          batchId: ID,
          runId: 'run',
          status: 'RUNNING',
          taskQueue: 'shipbatch',
          phase: 'waiting_for_ups',
          startTime: '2025-06-01T09:00:00.000Z',
          reason: 'waiting_for_ups',
          done: 4,
          remaining: 6,
          counts: s().counts,
          lastError: s().upsOutage?.reason ?? null,
          ...(s().upsOutage ? { upsOutage: s().upsOutage } : {}),
          choices: [],
        },
      ]),
    resumeBatch: (id: string, args: unknown) => {
      resumed.push({ id, args });
      if (s().phase !== 'waiting_for_ups') {
        return Promise.reject(
          new BatchRefusedError(
            id,
            'resume',
            `nothing to resume: the batch is ${s().phase} (resume applies in waiting_for_ups)`,
          ),
        );
      }
      return Promise.resolve(status('executing'));
    },
  } as unknown as ShipbatchClient;
}

async function tool(
  client: ShipbatchClient,
  name: string,
  args: Record<string, unknown>,
): Promise<{ isError: boolean; json: Record<string, unknown>; text: string }> {
  const r = await callTool(() => Promise.resolve(client), name, args, { pollMs: 1 });
  const text = r.content.map((c) => c.text).join('\n');
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // an error text
  }
  return { isError: r.isError === true, json, text };
}

interface Listed {
  count: number;
  batches: {
    job_id: string;
    reason: string;
    ups_outage?: UpsOutage;
    choices: { choice: string; effect: string }[];
    prompt: string;
  }[];
}

test('credentials refused: listed with the outage, resume sends the resume Update once the user fixed them', async () => {
  const resumed: unknown[] = [];
  const client = fakeClient(() => status('waiting_for_ups', outage(true)), resumed);
  const listed = (await tool(client, 'batch_resume', {})).json as unknown as Listed;
  const item = listed.batches[0]!;
  assert.equal(item.reason, 'waiting_for_ups');
  assert.equal(item.ups_outage?.needsOperator, true);
  assert.deepEqual(
    item.choices.map((c) => c.choice),
    ['resume', 'cancel'],
  );
  assert.match(item.choices[0]!.effect, /UPS refused the credentials: once the user has fixed them/);
  assert.match(
    item.prompt,
    /waits for UPS: shipping is paused\. UPS outage: UPS refused the credentials since 2025-06-01T10:00:00\.000Z, 2 probe\(s\) so far, next at 2025-06-01T10:30:00\.000Z; the operator must fix the credentials, then resume\./,
  );

  const exec = (await tool(client, 'batch_execute', { job_id: ID })).json;
  assert.equal(exec.phase, 'waiting_for_ups');
  assert.match(
    String(exec.next_step),
    /Ask the user to fix the UPS credentials .* batch_resume \{job_id: "batch-ups", choice: "resume"\}/,
  );

  const r = await tool(client, 'batch_resume', { job_id: ID, choice: 'resume' });
  assert.equal(r.isError, false, r.text);
  assert.deepEqual(resumed, [{ id: ID, args: { by: 'shipbatch-mcp' } }]);
  assert.equal(r.json.sent, true);
  assert.equal(r.json.phase, 'executing');
  assert.equal((r.json.resumed_from as UpsOutage).kind, 'auth');
  assert.match(String(r.json.next_step), /The batch is shipping/);
});

test('UPS unreachable: resumes by itself; resume sends nothing and says when UPS is asked next', async () => {
  const resumed: unknown[] = [];
  const client = fakeClient(() => status('waiting_for_ups', outage(false)), resumed);
  const listed = (await tool(client, 'batch_resume', { job_id: ID })).json as unknown as Listed;
  const item = listed.batches[0]!;
  assert.match(
    item.choices[0]!.effect,
    /^Nothing to do: the batch probes UPS \(3 probe\(s\) so far, next at 2025-06-01T10:05:00\.000Z\) and resumes by itself/,
  );
  assert.match(item.prompt, /it resumes by itself when UPS answers\./);

  const r = await tool(client, 'batch_resume', { job_id: ID, choice: 'resume' });
  assert.equal(r.isError, false, r.text);
  assert.deepEqual(resumed, [], 'no Update sent');
  assert.equal(r.json.sent, false);
  assert.match(
    String(r.json.will_happen),
    /Nothing sent: UPS unreachable: connection refused, and the batch resumes by itself/,
  );

  const exec = (await tool(client, 'batch_execute', { job_id: ID })).json;
  assert.match(
    String(exec.next_step),
    /^Shipping is paused: UPS unreachable: connection refused .*Nothing to do: the batch resumes by itself when UPS answers; follow it with batch_execute/,
  );
});

test('UPS rated no row: batch_preview answers preview null with the outage and the next step (no $0.00 estimate)', async () => {
  const client = fakeClient(() => status('waiting_for_ups', outage(false), false), []);
  const r = await tool(client, 'batch_preview', {
    job_id: ID,
    source_table: 'orders',
    mapping_template: '{}',
    shipper_info: {
      Name: 'Acme',
      ShipperNumber: 'A1B2C3',
      Address: {
        AddressLine: ['1 Main St'],
        City: 'Austin',
        StateProvinceCode: 'TX',
        PostalCode: '78701',
        CountryCode: 'US',
      },
    },
  });
  assert.equal(r.isError, false, r.text);
  assert.equal(r.json.reused, true);
  assert.equal(r.json.phase, 'waiting_for_ups');
  assert.equal(r.json.preview, null);
  assert.equal((r.json.upsOutage as UpsOutage).kind, 'unreachable');
  assert.match(
    String(r.json.next_step),
    /^No preview yet: UPS rated no row: UPS unreachable: connection refused .*call batch_preview with job_id "batch-ups" again/,
  );
});

test('a batch moved on meanwhile: the refusal of resume is a tool error with the reason', async () => {
  const resumed: unknown[] = [];
  let phase: BatchStatus['phase'] = 'waiting_for_ups';
  // The status read says waiting (credentials refused), then a probe succeeds before the Update arrives.
  const client = fakeClient(
    () => status(phase, phase === 'waiting_for_ups' ? outage(true) : undefined),
    resumed,
    () => (phase = 'executing'),
  );
  const r = await tool(client, 'batch_resume', { job_id: ID, choice: 'resume' });
  assert.equal(r.isError, true);
  assert.match(r.text, /refused by batch batch-ups: nothing to resume: the batch is executing/);
});

test('tracking exceptions that cannot be read do not hide a batch waiting for UPS', async () => {
  const client = fakeClient(() => status('waiting_for_ups', outage(true)), []);
  client.trackingExceptions = () => Promise.reject(new Error('ShipBatchTracking is not a search attribute'));
  const answer = (await tool(client, 'batch_resume', {})).json as unknown as Listed & {
    tracking_error?: string;
  };
  assert.equal(answer.batches[0]!.reason, 'waiting_for_ups');
  assert.match(answer.tracking_error ?? '', /tracking exceptions could not be read: ShipBatchTracking/);
});
