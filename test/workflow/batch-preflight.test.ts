/**
 * Before anyone approves: the address pre-flight and rate shopping against the sandbox (issue 24). Every
 * outcome under `warn` and `require` (with `useCorrectedAddress`), residential rows rated as residential, the
 * cheapest service with and without a transit limit checked against the sandbox's own Shop answers, and a
 * worker SIGKILLed mid-pre-flight that resumes without asking UPS again about rows already settled.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { BatchPreview } from '../../domain/batch';
import { approveSignal, previewQuery } from '../../domain/messages';
import type { AddressCheckResult, ServiceChoiceResult } from '../../domain/preflight';
import type { ShipmentRequestBody } from '../../domain/shipment-schema';
import { rateRequestFromShipmentRequest } from '../../activities/ups/rate-request';
import type { UpsClient } from '../../activities/ups/client';
import { readCallLog } from '../../ups-sandbox/call-log';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { startWorker, type RunningWorker } from '../helpers/in-process-worker';
import { processExited, startWorkerProcess } from '../helpers/worker-process';
import {
  batchInput,
  createOrdersTable,
  inPhase,
  makeOrders,
  startBatch,
  waitForStatus,
} from '../helpers/batch';

let env: TestEnvironment;
before(async () => {
  env = await openTestEnvironment('preflight');
});
after(async () => {
  await env?.close();
});

interface LedgerRow {
  row_no: number;
  reference: string;
  status: string;
  request: ShipmentRequestBody;
  errors: { code: string; message: string }[] | null;
  address_check: AddressCheckResult | null;
  service_choice: ServiceChoiceResult | null;
  estimate_cents: string | null;
}

async function ledgerRows(batchId: string): Promise<LedgerRow[]> {
  const { rows } = await env.pool.query<LedgerRow>(
    `SELECT row_no, reference, status, request, errors, address_check, service_choice, estimate_cents
       FROM batch_rows WHERE batch_id = $1 ORDER BY row_no`,
    [batchId],
  );
  return rows;
}

/** The preview as the ledger keeps it (with row data), as the client reads it. */
async function ledgerPreview(batchId: string): Promise<BatchPreview> {
  const { rows } = await env.pool.query<{ preview: BatchPreview }>(
    'SELECT preview FROM batches WHERE batch_id = $1',
    [batchId],
  );
  return rows[0]!.preview;
}

