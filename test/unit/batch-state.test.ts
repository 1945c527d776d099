import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchInputSchema, describeIssues } from '../../domain/batch';
import { BatchState } from '../../workflows/batch-state';
import { progressMarkdown } from '../../workflows/batch-progress';
import { SHIPPER, TEMPLATE } from '../helpers/batch';

const input = BatchInputSchema.parse({ source: { table: 'orders' }, template: TEMPLATE, shipper: SHIPPER });

function waiting(): BatchState {
  const s = new BatchState('batch-x', input);
  s.phase = 'awaiting_approval';
  s.preview = {
    totalRows: 1,
    validRows: 1,
    invalidRows: 0,
    previewRows: [],
    additionalRows: 0,
    totalEstimatedCostCents: 0,
    currency: 'USD',
    rowsWithWarnings: 0,
    previewHash: 'h1',
  };
  return s;
}

test('approve: the current hash or none is accepted; a stale one, a wrong phase or junk is refused with a reason', () => {
  const s = waiting();
  assert.equal(s.checkApprove({ previewHash: 'h1', by: 'a' }).ok, true);
  assert.equal(s.checkApprove({}).ok, true);
  assert.equal(s.checkApprove(undefined).ok, true);
  const stale = s.checkApprove({ previewHash: 'h0' });
  assert.ok(!stale.ok && /stale approval/.test(stale.reason));
  for (const junk of ['x', 42, [1], { previewHash: 5 }, { by: 'a'.repeat(500) }, { extra: true }]) {
    const r = s.checkApprove(junk);
    assert.ok(!r.ok && /bad arguments/.test(r.reason), JSON.stringify(junk));
  }
  s.phase = 'loading';
  const early = s.checkApprove({});
  assert.ok(!early.ok && /nothing to approve/.test(early.reason));
});

test('setMode is case-insensitive until the mode locks; unknown modes are refused', () => {
  const s = waiting();
  const ok = s.checkSetMode({ mode: ' AuTo ' });
  assert.ok(ok.ok && ok.value.mode === 'auto');
  const bad = s.checkSetMode({ mode: 'turbo' });
  assert.ok(!bad.ok && /"confirm" or "auto"/.test(bad.reason));
  s.modeLocked = true;
  s.phase = 'executing';
  const locked = s.checkSetMode({ mode: 'auto' });
  assert.ok(!locked.ok && /mode is locked/.test(locked.reason));
});

test('restart, resolve and finish apply only while awaiting action; resolve checks the row and tracking number', () => {
  const s = waiting();
  assert.ok(!s.checkRestart({ scope: 'failed' }).ok);
  s.phase = 'awaiting_action';
  s.counts.total = 10;
  assert.ok(s.checkRestart({ scope: 'failed', rows: [1, 2] }).ok);
  assert.ok(!s.checkRestart({ scope: 'everything' }).ok);
  assert.ok(!s.checkRestart({ scope: 'failed', rows: [-1] }).ok);
  assert.ok(s.checkResolve({ row: 3, outcome: 'retry' }).ok);
  assert.ok(!s.checkResolve({ row: 11, outcome: 'retry' }).ok, 'row beyond the batch');
  assert.ok(!s.checkResolve({ row: 3, outcome: 'shipped' }).ok, 'shipped needs a tracking number');
  assert.ok(!s.checkResolve({ row: 3, outcome: 'shipped', trackingNumber: '1Z"; DROP' }).ok);
  assert.ok(s.checkFinish({}).ok);
});

test('refused messages are kept, newest last, at most 50; the carried state survives JSON', () => {
  const s = waiting();
  for (let i = 0; i < 60; i++) s.refuse('approve', `r${i}`);
  assert.equal(s.rejectedMessages.length, 50);
  assert.equal(s.rejectedMessages.at(-1)!.reason, 'r59');
  s.inFlight[3] = true;
  const carried = JSON.parse(JSON.stringify(s.carry())) as ReturnType<BatchState['carry']>;
  const next = new BatchState('batch-x', input, carried);
  assert.deepEqual(next.counts, s.counts);
  assert.equal(next.runs, 2);
  assert.equal(next.preview?.previewHash, 'h1');
  assert.equal(next.inFlightCount, 0, 'nothing is in flight at a hand-over');
});

test('approval and attention timeouts are bounded to what a timer holds; the refusal names the field', () => {
  const base = { source: { table: 'orders' }, template: '{}', shipper: SHIPPER };
  for (const field of ['approvalTimeout', 'attentionTimeout'] as const) {
    const ok = BatchInputSchema.safeParse({ ...base, options: { [field]: '3650d' } });
    assert.ok(ok.success, `${field} 3650d accepted`);
    for (const bad of ['999999999d', '3651d', '87601h', '999999999m']) {
      const r = BatchInputSchema.safeParse({ ...base, options: { [field]: bad } });
      assert.ok(!r.success, `${field} ${bad} refused`);
      assert.match(describeIssues(r.error), new RegExp(`options\\.${field}: at most 3650 days`));
    }
  }
});

