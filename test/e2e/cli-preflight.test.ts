/**
 * The pre-flight through the `shipbatch` CLI (issue 24), as a user runs it: child processes against the test
 * stack with a `shipbatch worker` child and the UPS sandbox. `start --address-check require --service cheapest
 * --max-transit-days 2` over a table with one address UPS corrects and one ZIP UPS does not know; `watch` shows
 * the pre-flight's progress while previewing, `preview --json` carries the outcomes and the services chosen (checked
 * against the ledger), the human preview shows them; bad pre-flight flags are refused by name and start nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ShipbatchClient } from '../../client/batches';
import type { BatchPreview, BatchStatus } from '../../domain/batch';
import type { ServiceChoiceResult } from '../../domain/preflight';
import { serviceName } from '../../domain/shipment-schema';
import { BIN, openCliStack, ROOT, type CliStack } from '../helpers/cli-stack';

const TEMPLATE = path.join(ROOT, 'examples', 'template.njk');
const SHIPPER = path.join(ROOT, 'examples', 'shipper.json');

let stack: CliStack;
let dir: string;
let env: NodeJS.ProcessEnv;
let client: ShipbatchClient;
const cli = (...args: string[]) => stack.cli(...args);
const cliJson = <T>(...args: string[]) => stack.cliJson<T>(...args);
const waitStatus = (id: string, pred: (s: BatchStatus) => boolean) => stack.waitStatus(id, pred);

const CSV = [
  'order_id,name,address1,address2,city,state,zip,phone,service,weight_oz,item',
  'A-1,Michael Davis,4112 Elm St,,Portland,OR,97204,5035551001,ground,20,Book set',
  'A-2,Dwayne Johnson,7812 Pine St,Apt 2,Houston,TX,77002,(713) 555-1002,overnight,50,Dumbbells',
  'A-3,Zoe Brooks,12 Oak Ave,,Denver,CO,80202,3035551003,ground,16,Mug',
  'A-4,Li Wei,99 Main St,,Boston,MA,02108,6175551004,ground,16,Tea',
  'A-5,Ana Nunez,5 Lake Rd,,Chicago,IL,60601,3125551005,2nd Day Air,30,Lamp',
].join('\n');

/** Row 1: UPS knows the street as SW Elm St (corrected); row 3: UPS knows no such ZIP (not found). */
const KNOBS = {
  rejectPostalCodes: ['80202'],
  addressCandidates: {
    '97204': [{ addressLines: ['4112 SW ELM ST'], city: 'PORTLAND', state: 'OR', postalCode: '97204-1234' }],
  },
};

before(async () => {
  stack = await openCliStack('cli-preflight', KNOBS);
  ({ dir, env, client } = stack);
  await writeFile(path.join(dir, 'orders.csv'), `${CSV}\n`);
});

after(async () => {
  await stack?.close();
});

