/**
 * batch_resume's tracking exceptions (issue 25) against a fake client: a shipped batch whose packages are in
 * exception is listed with rows, tracking numbers and UPS's words (at most 20, then how many more) and the
 * next step read off UPS's words; with job_id only that batch is asked for; no note while something is listed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ShipbatchClient, TrackedPackage, TrackingExceptions } from '../../client/index';
import { callTool } from '../../agent/tools/index';
import { exceptionNextStep } from '../../agent/tools/resume-prompt';

function pkg(rowNo: number, description: string): TrackedPackage {
  return {
    rowNo,
    trackingNumber: `1ZTEST${String(rowNo).padStart(10, '0')}`,
    status: 'exception',
    description,
    statusAt: '2026-12-09T11:02:00.000Z',
    location: 'Portland, OR, US',
    deliveredOn: null,
    checkedAt: '2026-12-06T15:00:10.000Z',
    lastError: null,
  };
}

const ADDRESS = 'THE ADDRESS IS INCORRECT. UPS WILL ATTEMPT TO UPDATE THIS ADDRESS.';
const DAMAGED = 'DAMAGED - UPS WILL NOTIFY THE SENDER WITH DETAILS OF THE DAMAGE.';

interface Listed {
  count: number;
  note?: string;
  tracking_exceptions?: {
    job_id: string;
    exceptions: number;
    more?: number;
    packages: { row: number; tracking_number: string; ups_description: string; next_step: string }[];
    next_step: string;
    prompt: string;
  }[];
}

async function list(items: TrackingExceptions[], args: Record<string, unknown> = {}) {
  const asked: unknown[] = [];
  const client = {
    attentionBatches: () => Promise.resolve([]),
    trackingExceptions: (opts: unknown) => {
      asked.push(opts);
      return Promise.resolve(items);
    },
  } as unknown as ShipbatchClient;
  const r = await callTool(() => Promise.resolve(client), 'batch_resume', args);
  const text = r.content.map((c) => c.text).join('\n');
  assert.notEqual(r.isError, true, text);
  return { listed: JSON.parse(text) as Listed, asked };
}

test('packages in exception: rows, tracking numbers, UPS words, at most 20 then "and N more", the next step', async () => {
  const packages = Array.from({ length: 20 }, (_, i) => pkg(i + 1, i === 1 ? DAMAGED : ADDRESS));
  const { listed, asked } = await list([
    { batchId: 'batch-t', tracking: 'exceptions', exceptions: 25, packages, more: 5 },
  ]);
  assert.deepEqual(asked, [{ limit: 20 }]);
  assert.equal(listed.count, 0, 'no open batch needs attention');
  assert.equal(listed.note, undefined, 'no "needs no attention" note while exceptions are listed');
  const t = listed.tracking_exceptions![0]!;
  assert.equal(t.job_id, 'batch-t');
  assert.equal(t.exceptions, 25);
  assert.equal(t.more, 5);
  assert.equal(t.packages.length, 20);
  assert.deepEqual(
    {
      row: t.packages[0]!.row,
      tracking_number: t.packages[0]!.tracking_number,
      words: t.packages[0]!.ups_description,
    },
    { row: 1, tracking_number: '1ZTEST0000000001', words: ADDRESS },
  );
  assert.match(t.packages[0]!.next_step, /^Contact the recipient for a correct or complete address/);
  assert.match(t.packages[1]!.next_step, /^Contact UPS about the damage/);
  assert.match(
    t.prompt,
    /^Batch batch-t has 25 package\(s\) in exception after shipping: row 1 \(1ZTEST0000000001\): THE ADDRESS IS INCORRECT/,
  );
  assert.match(t.prompt, /; and 5 more\. Contact the recipient/);
  assert.match(t.next_step, /shipbatch track batch-t --status exception/);
});

test('with job_id only that batch is asked for; none in exception: the note', async () => {
  const few = await list(
    [{ batchId: 'batch-t', tracking: 'done', exceptions: 1, packages: [pkg(2, ADDRESS)], more: 0 }],
    { job_id: 't' },
  );
  assert.deepEqual(few.asked, [{ batchId: 'batch-t', limit: 20 }]);
  assert.equal(few.listed.tracking_exceptions![0]!.more, undefined, 'no "more" when every one is listed');
  assert.doesNotMatch(few.listed.tracking_exceptions![0]!.prompt, /more/);
  const none = await list([], { job_id: 't' });
  assert.equal(none.listed.tracking_exceptions, undefined);
  assert.equal(none.listed.note, 'batch batch-t needs no attention');
});

test("the next step read off UPS's words", () => {
  assert.match(exceptionNextStep(ADDRESS), /recipient for a correct or complete address/);
  assert.match(exceptionNextStep(DAMAGED), /damage \(a claim\)/);
  assert.match(exceptionNextStep('SEVERE WEATHER CONDITIONS HAVE DELAYED DELIVERY.'), /^Nothing to do yet/);
  assert.match(exceptionNextStep(null), /^Contact UPS with the tracking number/);
});
