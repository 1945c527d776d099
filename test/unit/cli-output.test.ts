/**
 * CLI pieces that need no stack: money, tables and CSV with hostile values, the progress line, flag
 * parsers, batch ids and Web UI details, exit codes, and the bad flags refused before any connection;
 * status and list --attention of a batch waiting for UPS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyCounts, type BatchInput, type BatchStatus, type UpsOutage } from '../../domain/batch';
import { csvField, csvLine, clean, formatMoney, progressLine, table } from '../../client/cli/output';
import { intArg, rowsListArg } from '../../client/cli/inputs';
import type { AttentionItem } from '../../client/attention';
import { batchIdFor, normalizeBatchId } from '../../client/batch-ids';
import { batchDetails, batchSummary } from '../../client/web-ui';
import { noPreviewReason, printPreview, printStatus } from '../../client/cli/batch-commands';
import type { Io } from '../../client/cli/io';
import { printAttention } from '../../client/cli/list-commands';
import { runCli } from '../../client/cli/main';
import { exitCodeOf } from '../../client/cli/exit-codes';
import {
  BatchInputError,
  BatchNotFoundError,
  BatchRefusedError,
  ConnectionError,
  ShipbatchError,
} from '../../client/errors';
import { ImportError } from '../../client/cli/import/import-limits';
import { SourceError } from '../../inputs/source/identifiers';
import { ConfigError } from '../../temporal.config';
import { TEMPLATE, SHIPPER } from '../helpers/batch';

test('money: cents with thousands separators, USD as $, others by code, negatives', () => {
  assert.equal(formatMoney(0), '$0.00');
  assert.equal(formatMoney(5), '$0.05');
  assert.equal(formatMoney(123456789), '$1,234,567.89');
  assert.equal(formatMoney(-1050, 'USD'), '-$10.50');
  assert.equal(formatMoney(100000, 'EUR'), '1,000.00 EUR');
});

test('tables and terminal text: escape sequences and bidi overrides from row data are neutralised', () => {
  assert.equal(clean('Bob\u001b[2J\u001b]0;pwned\u0007'), 'Bob [2J ]0;pwned ');
  assert.equal(clean('a\u202eb\nc'), 'a b c');
  const t = table(
    ['Row', 'Name'],
    [
      [1, 'Zoë'],
      [10, 'x\u001b[31m'],
    ],
    [0],
  );
  assert.equal(t, 'Row  Name\n---  ------\n  1  Zoë\n 10  x [31m');
});

test('CSV: quotes, commas and newlines quoted; spreadsheet formulas neutralised', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"\nbye'), '"say ""hi""\nbye"');
  assert.equal(csvField('=HYPERLINK("http://evil")'), `"'=HYPERLINK(""http://evil"")"`);
  assert.equal(csvField('+1'), "'+1");
  assert.equal(csvField('-2+3'), "'-2+3");
  assert.equal(csvField('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(csvField(null), '');
  assert.equal(csvLine([1, 'shipped', '1Z1', '12.34', 'USD', '']), '1,shipped,1Z1,12.34,USD,\r\n');
});

test('progress line: bar, counts, rate, cost and ETA; pending never double-counts rows in flight', () => {
  const counts = {
    ...emptyCounts(),
    total: 104,
    invalid: 4,
    shipped: 40,
    failed: 10,
    pending: 50,
    inFlight: 16,
  };
  const line = progressLine({ phase: 'executing', counts, actualCostCents: 123456, currency: 'USD' }, 5);
  // 100 to ship, 50 settled: half done, 50 remaining at 5 rows/s → 0:10.
  assert.match(
    line,
    /^\[##########xx\.{12}\] {2}50% shipped 40 failed 10 pending 50 \| 5\.0 rows\/s \| \$1,234\.56 \| ETA 0:10 \| executing$/,
  );
  const loading = progressLine(
    {
      phase: 'previewing',
      counts: { ...emptyCounts(), total: 10, invalid: 1 },
      actualCostCents: 0,
      currency: 'USD',
    },
    0,
  );
  assert.equal(loading, 'previewing: 10 rows read, 1 invalid, 9 to ship');
  const empty = progressLine(
    { phase: 'executing', counts: emptyCounts(), actualCostCents: 0, currency: 'USD' },
    0,
  );
  assert.match(empty, /100% .* ETA --:--/);
});

test('flag parsers refuse junk with a message naming the flag', () => {
  assert.deepEqual(rowsListArg('3,7, 12,3'), [3, 7, 12]);
  for (const bad of ['', '1,,2', '0', '-1', '1.5', '1;2', 'x', '1e3', '99999999999']) {
    assert.throws(() => rowsListArg(bad), /--rows must be row numbers/, bad);
  }
  const conc = intArg('--concurrency', 1, 256);
  assert.equal(conc('16'), 16);
  assert.throws(() => conc('0'), /--concurrency must be between 1 and 256, got 0/);
  assert.throws(() => conc('8x'), /--concurrency must be a whole number, got "8x"/);
});

test('batch ids: from names (slugged, bounded), user ids checked, hostile text refused', () => {
  assert.equal(batchIdFor('Spring sale #2'), 'batch-spring-sale-2');
  assert.match(batchIdFor(undefined), /^batch-[0-9a-f]{8}$/);
  assert.match(batchIdFor('!!!'), /^batch-[0-9a-f]{8}$/);
  assert.ok(batchIdFor('x'.repeat(300)).length <= 'batch-'.length + 48);
  assert.equal(normalizeBatchId('spring'), 'batch-spring');
  assert.equal(normalizeBatchId('batch-spring'), 'batch-spring');
  for (const bad of ['a b', '../etc', "x' OR 1=1", 'batch-', 'y'.repeat(80)]) {
    assert.throws(() => normalizeBatchId(bad), BatchInputError, bad);
  }
});

test('Web UI summary ≤ 200 bytes and details where a filter cannot break out of its code block', () => {
  const input = {
    name: 'n',
    source: { table: 'orders', keyColumn: 'id', filter: "state = 'TX' ``` **bold** ````" },
    template: TEMPLATE,
    shipper: { ...SHIPPER, Name: 'Acme *Widgets* <b>' },
    mode: 'confirm',
    options: {
      previewRows: 20,
      rateAll: false,
      concurrency: 16,
      approvalTimeout: '7d',
      attentionTimeout: '7d',
      labelFormat: 'GIF',
      templateSetsPayer: false,
      rowsPerRun: 2000,
    },
  } as BatchInput;
  assert.equal(batchSummary(input, 'batch-n'), 'Batch n: orders, confirm');
  assert.ok(
    Buffer.byteLength(
      batchSummary(
        { ...input, name: 'é'.repeat(80), source: { ...input.source, table: 't'.repeat(120) } },
        'b',
      ),
    ) <= 200,
  );
  const details = batchDetails(input);
  assert.match(details, /\n`{5}sql\nstate = 'TX' ``` \*\*bold\*\* ````\n`{5}/);
  assert.match(details, /Acme \\\*Widgets\\\* \\<b\\>/);
});

test('exit codes: input and refusals 2, connection and other failures 1', () => {
  assert.equal(exitCodeOf(new BatchInputError('x')), 2);
  assert.equal(exitCodeOf(new BatchRefusedError('batch-a', 'approve', 'stale approval')), 2);
  assert.equal(exitCodeOf(new BatchNotFoundError('batch-a')), 2);
  assert.equal(exitCodeOf(new ConfigError('bad var')), 2);
  assert.equal(exitCodeOf(new ImportError('bad file')), 2);
  assert.equal(exitCodeOf(new SourceError('no table')), 2);
  assert.equal(exitCodeOf(new ConnectionError('down')), 1);
  assert.equal(exitCodeOf(new ShipbatchError('failed')), 1);
  assert.equal(exitCodeOf(new Error('boom')), 1);
  // The code is the type's, not the name's: an error merely named like an input error is a failure.
  assert.equal(exitCodeOf(Object.assign(new Error('bad var'), { name: 'BatchInputError' })), 1);
});

/** Run the CLI in-process with captured output (only for commands that fail before connecting). */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t), tty: false });
  return { code, out, err };
}

