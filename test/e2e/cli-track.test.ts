/**
 * After the label through the `shipbatch` CLI, the client and the agent (issue 25): child processes against
 * the test stack with a `shipbatch worker` child and the UPS sandbox on a fast clock (a day a second). A small
 * auto batch started through the client with `trackFor: '1h', trackEvery: '1s'`, one reference in exception and
 * one returned to the sender: `shipbatch track` until every package reached its final status, `--status
 * exception`, `--json` and `--csv` checked against the ledger, the client's getTracking and trackingPackages,
 * batch_resume listing the exception, a stopped tracking answered from the ledger; a batch still open, one with
 * tracking off and an unknown one are exit 2 naming them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ShipbatchClient } from '../../client/batches';
import type { BatchTracking, TrackedPackage } from '../../client/tracking';
import { callTool } from '../../agent/tools/index';
import { trackedPackages } from '../../db/ledger/tracking';
import type { Shipper } from '../../domain/shipment-schema';
import { trackingWorkflowId } from '../../domain/tracking';
import { openCliStack, ROOT, type CliStack } from '../helpers/cli-stack';

let stack: CliStack;
let dir: string;
let client: ShipbatchClient;
let template: string;
let shipper: Shipper;
const cli = (...args: string[]) => stack.cli(...args);

const CSV = [
  'order_id,name,address1,address2,city,state,zip,phone,service,weight_oz,item',
  'A-1,Michael Davis,4112 Elm St,,Portland,OR,97204,5035551001,ground,20,Book set',
  'A-2,Dwayne Johnson,7812 Pine St,Apt 2,Houston,TX,77002,(713) 555-1002,overnight,50,Dumbbells',
  'A-3,Zoe Brooks,12 Oak Ave,,Denver,CO,80202,3035551003,ground,16,Mug',
  'A-4,Li Wei,99 Main St,,Boston,MA,02108,6175551004,ground,16,Tea',
  'A-5,Ana Nunez,5 Lake Rd,,Chicago,IL,60601,3125551005,2nd Day Air,30,Lamp',
].join('\n');

const FAST = { trackingClockSpeed: 86_400 };

before(async () => {
  // A day of UPS's time per real second: the packages' whole life in seconds.
  stack = await openCliStack('cli-track', FAST);
  ({ dir, client } = stack);
  await writeFile(path.join(dir, 'orders.csv'), `${CSV}\n`);
  template = await readFile(path.join(ROOT, 'examples', 'template.njk'), 'utf8');
  shipper = JSON.parse(await readFile(path.join(ROOT, 'examples', 'shipper.json'), 'utf8')) as Shipper;
});

after(async () => {
  await stack?.close();
});

/** A CSV line's fields (RFC 4180: quoted fields with doubled quotes; no line breaks inside). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

async function importTable(): Promise<string> {
  const table = `cli_track_${randomUUID().slice(0, 8)}`;
  const r = await cli('import', 'orders.csv', '--table', table, '--type', 'zip=text');
  assert.equal(r.code, 0, r.err);
  return table;
}

test('track: every package to its final status; --status exception, --json, --csv against the ledger; client; agent; stopped tracking', async () => {
  const table = await importTable();
  const { batchId: id } = await client.startBatch(
    {
      source: { table },
      template,
      shipper,
      mode: 'auto',
      options: { trackFor: '1h', trackEvery: '1s' },
    },
    { id: `track-${randomUUID().slice(0, 8)}` },
  );
  const pool = await client.pool();
  // Once the rows are loaded (their references known), row 2's package gets an address exception and row 3's
  // goes back to the shipper; the rest are delivered.
  let refs: { row_no: number; reference: string }[] = [];
  for (let i = 0; i < 300 && refs.length < 5; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 100));
    refs = (
      await pool.query<{ row_no: number; reference: string }>(
        'SELECT row_no, reference FROM batch_rows WHERE batch_id = $1 ORDER BY row_no',
        [id],
      )
    ).rows;
  }
  assert.equal(refs.length, 5, `the rows loaded; worker log:\n${stack.log()}`);
  await writeFile(
    path.join(dir, 'knobs.json'),
    JSON.stringify({
      ...FAST,
      trackingExceptions: {
        references: { [refs[1]!.reference]: 'exception', [refs[2]!.reference]: 'returned' },
      },
    }),
  );
  const result = await client.batchResult(id);
  assert.equal(result.counts.shipped, 5, `every row shipped: ${JSON.stringify(result.counts)}`);

  // `shipbatch track ID --json` until every package reached its final status.
  let tracking: BatchTracking | undefined;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const r = await cli('track', id, '--json');
    if (r.code === 0) {
      tracking = (JSON.parse(r.out) as { tracking: BatchTracking }).tracking;
      const c = tracking.counts;
      if (c.delivered === 3 && c.exception === 1 && c.returned === 1) break;
    } else {
      // Only right after the close can the tracking workflow be a moment away; never another failure.
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /has no tracking|still open/);
    }
    assert.ok(Date.now() < deadline, `tracking never got there: ${JSON.stringify(tracking)}\n${stack.log()}`);
    await new Promise((res) => setTimeout(res, 500));
  }
  assert.equal(tracking.batchId, id);
  assert.equal(tracking.phase, 'tracking', 'a package in exception keeps the batch followed');
  assert.equal(tracking.exceptions, 1);
  assert.equal(tracking.source, 'query');
  assert.ok(tracking.nextCheckAt, 'the next look is known while tracking');
  assert.ok(Date.parse(tracking.deadline) - Date.parse(tracking.startedAt) === 3_600_000, 'trackFor 1h');

  const ledger = await trackedPackages(pool, id);
  assert.equal(ledger.length, 5);
  const exception = ledger.filter((p) => p.status === 'exception');
  assert.deepEqual(
    exception.map((p) => p.rowNo),
    [2],
  );
  assert.match(exception[0]!.description ?? '', /ADDRESS IS INCORRECT/);
  assert.equal(ledger.find((p) => p.rowNo === 3)!.status, 'returned');

  // The human summary: phase, exceptions with the command listing them, next look, deadline, counts.
  const text = await cli('track', id);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, new RegExp(`^Tracking of ${id}: 5 packages\\n`));
  assert.match(text.out, /phase {7}tracking/);
  assert.match(
    text.out,
    new RegExp(`exceptions {2}1 {3}\\(list them: shipbatch track ${id} --status exception\\)`),
  );
  assert.match(text.out, /next look {3}\d{4}-\d\d-\d\dT/);
  assert.match(text.out, new RegExp(`until {7}${tracking.deadline.replace(/\./g, '\\.')}`));
  assert.match(text.out, /\ndelivered +3\n/);
  assert.match(text.out, /\nexception +1\n/);
  assert.match(text.out, /\nreturned +1\n/);
  assert.match(text.out, /\nin_transit +0\n/);

  // --status exception: the package with its row, tracking number, UPS's words, place and time.
  const exc = await cli('track', id, '--status', 'exception');
  assert.equal(exc.code, 0, exc.err);
  const e = exception[0]!;
  const line = exc.out.split('\n').find((l) => l.includes(e.trackingNumber));
  assert.ok(line, exc.out);
  assert.match(line, /^\s*2\s/);
  assert.ok(line.includes(e.description!) && line.includes(e.location!) && line.includes(e.statusAt!), line);
  assert.match(exc.out, /Packages with status exception \(1\):/);
  assert.match(exc.out, /Next: contact the recipient/);
  assert.doesNotMatch(exc.out, /DELIVERED/, 'only the packages in exception');

  // --json --status delivered: the packages as the ledger has them, each with its delivery date.
  const json = await cli('track', id, '--status', 'delivered', '--json');
  assert.equal(json.code, 0, json.err);
  const parsed = JSON.parse(json.out) as { tracking: BatchTracking; packages: TrackedPackage[] };
  const delivered = await trackedPackages(pool, id, { status: 'delivered' });
  // Looked at again meanwhile? Final packages are not: the ledger's copy is the same.
  assert.deepEqual(parsed.packages, delivered);
  assert.equal(parsed.packages.length, 3);
  for (const p of parsed.packages) assert.match(p.deliveredOn ?? '', /^\d{4}-\d\d-\d\d$/);
  assert.equal(
    (JSON.parse((await cli('track', id, '--json')).out) as Record<string, unknown>).packages,
    undefined,
    'no packages without --status',
  );

  // --csv: every package, its fields the ledger's.
  const csv = await cli('track', id, '--csv');
  assert.equal(csv.code, 0, csv.err);
  const lines = csv.out.split('\r\n').filter(Boolean);
  assert.equal(lines[0], 'row,tracking_number,status,description,location,status_at,delivered_on');
  const now = await trackedPackages(pool, id);
  assert.deepEqual(
    lines.slice(1).map(csvFields),
    now.map((p) => [
      String(p.rowNo),
      p.trackingNumber,
      p.status,
      p.description ?? '',
      p.location ?? '',
      p.statusAt ?? '',
      p.deliveredOn ?? '',
    ]),
  );
  const returnedCsv = await cli('track', id, '--csv', '--status', 'returned');
  assert.equal(
    returnedCsv.out.split('\r\n').filter(Boolean).length,
    2,
    'the header and the returned package',
  );

  // The client: the same state and packages.
  const viaClient = await client.getTracking(id);
  assert.deepEqual(viaClient.counts, tracking.counts);
  const viaStream: TrackedPackage[] = [];
  for await (const p of client.trackingPackages(id, { pageSize: 2 })) viaStream.push(p);
  assert.deepEqual(
    viaStream.map((p) => [p.rowNo, p.trackingNumber, p.status]),
    now.map((p) => [p.rowNo, p.trackingNumber, p.status]),
    'paged two at a time, every package once, in row order',
  );

  // The agent: batch_resume lists the exception with the row, tracking number, UPS's words and the next step.
  type Listed = {
    tracking_exceptions?: {
      job_id: string;
      exceptions: number;
      packages: { row: number; tracking_number: string; ups_description: string; next_step: string }[];
      prompt: string;
    }[];
  };
  const resume = async (args: Record<string, unknown>) => {
    const r = await callTool(() => Promise.resolve(client), 'batch_resume', args);
    const t = r.content.map((c) => c.text).join('\n');
    assert.notEqual(r.isError, true, t);
    return JSON.parse(t) as Listed;
  };
  const one = (await resume({ job_id: id })).tracking_exceptions;
  assert.equal(one?.length, 1, JSON.stringify(one));
  assert.deepEqual(
    one[0]!.packages.map((p) => [p.row, p.tracking_number, p.ups_description]),
    [[2, e.trackingNumber, e.description]],
  );
  assert.match(one[0]!.packages[0]!.next_step, /Contact the recipient/);
  assert.match(
    one[0]!.prompt,
    new RegExp(`Batch ${id} has 1 package\\(s\\) in exception after shipping: row 2`),
  );
  // Without job_id: from the attention list (ShipBatchTracking = 'exceptions'), which visibility shows within moments.
  let listed: Listed = {};
  for (let i = 0; i < 40 && !listed.tracking_exceptions?.some((t) => t.job_id === id); i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 250));
    listed = await resume({});
  }
  assert.ok(
    listed.tracking_exceptions?.some((t) => t.job_id === id),
    JSON.stringify(listed),
  );

  // Stopped before its deadline: answered from the ledger, the stop named.
  await client.temporal.workflow.getHandle(trackingWorkflowId(id)).terminate('test done');
  const stopped = await cli('track', id);
  assert.equal(stopped.code, 0, stopped.err);
  assert.match(stopped.out, /stopped \(terminated\) before every package was final/);
  assert.match(stopped.out, /\ndelivered +3\n/);
  assert.equal((await client.getTracking(id)).source, 'ledger');
});

test('track: a batch still open, one with tracking off and an unknown one are exit 2 naming them', async () => {
  const table = await importTable();
  const { batchId: open } = await client.startBatch(
    { source: { table }, template, shipper, mode: 'confirm' },
    { id: `track-open-${randomUUID().slice(0, 8)}` },
  );
  const { batchId: off } = await client.startBatch(
    { source: { table }, template, shipper, mode: 'auto', options: { trackFor: '0s' } },
    { id: `track-off-${randomUUID().slice(0, 8)}` },
  );
  assert.equal((await client.batchResult(off)).counts.shipped, 5);
  const offRun = await cli('track', off);
  assert.equal(offRun.code, 2, offRun.err);
  assert.match(
    offRun.err,
    new RegExp(`batch ${off} has no tracking: tracking was turned off for this batch \\(trackFor 0s\\)`),
  );

  // Waiting for approval: still open.
  for (let i = 0; i < 200; i++) {
    const s = await client.getBatch(open).catch(() => undefined);
    if (s?.phase === 'awaiting_approval') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const openRun = await cli('track', open, '--json');
  assert.equal(openRun.code, 2, openRun.err);
  assert.match(
    openRun.err,
    new RegExp(`batch ${open} has no tracking: the batch is still open \\(awaiting_approval\\)`),
  );
  assert.equal(openRun.out, '', 'nothing on stdout');
  await client.rejectBatch(open, { reason: 'test done' });

  const unknown = await cli('track', 'batch-no-such-batch');
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /no batch "batch-no-such-batch"/);
  const bad = await cli('track', off, '--status', 'lost');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--status must be one of label_created, .*got "lost"/);
});