test('breaker: trips after 3 UPS failures in a row (an answer in between starts again), at once on refused credentials', () => {
  const s = new BatchState('batch-x', input);
  const outage = () => s.upsOutage; // read fresh: the calls below change it
  const down = { kind: 'unavailable' as const, reason: 'UPS unavailable: 503' };
  assert.equal(s.noteUpsDown(down), false);
  assert.equal(s.noteUpsDown(down), false);
  s.noteUpsAnswered();
  assert.equal(s.noteUpsDown(down), false);
  assert.equal(s.noteUpsDown(down), false);
  assert.equal(s.upsOutage, undefined);
  assert.equal(s.noteUpsDown(down), true);
  assert.equal(outage()?.kind, 'unavailable');
  assert.equal(outage()?.needsOperator, false);
  assert.equal(s.status().upsOutage?.reason, 'UPS unavailable: 503');
  // resume only while waiting for UPS
  assert.equal(s.checkResume({}).ok, false);
  s.phase = 'waiting_for_ups';
  assert.equal(s.checkResume({}).ok, true);
  assert.equal(s.checkResume({ by: 5 }).ok, false);
  outage()!.probes = 3;
  s.endOutage();
  assert.equal(s.upsOutage, undefined);
  // A relapse soon after continues the backoff; credentials refused trip at once and wait for the operator.
  assert.equal(s.noteUpsDown({ kind: 'auth', reason: 'UPS refused the credentials (HTTP 401)' }), true);
  assert.equal(outage()?.probes, 4);
  assert.equal(outage()?.needsOperator, true);
  assert.ok(progressMarkdown(s).includes('Fix the UPS credentials'));
  const carried = new BatchState('batch-x', input, s.carry());
  assert.deepEqual(carried.upsOutage, s.upsOutage, 'the outage survives continue-as-new');
});

test('progress text for the Web UI: phase, mode, counts, costs with two decimals, and the outage', () => {
  const s = new BatchState('batch-x', input);
  s.phase = 'executing';
  s.modeLocked = true;
  s.counts = { ...s.counts, total: 12, invalid: 1, pending: 2, shipped: 5, failed: 1, needsReview: 1 };
  s.inFlight[7] = true;
  s.actualCostCents = 123456;
  s.estimatedCostCents = 5;
  assert.equal(
    progressMarkdown(s),
    [
      '**executing** · mode confirm (locked)',
      'shipped 5 · failed 1 · needs review 1 · pending 2 · in flight 1 · invalid 1 of 12',
      'cost so far 1234.56 USD (estimate 0.05 USD)',
    ].join('\n\n'),
  );
  s.phase = 'waiting_for_ups';
  s.modeLocked = false;
  s.actualCostCents = 0;
  s.estimatedCostCents = -250;
  s.upsOutage = {
    kind: 'unavailable',
    reason: 'UPS unavailable: 503',
    since: '2026-01-02T03:04:05.000Z',
    nextProbeAt: '2026-01-02T03:04:10.000Z',
    probes: 2,
    needsOperator: false,
  };
  assert.equal(
    progressMarkdown(s),
    [
      '**waiting_for_ups** · mode confirm',
      'shipped 5 · failed 1 · needs review 1 · pending 2 · in flight 1 · invalid 1 of 12',
      'cost so far 0.00 USD (estimate -2.50 USD)',
      '**waiting for UPS** since 2026-01-02T03:04:05.000Z: UPS unavailable: 503 (2 checks, next check 2026-01-02T03:04:10.000Z). Shipping resumes by itself when UPS answers; `resume` `{}` tries at once.',
    ].join('\n\n'),
  );
});

/** The payload in the first inline code after `name` in the details (what an operator would copy). */
function payloadAfter(details: string, name: string): unknown {
  const m = new RegExp(`\`${name}\` with\\s+\`([^\`]+)\``).exec(details);
  assert.ok(m, `a ${name} payload in: ${details}`);
  return JSON.parse(m[1]!);
}

test('current details while awaiting approval: the approve payload with the current hash is accepted as it is', () => {
  const s = waiting();
  const details = progressMarkdown(s);
  assert.match(details, /\*\*Next: approve or reject\.\*\*/);
  const approve = payloadAfter(details, 'approve');
  assert.deepEqual(approve, { previewHash: 'h1' });
  assert.equal(s.checkApprove(approve).ok, true, 'pasted unchanged, it approves');
  assert.equal(s.checkReject(payloadAfter(details, 'reject')).ok, true);
  // A new preview: the details name the new hash, the old payload is stale.
  s.preview = { ...s.preview!, previewHash: 'h2' };
  assert.deepEqual(payloadAfter(progressMarkdown(s), 'approve'), { previewHash: 'h2' });
  assert.equal(s.checkApprove(approve).ok, false);
  s.phase = 'executing';
  assert.doesNotMatch(progressMarkdown(s), /Next:/, 'nothing to do while it ships');
});