test('bad flags exit 2 before anything is sent, naming the flag', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['start', '--table', 't', '--template', 'x', '--shipper', 'y', '--mode', 'turbo'],
      /--mode.*turbo.*"confirm" or "auto"/,
    ],
    [['start', '--template', 'x', '--shipper', 'y'], /required option '--table <table>'/],
    [
      ['start', '--table', 't', '--template', 'x', '--shipper', 'y', '--concurrency', '0'],
      /--concurrency must be between 1 and 256/,
    ],
    [['restart', 'batch-a', '--rows', '1,x'], /--rows must be row numbers/],
    [
      ['restart', 'batch-a', '--scope', 'everything'],
      /--scope must be one of failed, needs_review, all_unshipped/,
    ],
    [['mode', 'batch-a', 'TURBO'], /mode must be "confirm" or "auto", got "TURBO"/],
    [['resolve', 'batch-a', '--row', '3'], /exactly one of --tracking .* or --retry/],
    [['resolve', 'batch-a', '--row', '3', '--retry', '--tracking', '1Z999'], /exactly one of/],
    [['list', '--phase', 'done'], /--phase must be one of loading/],
    [['resume'], /missing required argument 'id'/],
    [['rows', 'batch-a', '--status', 'lost'], /--status must be one of pending/],
    [
      ['labels', 'batch-a', '--out', 'x.pdf', '--format', 'png'],
      /--format.*png.*Allowed choices are pdf, zpl/,
    ],
    [['import', 'f.csv', '--table', 't', '--type', 'zip=blob'], /--type takes COLUMN=text\|integer/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ];
  for (const [argv, message] of cases) {
    const r = await cli(...argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
    assert.match(r.err, message, argv.join(' '));
  }
});