describe('address pre-flight', () => {
  // Row 2: one candidate that differs (corrected); row 3: two candidates (ambiguous); row 4: unknown to UPS;
  // row 5: a business address (commercial); the rest: valid, residential.
  const KNOBS = {
    rejectPostalCodes: ['30303'],
    addressCandidates: {
      '30301': [{ addressLines: ['1010 ELM ST'], city: 'ATLANTA', state: 'GA', postalCode: '30301-1234' }],
      '30302': [
        { addressLines: ['102 ELM ST', 'APT 1'], city: 'ATLANTA', state: 'GA', postalCode: '30302' },
        { addressLines: ['102 ELM ST', 'APT 2'], city: 'ATLANTA', state: 'GA', postalCode: '30302' },
      ],
    },
  };
  const orders = makeOrders(10, (i, o) => {
    if (i >= 1 && i <= 3) Object.assign(o, { city: 'Atlanta', state: 'GA', zip: `3030${i}`, address2: null });
    if (i === 4) o.address1 = '500 Market Blvd Suite 5';
  });
  let sbx: ReturnType<TestEnvironment['sandboxClient']>;
  let worker: RunningWorker;
  let table: string;
  let warnHash = '';
  before(async () => {
    sbx = env.sandboxClient('address');
    writeFileSync(sbx.knobsFile, JSON.stringify(KNOBS));
    worker = await startWorker(env, { sandbox: sbx, callTimeoutMs: 30_000, reconcileGraceMs: 1000 });
    table = await createOrdersTable(env.pool, orders);
  });
  after(async () => {
    await worker?.stop();
    await sbx?.ups.close();
  });

  test('warn: every outcome in the ledger and the preview, residential rows rated as residential, nothing invalid', async () => {
    const handle = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { options: { addressCheck: 'warn', previewRows: 10 } }),
    );
    const status = await waitForStatus(handle, inPhase('awaiting_approval'), 120_000);
    const rows = await ledgerRows(handle.workflowId);
    const outcomes = rows.map((r) => r.address_check?.outcome);
    assert.deepEqual(outcomes, [
      'valid',
      'corrected',
      'ambiguous',
      'not_found',
      'valid',
      'valid',
      'valid',
      'valid',
      'valid',
      'valid',
    ]);
    assert.equal(rows[4]!.address_check!.classification, 'commercial');
    assert.equal(rows[0]!.address_check!.classification, 'residential');
    assert.deepEqual(
      rows[1]!.address_check!.candidates,
      [KNOBS.addressCandidates['30301'][0]!].map((c) => ({ ...c, countryCode: 'US' })),
    );
    assert.ok(
      !rows[1]!.address_check!.applied,
      'a corrected address is not applied without useCorrectedAddress',
    );
    // Residential rows carry the indicator into their request (and so into rating and shipping); the
    // commercial row does not; rows UPS could not place are left as they were.
    const residential = (r: LedgerRow) =>
      'ResidentialAddressIndicator' in r.request.ShipmentRequest.Shipment.ShipTo.Address;
    assert.deepEqual(rows.map(residential), [true, true, false, false, false, true, true, true, true, true]);
    assert.deepEqual(rows[1]!.request.ShipmentRequest.Shipment.ShipTo.Address.AddressLine, ['101 Elm St']);
    // The estimate includes the residential surcharge: the sandbox's rate of the stored request, above the
    // same request without the indicator.
    const withIndicator = await sbx.ups.rateShipmentRequest(rows[0]!.request);
    const plain = structuredClone(rows[0]!.request);
    delete (plain.ShipmentRequest.Shipment.ShipTo.Address as Record<string, unknown>)
      .ResidentialAddressIndicator;
    const without = await sbx.ups.rateShipmentRequest(plain);
    assert.equal(Number(rows[0]!.estimate_cents), withIndicator.totalCents);
    assert.ok(withIndicator.totalCents > without.totalCents, 'residential costs more');
    assert.ok(
      rows.every((r) => r.status === 'pending'),
      'warn makes no row invalid',
    );

    const preview = (await handle.query(previewQuery))!;
    assert.deepEqual(
      { ...preview.addressCheck, rows: undefined },
      {
        mode: 'warn',
        checked: 10,
        valid: 7,
        corrected: 1,
        ambiguous: 1,
        notFound: 1,
        unchecked: 0,
        residential: 7,
        invalidated: 0,
        correctedApplied: 0,
        rows: undefined,
      },
    );
    assert.deepEqual(preview.addressCheck!.rows, {
      corrected: [2],
      ambiguous: [3],
      notFound: [4],
      unchecked: [],
    });
    assert.equal(preview.validRows, 10);
    assert.deepEqual(
      preview.previewRows[2]!.warnings.filter((w) => w.startsWith('address')),
      ['address: UPS found 2 possible addresses'],
    );
    // The workflow's copy holds no address; the ledger's shows the candidate next to the row.
    assert.equal(preview.previewRows[1]!.address?.candidate, undefined);
    assert.equal(preview.previewRows[1]!.address?.outcome, 'corrected');
    const stored = await ledgerPreview(handle.workflowId);
    assert.equal(stored.previewRows[1]!.address?.candidate, '1010 ELM ST, ATLANTA, GA 30301-1234');
    assert.deepEqual(status.preflight, { addressCheck: { done: 10, total: 10 } });
    warnHash = preview.previewHash;

    // One validate_address per row, each carrying the row's reference as its transaction id.
    const asked = readCallLog(sbx.dataDir).filter((c) => c.tool === 'validate_address');
    assert.deepEqual(asked.map((c) => c.reference).sort(), rows.map((r) => r.reference).sort());
    await handle.terminate('test done');
  });

  test('require with useCorrectedAddress: ambiguous and unknown rows invalid, the corrected row ships the candidate', async () => {
    const handle = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { options: { addressCheck: 'require', useCorrectedAddress: true, previewRows: 10 } }),
    );
    const status = await waitForStatus(handle, inPhase('awaiting_approval'), 120_000);
    const rows = await ledgerRows(handle.workflowId);
    assert.deepEqual(
      rows.map((r) => r.status),
      [
        'pending',
        'pending',
        'invalid',
        'invalid',
        'pending',
        'pending',
        'pending',
        'pending',
        'pending',
        'pending',
      ],
    );
    assert.equal(rows[2]!.errors![0]!.code, 'E-3002');
    assert.match(rows[2]!.errors![0]!.message, /found 2 possible addresses/);
    assert.equal(rows[3]!.errors![0]!.code, 'E-3001');
    assert.match(rows[3]!.errors![0]!.message, /found no such address/);
    const corrected = rows[1]!.request.ShipmentRequest.Shipment.ShipTo.Address;
    assert.deepEqual(
      { lines: corrected.AddressLine, city: corrected.City, zip: corrected.PostalCode },
      { lines: ['1010 ELM ST'], city: 'ATLANTA', zip: '30301-1234' },
    );
    assert.equal(rows[1]!.address_check!.applied, true);
    assert.equal(status.counts.invalid, 2);

    const preview = (await handle.query(previewQuery))!;
    assert.equal(preview.validRows, 8);
    assert.equal(preview.invalidRows, 2);
    assert.equal(preview.addressCheck!.invalidated, 2);
    assert.equal(preview.addressCheck!.correctedApplied, 1);
    // Same rows, other outcomes: the approval is for what this preview showed, not the warn batch's.
    assert.notEqual(preview.previewHash, warnHash);

    await handle.signal(approveSignal, { previewHash: preview.previewHash, by: 'test' });
    const done = await handle.result();
    assert.equal(done.phase, 'completed_with_errors');
    assert.equal(done.counts.shipped, 8);
    assert.equal(done.counts.invalid, 2);
    // The shipment UPS made for row 2 is to the corrected address.
    const shipped = readCallLog(sbx.dataDir).filter(
      (c) => c.tool === 'create_shipment' && c.outcome === 'ok' && c.reference === rows[1]!.reference,
    );
    assert.equal(shipped.length, 1);
  });
});