test('current details while awaiting action: the rows by number and restart / resolve / finish payloads that apply', () => {
  const s = new BatchState('batch-x', input);
  s.phase = 'awaiting_action';
  s.counts = { ...s.counts, total: 40, shipped: 25, failed: 12, needsReview: 3 };
  s.actionRows = { failed: [1, 2, 3, 5, 8, 13, 21, 22, 23, 30], needsReview: [4, 9, 17] };
  const details = progressMarkdown(s);
  assert.match(details, /Failed 12: rows 1, 2, 3, 5, 8, 13, 21, 22, 23, 30 and 2 more\./);
  assert.match(details, /Needs review 3: rows 4, 9, 17\./);
  assert.equal(s.checkFinish(payloadAfter(details, 'finish')).ok, true);
  const restart = payloadAfter(details, 'restart');
  assert.deepEqual(restart, { scope: 'failed' });
  assert.equal(s.checkRestart(restart).ok, true);
  assert.equal(s.checkRestart({ scope: 'needs_review' }).ok, true);
  assert.deepEqual(payloadAfter(details, 'resolve'), { row: 4, outcome: 'shipped', trackingNumber: '1Z…' });
  assert.match(details, /`\{"row":4,"outcome":"retry"\}`/);
  assert.equal(s.checkResolve({ row: 4, outcome: 'retry' }).ok, true);
  // Only what applies: no failed rows, no restart of failed ones.
  s.counts = { ...s.counts, failed: 0 };
  s.actionRows = { failed: [], needsReview: [4, 9, 17] };
  assert.doesNotMatch(progressMarkdown(s), /Failed|"scope":"failed"/);
  assert.doesNotMatch(details, /Jane|Receiver|Street|Ave/, 'no row data');
});

test('current details of the pre-flight: progress while previewing, outcomes and the saving before approval', () => {
  const s = new BatchState('batch-x', input);
  s.phase = 'previewing';
  s.preflight = { addressCheck: { done: 500, total: 500 }, rateShopping: { done: 250, total: 498 } };
  assert.match(
    progressMarkdown(s),
    /address check: 500 of 500 rows \(done\) · rate shopping: 250 of 498 rows$/,
  );
  const w = waiting();
  w.preview = {
    ...w.preview!,
    addressCheck: {
      mode: 'require',
      checked: 500,
      valid: 480,
      corrected: 12,
      ambiguous: 2,
      notFound: 6,
      unchecked: 0,
      residential: 300,
      invalidated: 8,
      correctedApplied: 0,
      rows: {
        corrected: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        ambiguous: [40, 41],
        notFound: [7, 9, 11, 13, 15, 17],
        unchecked: [],
      },
    },
    rateShopping: {
      maxTransitDays: 2,
      shopped: 492,
      changed: 100,
      noService: 0,
      notShopped: 0,
      services: { '03': 392, '02': 100 },
      templateCents: 100_000,
      chosenCents: 87_655,
      savingsCents: 12_345,
      currency: 'USD',
      rows: { noService: [], notShopped: [] },
    },
  };
  const details = progressMarkdown(w);
  assert.match(
    details,
    /address check \(require\): valid 480 · corrected 12 \(rows 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more\) · ambiguous 2 \(rows 40, 41\) · not found 6 \(rows 7, 9, 11, 13, 15, 17\) · residential 300 · made invalid 8/,
  );
  assert.match(
    details,
    /rate shopping \(cheapest within 2 business days\): 100 of 492 rows change service, saving 123\.45 USD/,
  );
  assert.deepEqual(
    payloadAfter(details, 'approve'),
    { previewHash: 'h1' },
    'the approve payload is still there',
  );
});

test('current details and status: the pickup — its charge before approval, UPS’s PRN (and who shares it) after; carried across runs', () => {
  const s = waiting();
  s.preview = {
    ...s.preview!,
    pickup: { date: '2026-12-08', readyTime: '09:00', closeTime: '17:00', costCents: 748, currency: 'USD' },
  };
  assert.match(progressMarkdown(s), /pickup 2026-12-08 09:00–17:00: 7\.48 USD/);
  s.preview = {
    ...s.preview,
    pickup: {
      date: '2026-12-08',
      readyTime: '09:00',
      closeTime: '17:00',
      error: '9560131: Invalid pickup date',
    },
  };
  assert.match(progressMarkdown(s), /no charge from UPS \(9560131: Invalid pickup date\)/);
  s.phase = 'awaiting_action';
  assert.doesNotMatch(progressMarkdown(s), /pickup/, 'the quote belongs to the approval');
  s.pickup = {
    state: 'scheduled',
    date: '2026-12-08',
    readyTime: '09:00',
    closeTime: '17:00',
    prn: '2929AB12345',
    sharedWith: ['batch-a'],
  };
  assert.match(
    progressMarkdown(s),
    /pickup 2026-12-08 09:00–17:00: scheduled, PRN 2929AB12345 · shared with batch-a/,
  );
  assert.deepEqual(s.status().pickup, s.pickup);
  const next = new BatchState(
    'batch-x',
    input,
    JSON.parse(JSON.stringify(s.carry())) as ReturnType<BatchState['carry']>,
  );
  assert.deepEqual(next.status().pickup, s.pickup, 'a new run keeps it (no second schedule)');
  assert.equal(new BatchState('batch-y', input).status().pickup, undefined);
});