test('--help exits 0 with examples, per command too', async () => {
  const top = await cli('--help');
  assert.equal(top.code, 0);
  assert.match(top.out, /Examples:[\s\S]*shipbatch start --table orders/);
  const approve = await cli('approve', '--help');
  assert.equal(approve.code, 0);
  assert.match(approve.out, /--preview-hash <hash>[\s\S]*Examples:[\s\S]*shipbatch approve batch-spring/);
  const resume = await cli('resume', '--help');
  assert.equal(resume.code, 0);
  assert.match(resume.out, /waiting_for_ups[\s\S]*--by <name>[\s\S]*shipbatch resume batch-spring/);
});

/** A status in waiting_for_ups (the shape the workflow's `status` query answers). */
function waitingStatus(outage: Partial<UpsOutage> = {}): BatchStatus {
  return {
    batchId: 'batch-ups',
    name: 'ups',
    phase: 'waiting_for_ups',
    mode: 'auto',
    modeLocked: true,
    counts: { ...emptyCounts(), total: 10, shipped: 4, pending: 6 },
    estimatedCostCents: 10_000,
    actualCostCents: 4_000,
    currency: 'USD',
    rejectedMessages: [],
    updatedAt: '2025-06-01T10:01:00.000Z',
    upsOutage: {
      kind: 'unreachable',
      reason: 'UPS unreachable: connection refused',
      since: '2025-06-01T10:00:00.000Z',
      nextProbeAt: '2025-06-01T10:05:00.000Z',
      probes: 3,
      needsOperator: false,
      ...outage,
    },
  };
}

function captured(): { io: Io; text: () => string } {
  let out = '';
  return { io: { out: (t) => (out += t), err: (t) => (out += t), tty: false }, text: () => out };
}

