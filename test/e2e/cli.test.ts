/**
 * The `shipbatch` CLI as a user runs it: child processes against the test stack (npm test passes
 * TEMPORAL_ADDRESS and DATABASE_URL) with a `shipbatch worker` child on a task queue of its own.
 * One happy path (import → start → preview → approve → watch → rows → labels), one table of bad inputs,
 * the batch driven with the Temporal CLI (`temporal workflow query/signal`), failed rows waiting for action,
 * and UPS refusing the credentials (waiting_for_ups: status, list --attention, resume).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { lstat, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ShipbatchClient } from '../../client/batches';
import { bitsToRgba, readLabelPages } from '../../client/labels';
import type { BatchPreview, BatchStatus } from '../../domain/batch';
import { loadConfig } from '../../temporal.config';
import { BIN, openCliStack, ROOT, type CliStack } from '../helpers/cli-stack';
import { ensureTemporalCli } from '../../stack/temporal-cli';
import { readCode128 } from '../helpers/labels';

const TEMPLATE = path.join(ROOT, 'examples', 'template.njk');
const SHIPPER = path.join(ROOT, 'examples', 'shipper.json');
const run = promisify(execFile);

let stack: CliStack;
let dir: string;
let env: NodeJS.ProcessEnv;
let client: ShipbatchClient;
const cli = (...args: string[]) => stack.cli(...args);
const cliJson = <T>(...args: string[]) => stack.cliJson<T>(...args);
const waitStatus = (id: string, pred: (s: BatchStatus) => boolean, ms = 90_000) =>
  stack.waitStatus(id, pred, ms);

const CSV_HEADER = 'order_id,name,address1,address2,city,state,zip,phone,service,weight_oz,item';
const ROWS = [
  'A-1,Michael Davis,4112 Elm St,,Portland,OR,97204,5035551001,ground,20,Book set',
  'A-2,"Dwayne ""The Rock"" Johnson",7812 Pine St,Apt 2,Houston,TX,77002,(713) 555-1002,overnight,50,Dumbbells',
  'A-3,Zoë Brooks,12 Oak Ave,,Denver,CO,80202,3035551003,ground,16,Mug',
  'A-4,Li Wei,99 Main St,,Boston,MA,ABCDE,6175551004,ground,16,Tea', // invalid ZIP
  'A-5,Ana María Núñez,5 Lake Rd,,Chicago,IL,60601,3125551005,ground,30,Lamp',
];

before(async () => {
  stack = await openCliStack('cli-e2e');
  ({ dir, env, client } = stack);
  await writeFile(path.join(dir, 'orders.csv'), [CSV_HEADER, ...ROWS].join('\n') + '\n');
});

after(async () => {
  await stack?.close();
});

test('import → start → preview → approve → watch → rows → labels, as a user runs them', async () => {
  const table = `cli_orders_${randomUUID().slice(0, 8)}`;
  const imported = await cliJson<{ table: string; rows: number; keyColumn: string; addedKey: boolean }>(
    'import',
    'orders.csv',
    '--table',
    table,
  );
  assert.deepEqual(
    [imported.table, imported.rows, imported.keyColumn, imported.addedKey],
    [`public.${table}`, 5, 'id', true],
  );

  const name = `e2e ${randomUUID().slice(0, 6)}`;
  const started = await cliJson<{ batchId: string; runId: string }>(
    'start',
    '--table',
    table,
    '--template',
    TEMPLATE,
    '--shipper',
    SHIPPER,
    '--name',
    name,
    '--concurrency',
    '2',
  );
  assert.equal(started.batchId, `batch-${name.replace(' ', '-')}`);
  assert.match(started.runId, /^[0-9a-f-]{36}$/);
  const id = started.batchId;
  await waitStatus(id, (s) => s.phase === 'awaiting_approval');
  const described = await client.describeBatch(id);
  assert.equal(await described.staticSummary(), `Batch ${name}: ${table}, confirm`);
  assert.match(
    (await described.staticDetails()) ?? '',
    /\*\*Source\*\* `[^`]+` \(key `id`\)[\s\S]*\*\*Shipper\*\* Acme Widgets Inc \(A1B2C3\)/,
  );

  const attention = await cliJson<
    { batchId: string; reason: string; done: number; remaining: number; choices: string[] }[]
  >('list', '--attention');
  const mine = attention.find((a) => a.batchId === id);
  assert.ok(mine, 'list --attention shows the batch waiting for approval');
  assert.equal(mine.reason, 'awaiting_approval');
  assert.deepEqual([mine.done, mine.remaining], [1, 4], 'the invalid row is done, four to ship');
  assert.ok(mine.choices.includes(`shipbatch approve ${id}`));

  const preview = await cliJson<
    BatchPreview & { invalid: { rowNo: number; errors: { code: string; path: string }[] }[] }
  >('preview', id);
  assert.deepEqual(
    [preview.totalRows, preview.validRows, preview.invalidRows, preview.additionalRows],
    [5, 4, 1, 0],
  );
  assert.equal(
    preview.previewRows[1]!.recipient,
    'Dwayne "The Rock"',
    'recipients come from the ledger, cut at a word',
  );
  assert.equal(preview.previewRows[0]!.cityState, 'Portland, OR');
  assert.ok(preview.previewRows.every((r) => r.estimatedCostCents > 0));
  assert.deepEqual(
    preview.invalid.map((r) => [r.rowNo, r.errors[0]!.code, r.errors[0]!.path]),
    [[4, 'E-2001', 'ShipTo.Address.PostalCode']],
  );
  const human = await cli('preview', id);
  assert.equal(human.code, 0);
  // The CLI checks addresses by default (--address-check warn): an Address column and its section.
  assert.match(human.out, /Row\s+Recipient\s+City\/State\s+Address\s+Service\s+Estimate\s+Warnings/);
  assert.match(human.out, /^Address check \(warn\): 4 checked — 4 valid, 0 corrected, /m);
  assert.match(human.out, /row 4: E-2001 .*PostalCode/);
  assert.match(human.out, /Total estimate: \$[\d,]+\.\d\d for 4 rows/);
  assert.match(human.out, new RegExp(`shipbatch approve ${id} --preview-hash ${preview.previewHash}`));

  const stale = await cli('approve', id, '--preview-hash', 'f'.repeat(64));
  assert.equal(stale.code, 2, stale.err);
  assert.match(stale.err, /refused approve: stale approval/);

  await writeFile(path.join(dir, 'knobs.json'), JSON.stringify({ latency: { kind: 'fixed', ms: 2500 } }));
  const approved = await cliJson<BatchStatus>(
    'approve',
    id,
    '--preview-hash',
    preview.previewHash,
    '--by',
    'e2e',
  );
  assert.equal(approved.approval?.by, 'e2e');

  const watched = await cli('watch', id);
  // Not a TTY: plain progress lines, then the closing line; a batch with an invalid row exits 1.
  assert.equal(watched.code, 1, watched.err);
  assert.match(watched.out, /shipped \d+ failed 0 .* rows\/s \| \$[\d,.]+ \| ETA/);
  assert.match(watched.out, /completed_with_errors — 4 shipped, 0 failed, 1 invalid/);
  assert.ok(!watched.out.includes('\u001b['), 'no terminal escapes when stdout is not a TTY');

  await writeFile(path.join(dir, 'knobs.json'), '{}');
  const status = await cliJson<BatchStatus>('status', id);
  assert.equal(status.phase, 'completed_with_errors');
  assert.deepEqual([status.counts.total, status.counts.shipped, status.counts.invalid], [5, 4, 1]);
  for (const field of [
    'batchId',
    'name',
    'mode',
    'modeLocked',
    'estimatedCostCents',
    'actualCostCents',
    'currency',
    'previewHash',
    'rejectedMessages',
    'updatedAt',
  ]) {
    assert.ok(field in status, `status --json carries ${field}`);
  }

  const late = await cli('approve', id);
  assert.equal(late.code, 2, late.err);
  assert.match(late.err, /refused approve: the batch is closed \(COMPLETED\)/);

  const csv = await cli('rows', id, '--csv');
  assert.equal(csv.code, 0);
  const lines = csv.out.trim().split('\r\n');
  assert.equal(lines[0], 'row,status,tracking_number,cost,currency,error');
  assert.equal(lines.length, 6);
  assert.match(lines[1]!, /^1,shipped,1Z[0-9A-Z]{16},\d+\.\d\d,USD,$/);
  assert.match(lines[4]!, /^4,invalid,,,,"E-2001 ShipTo.Address.PostalCode: .*""ABCDE""\)"$/);
  const rows = await cliJson<
    { rowNo: number; status: string; trackingNumbers: string[]; costCents: number | null }[]
  >('rows', id, '--status', 'shipped');
  assert.deepEqual(
    rows.map((r) => r.rowNo),
    [1, 2, 3, 5],
  );
  assert.equal(
    rows.reduce((a, r) => a + (r.costCents ?? 0), 0),
    status.actualCostCents,
  );

  const list = await cliJson<{ batchId: string; phase: string }[]>(
    'list',
    '--phase',
    'completed_with_errors',
  );
  assert.ok(list.some((b) => b.batchId === id));

  const out = path.join(dir, 'labels.pdf');
  const labels = await cliJson<{ files: string[]; labels: number }>('labels', id, '--out', out);
  assert.deepEqual(labels, { batchId: id, files: [out], labels: 4, format: 'pdf' });
  const pages = await readLabelPages(await readFile(out));
  assert.equal(pages.length, 4, 'one page per shipped row');
  assert.deepEqual([pages[0]!.widthPt, pages[0]!.heightPt], [288, 432]);
  const img = pages[0]!.image!;
  assert.deepEqual([img.width, img.height], [812, 1218], 'page 1 carries a full 4×6 label at 203 dpi');
  const barcodes = readCode128({ width: img.width, height: img.height, rgba: bitsToRgba(img) });
  assert.ok(
    barcodes.includes(rows[0]!.trackingNumbers[0]!),
    `page 1 is row 1's label: ${barcodes.join(',')}`,
  );

  // Run again: the file is there. Refused by name (exit 2) and left as it was, unless --force.
  const written = await readFile(out);
  const again = await cli('labels', id, '--out', out);
  assert.equal(again.code, 2, again.err);
  assert.ok(again.err.includes(`${out} already exists`), again.err);
  assert.match(again.err, /--force/);
  assert.deepEqual(await readFile(out), written);
  assert.equal((await cli('labels', id, '--out', out, '--force')).code, 0);
  assert.equal((await readLabelPages(await readFile(out))).length, 4);
  // A link planted at --out is never followed: the recipients' addresses are not written through it.
  const target = path.join(dir, 'not-yours.txt');
  await writeFile(target, 'precious\n');
  const linked = path.join(dir, 'linked.pdf');
  await symlink(target, linked);
  const throughLink = await cli('labels', id, '--out', linked);
  assert.equal(throughLink.code, 2, throughLink.err);
  assert.ok(throughLink.err.includes(`${linked} already exists (a symbolic link)`), throughLink.err);
  assert.equal((await cli('labels', id, '--out', linked, '--force')).code, 0);
  assert.equal(await readFile(target, 'utf8'), 'precious\n', 'the link target is untouched');
  assert.ok((await lstat(linked)).isFile(), 'the link was replaced by the labels file');
});

test('every bad input exits 2 with a message naming it, and starts nothing', async () => {
  const table = `cli_bad_${randomUUID().slice(0, 8)}`;
  assert.equal((await cli('import', 'orders.csv', '--table', table)).code, 0);
  await writeFile(path.join(dir, 'broken.njk'), '{ "ShipTo": {% if %} }');
  await writeFile(path.join(dir, 'shipper-bad.json'), '{"Name": "Acme", "ShipperNumber": "TOO-LONG-NUMBER"}');
  await writeFile(path.join(dir, 'shipper-notjson.json'), '{"Name": ');
  await writeFile(path.join(dir, 'bad.csv'), 'a,b\n1,2\n3,4,5\n');
  const start = (...extra: string[]) => [
    'start',
    '--table',
    table,
    '--template',
    TEMPLATE,
    '--shipper',
    SHIPPER,
    ...extra,
  ];
  const cases: [string, string[], RegExp][] = [
    [
      'missing template file',
      ['start', '--table', table, '--template', 'nope.njk', '--shipper', SHIPPER],
      /template file nope\.njk does not exist/,
    ],
    [
      'template that does not compile',
      ['start', '--table', table, '--template', 'broken.njk', '--shipper', SHIPPER],
      /template broken\.njk does not compile: .*Line 1/,
    ],
    [
      'bad shipper',
      ['start', '--table', table, '--template', TEMPLATE, '--shipper', 'shipper-bad.json'],
      /shipper file shipper-bad\.json is not a valid UPS Shipper: .*ShipperNumber/,
    ],
    [
      'shipper not JSON',
      ['start', '--table', table, '--template', TEMPLATE, '--shipper', 'shipper-notjson.json'],
      /shipper file shipper-notjson\.json is not valid JSON/,
    ],
    ['bad filter', start('--filter', "state = 'TX'; DROP TABLE orders"), /bad --filter .*;/],
    ['filter on another table', start('--filter', 'id IN (SELECT 1 FROM pg_user)'), /bad --filter/],
    [
      'unknown table',
      ['start', '--table', 'no_such_table', '--template', TEMPLATE, '--shipper', SHIPPER],
      /no_such_table.*does not exist/,
    ],
    ['unknown key column', start('--key-column', 'nope'), /nope/],
    ['bad mode', start('--mode', 'yolo'), /--mode.*yolo/],
    ['bad --rows list', ['restart', 'batch-whatever', '--rows', '2,two'], /--rows must be row numbers/],
    ['unknown batch', ['status', 'batch-never-started'], /no batch "batch-never-started"/],
    ['malformed CSV', ['import', 'bad.csv', '--table', `${table}_x`], /bad\.csv.*line 3/],
    [
      'existing table without --replace',
      ['import', 'orders.csv', '--table', table],
      /already exists: use --replace/,
    ],
  ];
  for (const [what, args, message] of cases) {
    const r = await cli(...args);
    assert.equal(r.code, 2, `${what}: exit ${r.code}; ${r.err}`);
    assert.match(r.err, message, what);
    assert.doesNotMatch(r.err, /\n\s+at /, `${what}: no stack trace`);
  }
  // A batch on a task queue no worker polls is stalled: list --attention says so, with the way out.
  const lonelyQueue = `nobody-${randomUUID().slice(0, 8)}`;
  const lonely = await run(
    process.execPath,
    [BIN, 'start', '--table', table, '--template', TEMPLATE, '--shipper', SHIPPER, '--json'],
    {
      cwd: dir,
      env: { ...env, SHIPBATCH_TASK_QUEUE: lonelyQueue },
    },
  );
  const lonelyId = (JSON.parse(lonely.stdout) as { batchId: string }).batchId;
  try {
    const attention = await cliJson<
      { batchId: string; reason: string; taskQueue: string; choices: string[] }[]
    >('list', '--attention');
    const stalled = attention.find((a) => a.batchId === lonelyId);
    assert.equal(stalled?.reason, 'no_worker');
    assert.equal(stalled.taskQueue, lonelyQueue);
    assert.match(stalled.choices[0]!, /shipbatch worker/);
  } finally {
    await client.temporal.workflow.getHandle(lonelyId).terminate('test cleanup');
  }

  const batches = await client.listBatches();
  assert.ok(!batches.some((b) => b.batchId.startsWith(`batch-${table}`)), 'no batch was started');
});

test('`temporal workflow query --name status` and `temporal workflow signal --name approve` drive a batch', async () => {
  const table = `cli_tcli_${randomUUID().slice(0, 8)}`;
  assert.equal((await cli('import', 'orders.csv', '--table', table)).code, 0);
  const { batchId } = await cliJson<{ batchId: string }>(
    'start',
    '--table',
    table,
    '--template',
    TEMPLATE,
    '--shipper',
    SHIPPER,
  );
  await waitStatus(batchId, (s) => s.phase === 'awaiting_approval');
  const config = loadConfig(env);
  const temporal = await ensureTemporalCli({
    cacheDir: config.temporal.devServer.cacheDir,
    version: config.temporal.devServer.cliVersion,
  });
  const common = [
    '--address',
    config.temporal.address,
    '--namespace',
    config.temporal.namespace,
    '--workflow-id',
    batchId,
  ];

  const q = await run(temporal, ['workflow', 'query', ...common, '--name', 'status', '--output', 'json']);
  const answer = JSON.parse(q.stdout) as { queryResult: BatchStatus[] };
  assert.equal(answer.queryResult[0]!.phase, 'awaiting_approval');
  assert.equal(answer.queryResult[0]!.counts.invalid, 1);

  await run(temporal, [
    'workflow',
    'signal',
    ...common,
    '--name',
    'approve',
    '--input',
    '{"by": "temporal-cli"}',
  ]);
  const done = await waitStatus(batchId, (s) => s.phase === 'completed_with_errors');
  assert.equal(done.approval?.by, 'temporal-cli');
  assert.equal(done.counts.shipped, 4);
});

test('a batch with failed rows waits for action: list --attention, restart, mode refused, finish', async () => {
  const table = `cli_fail_${randomUUID().slice(0, 8)}`;
  assert.equal((await cli('import', 'orders.csv', '--table', table)).code, 0);
  // UPS rejects the Denver address (row 3) as invalid: a definitive failure of that row only.
  await writeFile(path.join(dir, 'knobs.json'), JSON.stringify({ rejectPostalCodes: ['80202'] }));
  try {
    const { batchId: id } = await cliJson<{ batchId: string }>(
      'start',
      '--table',
      table,
      '--template',
      TEMPLATE,
      '--shipper',
      SHIPPER,
      '--mode',
      'AUTO',
    );
    const waiting = await waitStatus(id, (s) => s.phase === 'awaiting_action');
    assert.deepEqual([waiting.counts.shipped, waiting.counts.failed], [3, 1]);

    const items = await cliJson<{ batchId: string; reason: string; lastError: string; choices: string[] }[]>(
      'list',
      '--attention',
    );
    const item = items.find((i) => i.batchId === id);
    assert.ok(item);
    assert.equal(item.reason, 'awaiting_action');
    assert.match(item.lastError, /^row 3: /);
    assert.ok(item.choices.includes(`shipbatch restart ${id} --scope failed`));
    assert.ok(item.choices.includes(`shipbatch finish ${id}`));

    const failed = await cli('rows', id, '--status', 'failed');
    assert.match(failed.out, /^\s*3\s+failed\s+.*\S/m);

    const locked = await cli('mode', id, 'confirm');
    assert.equal(locked.code, 2);
    assert.match(locked.err, /refused setMode: .*locked/);

    // resume applies only while the batch waits for UPS: refused with the workflow's reason, exit 2.
    const notWaiting = await cli('resume', id, '--by', 'e2e');
    assert.equal(notWaiting.code, 2, notWaiting.err);
    assert.match(
      notWaiting.err,
      /refused resume: nothing to resume: the batch is awaiting_action \(resume applies in waiting_for_ups\)/,
    );
    assert.doesNotMatch(notWaiting.err, /\n\s+at /, 'no stack trace');

    const restarted = await cliJson<BatchStatus>('restart', id, '--rows', '3');
    assert.ok(restarted.phase === 'awaiting_action' || restarted.phase === 'executing');
    // Still rejected by UPS: it fails again and the batch waits again; finish closes it as it is
    // (refused with exit 2 while the restarted row is being shipped).
    let finished = await cli('finish', id);
    for (const deadline = Date.now() + 60_000; finished.code !== 0 && Date.now() < deadline;) {
      assert.equal(finished.code, 2, finished.err);
      assert.match(finished.err, /nothing to finish: the batch is executing/);
      await new Promise((r) => setTimeout(r, 500));
      finished = await cli('finish', id);
    }
    assert.equal(finished.code, 0, finished.err);
    const done = await waitStatus(id, (s) => s.phase === 'completed_with_errors');
    assert.deepEqual([done.counts.shipped, done.counts.failed, done.counts.invalid], [3, 1, 1]);
  } finally {
    await writeFile(path.join(dir, 'knobs.json'), '{}');
  }
});

test('UPS refuses the credentials: waiting_for_ups in status and list --attention, resume after the fix', async () => {
  const table = `cli_ups_${randomUUID().slice(0, 8)}`;
  assert.equal((await cli('import', 'orders.csv', '--table', table)).code, 0);
  const { batchId: id } = await cliJson<{ batchId: string }>(
    'start',
    '--table',
    table,
    '--template',
    TEMPLATE,
    '--shipper',
    SHIPPER,
  );
  await waitStatus(id, (s) => s.phase === 'awaiting_approval');
  // Every UPS call from now on: 401, UPS 250002 (the credentials expired after the preview).
  await writeFile(path.join(dir, 'knobs.json'), JSON.stringify({ faultRates: { auth_error: 1 } }));
  try {
    assert.equal((await cli('approve', id, '--by', 'e2e')).code, 0);
    const waiting = await waitStatus(
      id,
      (s) => s.phase === 'waiting_for_ups' && !!s.upsOutage?.needsOperator,
    );
    assert.equal(waiting.upsOutage?.kind, 'auth');
    assert.equal(waiting.counts.failed + waiting.counts.needsReview, 0, 'no row fails for the outage');

    const status = await cli('status', id);
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, /^ {2}phase {5}waiting_for_ups$/m);
    assert.match(status.out, /^ {2}ups {7}UPS refused the credentials/m);
    assert.match(status.out, /^ {2}since {5}\d{4}-\d\d-\d\dT/m);
    assert.match(status.out, /^ {2}probes {4}\d+ probes?, (next probe at \d{4}-|probing now)/m);
    assert.match(
      status.out,
      new RegExp(`^ {2}next {6}UPS refused the credentials: fix them, then \`shipbatch resume ${id}\`$`, 'm'),
    );

    const items = await cliJson<
      { batchId: string; reason: string; upsOutage?: { needsOperator: boolean }; choices: string[] }[]
    >('list', '--attention');
    const item = items.find((i) => i.batchId === id);
    assert.equal(item?.reason, 'waiting_for_ups', JSON.stringify(items));
    assert.equal(item.upsOutage?.needsOperator, true);
    assert.equal(item.choices[0], `shipbatch resume ${id}`);
    const human = await cli('list', '--attention');
    assert.match(human.out, new RegExp(`^${id} {2}waiting_for_ups: waiting for UPS$`, 'm'));

    // Resumed before the fix: accepted (the batch was waiting), shipping tries again and waits again.
    const early = await cliJson<BatchStatus>('resume', id, '--by', 'e2e');
    assert.equal(early.batchId, id);
    await waitStatus(id, (s) => s.phase === 'waiting_for_ups' && !!s.upsOutage?.needsOperator);

    // Fixed: resume (unless a probe saw UPS answer first and the batch resumed by itself).
    await writeFile(path.join(dir, 'knobs.json'), '{}');
    const resumed = await cli('resume', id, '--by', 'e2e');
    if (resumed.code !== 0) {
      assert.equal(resumed.code, 2, resumed.err);
      assert.match(resumed.err, /nothing to resume: the batch is (executing|completed)/);
    } else {
      assert.match(
        resumed.out,
        new RegExp(`^${id}: resumed by e2e; shipping starts again \\(phase \\w+\\)$`, 'm'),
      );
    }
    const done = await waitStatus(id, (s) => s.phase === 'completed_with_errors');
    assert.deepEqual([done.counts.shipped, done.counts.failed, done.counts.invalid], [4, 0, 1]);
    assert.equal(done.upsOutage, undefined);
  } finally {
    await writeFile(path.join(dir, 'knobs.json'), '{}');
  }
});