describe('rate shopping', () => {
  let sbx: ReturnType<TestEnvironment['sandboxClient']>;
  let worker: RunningWorker;
  let table: string;
  before(async () => {
    sbx = env.sandboxClient('shop');
    worker = await startWorker(env, { sandbox: sbx, callTimeoutMs: 30_000, reconcileGraceMs: 1000 });
    // Rows to every city of the fixture (near and far zones), a third of them overnight in the template.
    table = await createOrdersTable(env.pool, makeOrders(12));
  });
  after(async () => {
    await worker?.stop();
    await sbx?.ups.close();
  });

  /** The sandbox's quotes for a row's request with the template's service: code → {cents, days}. */
  async function sandboxQuotes(
    ups: UpsClient,
    row: LedgerRow,
    withTransit: boolean,
  ): Promise<Map<string, { cents: number; days?: number }>> {
    const request = structuredClone(row.request);
    request.ShipmentRequest.Shipment.Service = { Code: row.service_choice!.templateCode };
    const body = rateRequestFromShipmentRequest(request);
    if (withTransit)
      (body.RateRequest.Shipment as Record<string, unknown>).DeliveryTimeInformation = {
        PackageBillType: '03',
      };
    const quotes = await ups.rate(body, withTransit ? 'Shoptimeintransit' : 'Shop');
    return new Map(
      quotes.map((q) => [q.serviceCode, { cents: q.totalCents, days: q.businessDaysInTransit }]),
    );
  }

  async function shop(
    service: unknown,
  ): Promise<{ rows: LedgerRow[]; preview: BatchPreview; batchId: string }> {
    const handle = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { options: { service: service as 'cheapest', previewRows: 12 } }),
    );
    await waitForStatus(handle, inPhase('awaiting_approval'), 120_000);
    return {
      rows: await ledgerRows(handle.workflowId),
      preview: (await handle.query(previewQuery))!,
      batchId: handle.workflowId,
    };
  }

  test('cheapest: each row takes the lowest of the sandbox Shop answers; the preview shows the saving and ships at it', async () => {
    const { rows, preview, batchId } = await shop('cheapest');
    // One Shop call per row, then no separate rating of the preview rows (before the test's own calls).
    const calls = readCallLog(sbx.dataDir).filter((c) =>
      c.reference?.startsWith(rows[0]!.reference.split('-').slice(0, -1).join('-')),
    );
    assert.equal(calls.filter((c) => c.tool === 'rate_shipment').length, rows.length);
    // addressCheck off (the workflow's default): no address is asked about, no row carries an outcome.
    assert.equal(readCallLog(sbx.dataDir).filter((c) => c.tool === 'validate_address').length, 0);
    assert.ok(rows.every((r) => r.address_check === null));

    let saving = 0;
    let total = 0;
    for (const row of rows) {
      const quotes = await sandboxQuotes(sbx.ups, row, false);
      const lowest = Math.min(...[...quotes.values()].map((q) => q.cents));
      const choice = row.service_choice!;
      assert.equal(choice.cents, lowest, `row ${row.row_no}: the cheapest quote`);
      assert.equal(quotes.get(choice.code!)!.cents, lowest);
      assert.equal(
        row.request.ShipmentRequest.Shipment.Service.Code,
        choice.code,
        'the request ships the choice',
      );
      assert.equal(choice.templateCents, quotes.get(choice.templateCode)!.cents);
      assert.equal(Number(row.estimate_cents), lowest);
      saving += choice.templateCents - lowest;
      total += lowest;
    }
    // The template asks overnight for rows 1, 4, 7, 10: Ground is cheaper everywhere.
    assert.equal(rows.filter((r) => r.service_choice!.code !== r.service_choice!.templateCode).length, 4);
    assert.equal(preview.rateShopping!.changed, 4);
    assert.equal(preview.rateShopping!.savingsCents, saving);
    assert.ok(saving > 0);
    assert.equal(preview.totalEstimatedCostCents, total, 'every row shopped: the estimate is exact');
    assert.equal(preview.previewRows[0]!.templateService, 'UPS Next Day Air');
    assert.equal(preview.previewRows[0]!.service, 'UPS Ground');
    assert.equal(preview.previewRows[0]!.templateCostCents, rows[0]!.service_choice!.templateCents);
    const handle = env.client.workflow.getHandle(batchId);
    await handle.signal(approveSignal, { previewHash: preview.previewHash, by: 'test' });
    const done = (await handle.result()) as { totalCostCents: number; counts: { shipped: number } };
    assert.equal(done.counts.shipped, 12);
    assert.equal(done.totalCostCents, total, 'UPS charged what the chosen services were quoted');
  });

  test('cheapest within 2 business days: the lowest quote among services that arrive in time', async () => {
    const { rows, preview, batchId } = await shop({ cheapest: { maxTransitDays: 2 } });
    let differsFromUnlimited = 0;
    for (const row of rows) {
      const quotes = await sandboxQuotes(sbx.ups, row, true);
      const inTime = [...quotes.entries()].filter(([, q]) => q.days !== undefined && q.days <= 2);
      const lowest = Math.min(...inTime.map(([, q]) => q.cents));
      const choice = row.service_choice!;
      assert.equal(choice.cents, lowest, `row ${row.row_no}: the cheapest quote within 2 days`);
      assert.ok(choice.days! <= 2);
      if (choice.code !== '03') differsFromUnlimited++;
    }
    assert.ok(differsFromUnlimited > 0, 'some lanes need a faster service than Ground');
    assert.equal(preview.rateShopping!.maxTransitDays, 2);
    assert.equal(preview.rateShopping!.noService, 0);
    assert.deepEqual(
      preview.rateShopping!.services,
      rows.reduce<Record<string, number>>((acc, r) => {
        acc[r.service_choice!.code!] = (acc[r.service_choice!.code!] ?? 0) + 1;
        return acc;
      }, {}),
    );
    await env.client.workflow.getHandle(batchId).terminate('test done');
  });
});