test('start --address-check require --service cheapest --max-transit-days 2: progress, preview --json and text', async () => {
  const table = `cli_pre_${randomUUID().slice(0, 8)}`;
  assert.equal((await cli('import', 'orders.csv', '--table', table, '--type', 'zip=text')).code, 0);
  // UPS slow to validate: `watch` sees the batch previewing with the address check under way.
  await writeFile(
    path.join(dir, 'knobs.json'),
    JSON.stringify({ ...KNOBS, rules: [{ tool: 'validate_address', fault: 'slow', ms: 2500, times: 5 }] }),
  );
  const name = `pre ${randomUUID().slice(0, 6)}`;
  const { batchId: id } = await cliJson<{ batchId: string }>(
    'start',
    '--table',
    table,
    '--template',
    TEMPLATE,
    '--shipper',
    SHIPPER,
    '--name',
    name,
    '--address-check',
    'require',
    '--service',
    'cheapest',
    '--max-transit-days',
    '2',
  );
  // `watch` until the preview is there (it follows a batch to its end: stopped once it said what we look for).
  const watcher = spawn(process.execPath, [BIN, 'watch', id], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let watched = '';
  watcher.stdout.on('data', (c: Buffer) => (watched += c.toString()));
  try {
    await waitStatus(id, (s) => s.phase === 'awaiting_approval');
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    watcher.kill('SIGTERM');
    if (watcher.exitCode === null) await new Promise((r) => watcher.once('exit', r));
  }
  assert.match(watched, /previewing: 5 rows read, \d invalid, \d to ship \| address check \d of 5/, watched);
  assert.match(watched, /awaiting_approval — waiting for approval/);

  // The options went into the batch input as given (the ledger keeps the input once the batch loaded).
  const { rows: stored } = await (
    await client.pool()
  ).query<{ options: Record<string, unknown> }>('SELECT options FROM batches WHERE batch_id = $1', [id]);
  assert.deepEqual(
    {
      addressCheck: stored[0]?.options.addressCheck,
      useCorrectedAddress: stored[0]?.options.useCorrectedAddress,
      service: stored[0]?.options.service,
    },
    { addressCheck: 'require', useCorrectedAddress: false, service: { cheapest: { maxTransitDays: 2 } } },
  );

  const status = await cli('status', id);
  assert.equal(status.code, 0, status.err);
  assert.match(status.out, /^ {2}preflight address check 5 of 5, rate shopping 4 of 4$/m);

  const preview = await cliJson<
    BatchPreview & { invalid: { rowNo: number; errors: { code: string; path: string }[] }[] }
  >('preview', id);
  assert.deepEqual([preview.totalRows, preview.validRows, preview.invalidRows], [5, 4, 1]);
  assert.deepEqual(preview.addressCheck, {
    mode: 'require',
    checked: 5,
    valid: 3,
    corrected: 1,
    ambiguous: 0,
    notFound: 1,
    unchecked: 0,
    residential: 4,
    invalidated: 1,
    correctedApplied: 0,
    rows: { corrected: [1], ambiguous: [], notFound: [3], unchecked: [] },
  });
  assert.deepEqual(
    preview.invalid.map((r) => [r.rowNo, r.errors[0]!.code, r.errors[0]!.path]),
    [[3, 'E-3001', 'ShipTo.Address']],
  );
  // UPS's candidate is row data: merged from the ledger's copy of the preview, next to the row.
  assert.deepEqual(preview.previewRows[0]!.address, {
    outcome: 'corrected',
    residential: true,
    candidate: '4112 SW ELM ST, PORTLAND, OR 97204-1234',
  });
  assert.deepEqual(
    preview.previewRows.map((r) => [r.rowNo, r.address?.outcome]),
    [
      [1, 'corrected'],
      [2, 'valid'],
      [4, 'valid'],
      [5, 'valid'],
    ],
  );

  // Rate shopping: every valid row shopped within 2 days; each detailed row's service and price are the
  // ledger's choice, and the template's service and price are shown where the choice differs.
  const shop = preview.rateShopping!;
  assert.equal(shop.maxTransitDays, 2);
  assert.deepEqual([shop.shopped, shop.noService, shop.notShopped], [4, 0, 0]);
  assert.equal(
    Object.values(shop.services).reduce((a, b) => a + b, 0),
    4,
  );
  assert.equal(shop.savingsCents, shop.templateCents - shop.chosenCents);
  const { rows: ledger } = await (
    await client.pool()
  ).query<{ row_no: number; service_choice: ServiceChoiceResult; estimate_cents: string }>(
    'SELECT row_no, service_choice, estimate_cents FROM batch_rows WHERE batch_id = $1 AND shopped_at IS NOT NULL ORDER BY row_no',
    [id],
  );
  assert.deepEqual(
    ledger.map((r) => r.row_no),
    [1, 2, 4, 5],
  );
  let changed = 0;
  for (const r of ledger) {
    const c = r.service_choice;
    const row = preview.previewRows.find((p) => p.rowNo === r.row_no)!;
    assert.ok(c.days !== undefined && c.days <= 2, `row ${r.row_no} arrives within 2 days`);
    assert.equal(row.service, serviceName(c.code!));
    assert.equal(row.estimatedCostCents, c.cents);
    assert.equal(Number(r.estimate_cents), c.cents);
    if (c.code !== c.templateCode) {
      changed++;
      assert.equal(row.templateService, serviceName(c.templateCode));
      assert.equal(row.templateCostCents, c.templateCents);
    } else assert.equal(row.templateService, undefined);
  }
  assert.equal(shop.changed, changed);
  assert.ok(changed > 0, 'Ground does not reach every lane in 2 days: some rows change service');
  assert.equal(
    preview.totalEstimatedCostCents,
    ledger.reduce((a, r) => a + (r.service_choice.cents ?? 0), 0),
    'every row shopped: the estimate is exact',
  );

  const human = await cli('preview', id);
  assert.equal(human.code, 0, human.err);
  const text = human.out;
  assert.match(
    text,
    /Row\s+Recipient\s+City\/State\s+Address\s+Service\s+Estimate\s+Template's service\s+Warnings/,
  );
  assert.match(text, /^\s*1\s+Michael Davis\s+Portland, OR\s+corrected, residential\s+/m);
  assert.match(
    text,
    /^Address check \(require\): 5 checked — 3 valid, 1 corrected, 0 ambiguous, 1 not found, 0 unchecked; 4 residential; 1 invalidated$/m,
  );
  assert.match(
    text,
    /^ {4}row 1: 4112 Elm St, Portland, OR 97204\n {6}UPS: 4112 SW ELM ST, PORTLAND, OR 97204-1234$/m,
  );
  assert.match(text, /^ {4}row 3: 12 Oak Ave, Denver, CO 80202$/m);
  assert.match(
    text,
    new RegExp(
      `^Rate shopping \\(cheapest within 2 business days\\): 4 shopped, ${changed} changed from the template's service$`,
      'm',
    ),
  );
  assert.match(text, /^ {2}services: UPS [\w .]+ \d/m);
  assert.match(text, /^ {2}(saving: {3}|costs {5})\$[\d,]+\.\d\d /m);
  assert.match(text, /^ {2}row 3: E-3001 ShipTo\.Address: UPS Address Validation found no such address/m);
  assert.match(text, new RegExp(`shipbatch approve ${id} --preview-hash ${preview.previewHash}`));
  await client.temporal.workflow.getHandle(id).terminate('test done');
});

test('bad pre-flight flags exit 2 naming the flag, and start nothing', async () => {
  const table = `cli_prebad_${randomUUID().slice(0, 8)}`;
  assert.equal((await cli('import', 'orders.csv', '--table', table, '--type', 'zip=text')).code, 0);
  const name = `prebad-${randomUUID().slice(0, 6)}`;
  const start = (...extra: string[]) => [
    'start',
    '--table',
    table,
    '--template',
    TEMPLATE,
    '--shipper',
    SHIPPER,
    '--name',
    name,
    ...extra,
  ];
  const cases: [string, string[], RegExp][] = [
    [
      'transit limit without cheapest',
      start('--max-transit-days', '2'),
      /--max-transit-days 2 applies only with --service cheapest \(the service is template\)\. Fix: add --service cheapest/,
    ],
    [
      'transit limit with the template service',
      start('--service', 'template', '--max-transit-days', '3'),
      /--max-transit-days 3 applies only with --service cheapest/,
    ],
    [
      'transit limit out of range',
      start('--service', 'cheapest', '--max-transit-days', '31'),
      /--max-transit-days must be between 1 and 30, got 31/,
    ],
    [
      'transit limit not a number',
      start('--service', 'cheapest', '--max-transit-days', 'two'),
      /--max-transit-days must be a whole number, got "two"/,
    ],
    [
      'unknown address check',
      start('--address-check', 'strict'),
      /--address-check must be one of off, warn, require, got "strict"/,
    ],
    [
      'unknown service',
      start('--service', 'fastest'),
      /--service must be one of template, cheapest, got "fastest"/,
    ],
    [
      'corrected address without a check',
      start('--address-check', 'off', '--use-corrected-address'),
      /--use-corrected-address needs an address check/,
    ],
  ];
  for (const [what, args, message] of cases) {
    const r = await cli(...args);
    assert.equal(r.code, 2, `${what}: exit ${r.code}; ${r.err}`);
    assert.match(r.err, message, what);
    assert.doesNotMatch(r.err, /\n\s+at /, `${what}: no stack trace`);
  }
  const help = await cli('start', '--help');
  assert.match(help.out, /--address-check <check>[\s\S]*\(default: "warn"\)/);
  assert.match(help.out, /--max-transit-days <n>/);
  const batches = await client.listBatches();
  assert.ok(!batches.some((b) => b.batchId === `batch-${name}`), 'no batch was started');
  const { rows } = await (
    await client.pool()
  ).query('SELECT 1 FROM batches WHERE batch_id = $1', [`batch-${name}`]);
  assert.equal(rows.length, 0, 'nothing in the ledger');
});