test('status of a batch waiting for UPS: the reason, since, probes, the next probe and who acts', () => {
  const c = captured();
  printStatus(c.io, waitingStatus());
  const lines = c.text().split('\n');
  assert.ok(lines.includes('  phase     waiting_for_ups'));
  assert.ok(lines.includes('  ups       UPS unreachable: connection refused'));
  assert.ok(lines.includes('  since     2025-06-01T10:00:00.000Z'));
  assert.ok(lines.includes('  probes    3 probes, next probe at 2025-06-01T10:05:00.000Z'));
  assert.ok(lines.includes('  next      resumes by itself when UPS answers'));
  assert.ok(!c.text().includes('shipbatch resume'), 'no command to run: it resumes by itself');

  const auth = captured();
  printStatus(
    auth.io,
    waitingStatus({
      kind: 'auth',
      reason: 'UPS refused the credentials\u001b[2J',
      probes: 1,
      nextProbeAt: undefined,
      needsOperator: true,
    }),
  );
  const text = auth.text();
  assert.match(text, /^ {2}ups {7}UPS refused the credentials \[2J$/m, 'escape sequences neutralised');
  assert.match(text, /^ {2}probes {4}1 probe, probing now$/m);
  assert.match(
    text,
    /^ {2}next {6}UPS refused the credentials: fix them, then `shipbatch resume batch-ups`$/m,
  );

  const plain = captured();
  printStatus(plain.io, { ...waitingStatus(), phase: 'executing', upsOutage: undefined });
  assert.doesNotMatch(plain.text(), /^ {2}(ups|probes|next) /m, 'no outage lines outside the outage');
});

function attentionItem(outage?: Partial<UpsOutage>, choices: string[] = []): AttentionItem {
  const s = waitingStatus(outage);
  return {
    batchId: s.batchId,
    runId: 'run',
    status: 'RUNNING',
    taskQueue: 'shipbatch',
    phase: 'waiting_for_ups',
    startTime: '2025-06-01T09:00:00.000Z',
    reason: 'waiting_for_ups',
    done: 4,
    remaining: 6,
    counts: s.counts,
    lastError: s.upsOutage!.reason,
    ...(outage === undefined ? {} : { upsOutage: s.upsOutage }),
    choices,
  };
}

test('list --attention: a batch waiting for UPS with the reason and the command to run, or that it resumes by itself', () => {
  const byItself = captured();
  printAttention(byItself.io, [
    attentionItem({}, ['shipbatch status batch-ups', 'shipbatch cancel batch-ups']),
  ]);
  const t1 = byItself.text();
  assert.match(t1, /^batch-ups {2}waiting_for_ups: waiting for UPS$/m);
  assert.match(t1, /^ {2}rows {6}4 done, 6 remaining/m);
  assert.match(t1, /^ {2}ups {7}UPS unreachable: connection refused$/m);
  assert.match(t1, /^ {2}next {6}resumes by itself when UPS answers$/m);
  assert.doesNotMatch(t1, /last error/, 'the reason is not repeated as the last error');
  assert.match(t1, /^ {2}choices {3}shipbatch status batch-ups\n {12}shipbatch cancel batch-ups$/m);

  const operator = captured();
  printAttention(operator.io, [
    attentionItem({ kind: 'auth', reason: 'UPS refused the credentials', needsOperator: true }, [
      'shipbatch resume batch-ups',
      'shipbatch status batch-ups',
      'shipbatch cancel batch-ups',
    ]),
  ]);
  const t2 = operator.text();
  assert.match(t2, /^ {2}ups {7}UPS refused the credentials$/m);
  assert.match(t2, /^ {2}next {6}UPS refused the credentials: fix them, then `shipbatch resume batch-ups`$/m);
  assert.match(t2, /^ {2}choices {3}shipbatch resume batch-ups$/m);

  // The status did not answer (a worker busy): both ways on, the last error from the ledger.
  const unknown = captured();
  printAttention(unknown.io, [
    { ...attentionItem(undefined, ['shipbatch resume batch-ups']), lastError: null },
  ]);
  assert.match(
    unknown.text(),
    /^ {2}next {6}resumes by itself when UPS answers; if UPS refused the credentials, fix them, then `shipbatch resume batch-ups`$/m,
  );
});

test('progress line while waiting for UPS: the reason, counts and next probe, no bar', () => {
  const line = progressLine(waitingStatus(), 0);
  assert.equal(
    line,
    'waiting_for_ups: UPS unreachable: connection refused | shipped 4 failed 0 pending 6 | 3 probes, next probe at 10:05:00 UTC',
  );
  assert.ok(!line.includes('['), 'no frozen bar');
  const probing = progressLine(waitingStatus({ nextProbeAt: undefined, probes: 4 }), 0);
  assert.match(probing, /\| 4 probes, probing now$/);
  const unknown = progressLine({ ...waitingStatus(), upsOutage: undefined }, 0);
  assert.equal(unknown, 'waiting_for_ups: UPS does not answer | shipped 4 failed 0 pending 6');
});

test('preview while UPS rated no row: why there is no estimate, and the command when the credentials were refused', () => {
  const down = { ...waitingStatus(), previewHash: undefined };
  assert.equal(
    noPreviewReason(down),
    'UPS rated no row (UPS unreachable: connection refused), so there is no estimate yet; the batch previews again when UPS answers.',
  );
  const auth = waitingStatus({ kind: 'auth', reason: 'UPS refused the credentials', needsOperator: true });
  assert.match(
    noPreviewReason(auth),
    /previews again when UPS answers\. UPS refused the credentials: fix them, then `shipbatch resume batch-ups`$/,
  );
  assert.equal(noPreviewReason({ ...down, phase: 'loading' }), 'the batch is loading; try again in a moment');
  assert.equal(
    noPreviewReason({ ...down, phase: 'cancelled' }),
    'the batch closed (cancelled) before a preview',
  );
});

test('preview with rows UPS did not rate: counted, and estimated at the average of the rated ones', () => {
  const c = captured();
  printPreview(
    c.io,
    'batch-ups',
    {
      totalRows: 3,
      validRows: 3,
      invalidRows: 0,
      previewRows: [
        {
          rowNo: 1,
          recipient: 'A',
          cityState: 'Austin, TX',
          service: 'Ground',
          estimatedCostCents: 1000,
          warnings: [],
        },
        {
          rowNo: 2,
          recipient: 'B',
          cityState: 'Dallas, TX',
          service: 'Ground',
          estimatedCostCents: 0,
          warnings: ['not rated: UPS unreachable: connection refused'],
        },
      ],
      additionalRows: 1,
      totalEstimatedCostCents: 3000,
      currency: 'USD',
      rowsWithWarnings: 1,
      unratedRows: 1,
      previewHash: 'a'.repeat(64),
    },
    [],
  );
  assert.match(
    c.text(),
    /^1 row not rated by UPS \(see the warnings\): estimated at the average of the rated rows$/m,
  );
  const none = captured();
  printPreview(none.io, 'batch-ups', { ...plainPreview(), unratedRows: 0 }, []);
  assert.doesNotMatch(none.text(), /not rated by UPS/);
});

function plainPreview() {
  return {
    totalRows: 1,
    validRows: 1,
    invalidRows: 0,
    previewRows: [],
    additionalRows: 1,
    totalEstimatedCostCents: 0,
    currency: 'USD',
    rowsWithWarnings: 0,
    previewHash: 'b'.repeat(64),
  };
}