test('a worker SIGKILLed mid-pre-flight: the next one goes on without asking UPS again about settled rows', async () => {
  const ROWS = 600;
  const sandboxDir = env.sandboxClient('kill').dataDir;
  const table = await createOrdersTable(env.pool, makeOrders(ROWS));
  const slow = { rules: [{ tool: 'validate_address', fault: 'slow', ms: 150, times: 1_000_000 }] };
  const settled = async (batchId: string) =>
    (
      await env.pool.query<{ row_no: number }>(
        'SELECT row_no FROM batch_rows WHERE batch_id = $1 AND address_checked_at IS NOT NULL',
        [batchId],
      )
    ).rows.map((r) => r.row_no);
  let first = startWorkerProcess('preflight-1', {
    taskQueue: env.taskQueue,
    sandboxDir,
    knobs: slow,
    env: { SHIPBATCH_UPS_SESSIONS: '8' },
  });
  let second: ReturnType<typeof startWorkerProcess> | undefined;
  try {
    const handle = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { options: { addressCheck: 'warn' } }),
    );
    // Kill once the first page is stored and the second is under way.
    let before: number[] = [];
    for (let i = 0; ; i++) {
      before = await settled(handle.workflowId);
      if (before.length >= 250) break;
      assert.ok(i < 1200, `the first page was stored in time (${before.length} rows)`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1500));
    first.kill('SIGKILL');
    await processExited(first);
    before = await settled(handle.workflowId);
    assert.ok(before.length < ROWS, `killed mid-way (${before.length} settled)`);
    second = startWorkerProcess('preflight-2', { taskQueue: env.taskQueue, sandboxDir, knobs: {} });
    const status = await waitForStatus(handle, inPhase('awaiting_approval'), 180_000);
    assert.deepEqual(status.preflight, { addressCheck: { done: ROWS, total: ROWS } });

    const rows = await ledgerRows(handle.workflowId);
    const asked = new Map<string, number>();
    for (const c of readCallLog(sandboxDir))
      if (c.tool === 'validate_address' && c.outcome === 'ok' && c.reference)
        asked.set(c.reference, (asked.get(c.reference) ?? 0) + 1);
    const settledBefore = new Set(before);
    for (const r of rows) {
      assert.ok(r.address_check, `row ${r.row_no} checked`);
      if (settledBefore.has(r.row_no))
        assert.equal(asked.get(r.reference), 1, `row ${r.row_no}, settled before the kill, asked once`);
      else assert.ok((asked.get(r.reference) ?? 0) >= 1, `row ${r.row_no} asked`);
    }
    await handle.terminate('test done');
    first = second;
  } finally {
    first.kill('SIGTERM');
    second?.kill('SIGTERM');
    await processExited(first);
    if (second) await processExited(second);
  }
});

test('a row UPS refuses is left unchecked and unshopped: it ships as the template made it, the others go on', async () => {
  const sbx = env.sandboxClient('refused');
  writeFileSync(
    sbx.knobsFile,
    JSON.stringify({
      rules: [
        { tool: 'validate_address', fault: 'invalid_request', times: 1 },
        { tool: 'rate_shipment', fault: 'invalid_request', times: 1 },
      ],
    }),
  );
  const worker = await startWorker(env, { sandbox: sbx, callTimeoutMs: 30_000, reconcileGraceMs: 1000 });
  try {
    const table = await createOrdersTable(env.pool, makeOrders(6));
    const handle = await startBatch(
      env.client,
      env.taskQueue,
      batchInput(table, { options: { addressCheck: 'require', service: 'cheapest', concurrency: 1 } }),
    );
    await waitForStatus(handle, inPhase('awaiting_approval'), 120_000);
    const rows = await ledgerRows(handle.workflowId);
    const unchecked = rows.filter((r) => r.address_check?.outcome === 'unchecked');
    assert.equal(unchecked.length, 1);
    assert.match(unchecked[0]!.address_check!.error!, /10002|invalid/i);
    const unshopped = rows.filter((r) => !r.service_choice?.code);
    assert.equal(unshopped.length, 1);
    assert.ok(unshopped[0]!.service_choice!.error);
    assert.ok(
      rows.every((r) => r.status === 'pending'),
      'a refusal by UPS makes no row invalid, even under require',
    );
    const preview = (await handle.query(previewQuery))!;
    assert.equal(preview.addressCheck!.unchecked, 1);
    assert.equal(preview.rateShopping!.notShopped, 1);
    // The unshopped row is rated with its template's service by the preview, so the estimate covers it.
    assert.ok(Number(unshopped[0]!.estimate_cents) > 0);
    await handle.terminate('test done');
  } finally {
    await worker.stop();
    await sbx.ups.close();
  }
});
