/**
 * After the label in the CLI without a stack (issue 25): the `start` flags `--track-for`, `--track-every`,
 * `--pickup`, `--write-back` and `--write-back-status` parsed by the real program into the batch options the
 * schema keeps; each bad value and bad combination exit 2 naming the flag before any connection; the Pickup
 * lines of `preview` and `status` (hostile text from UPS neutralised).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchOptionsSchema, emptyCounts, type BatchPreview, type BatchStatus } from '../../domain/batch';
import type { PickupStatus } from '../../domain/pickup';
import { afterLabelOptions, localTimeZone, type AfterLabelFlags } from '../../client/cli/after-label';
import { printPreview, printStatus, startOptions, type StartFlags } from '../../client/cli/batch-commands';
import type { Io } from '../../client/cli/io';
import { runCli } from '../../client/cli/main';
import { buildProgram } from '../../client/cli/program';
import { BatchInputError } from '../../client/errors';

const START = ['start', '--table', 't', '--template', 'x.njk', '--shipper', 'y.json'];

function captured(): { io: Io; text: () => string } {
  let out = '';
  return { io: { out: (t) => (out += t), err: (t) => (out += t), tty: false }, text: () => out };
}

class Parsed extends Error {}

/** The flags the real program parses from `start …`, taken just before its action (nothing connects). */
async function startFlags(extra: string[]): Promise<StartFlags> {
  const c = captured();
  const program = buildProgram(c.io, () => {});
  let flags: StartFlags | undefined;
  program.commands
    .find((cmd) => cmd.name() === 'start')!
    .hook('preAction', (_cmd, action) => {
      flags = action.opts<StartFlags>();
      throw new Parsed();
    });
  await assert.rejects(program.parseAsync([...START, ...extra], { from: 'user' }), Parsed, c.text());
  return flags!;
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t), tty: false });
  return { code, out, err };
}

test('start: the after-the-label flags reach the batch options, and the schema keeps them', async () => {
  // startOptions: the options `start` gives the batch (prepareBatch's), from the flags the program parsed.
  const options = startOptions(
    await startFlags([
      '--track-for',
      '30d',
      '--track-every',
      '2h',
      '--pickup',
      '09:00-17:00@2026-12-08',
      '--pickup-time-zone',
      'America/Chicago',
      '--write-back',
      'tracking',
      '--write-back-status',
      'delivery_status',
    ]),
  );
  assert.deepEqual(options, {
    addressCheck: 'warn',
    useCorrectedAddress: false,
    service: 'template',
    trackFor: '30d',
    trackEvery: '2h',
    pickup: { readyTime: '09:00', closeTime: '17:00', date: '2026-12-08', timeZone: 'America/Chicago' },
    writeBack: { column: 'tracking', statusColumn: 'delivery_status' },
  });
  const parsed = BatchOptionsSchema.parse(options);
  assert.equal(parsed.trackFor, '30d');
  assert.equal(parsed.trackEvery, '2h');
  assert.deepEqual(parsed.pickup, options.pickup);
  assert.deepEqual(parsed.writeBack, options.writeBack);

  // No date: the workflow picks the day shipping ends. 0s: no tracking. Tracking numbers only.
  assert.deepEqual(
    afterLabelOptions(
      await startFlags(['--pickup', ' 08:30-09:30 ', '--track-for', '0s', '--write-back', 'tracking']),
    ),
    {
      trackFor: '0s',
      // Without --pickup-time-zone the times are this machine's.
      pickup: { readyTime: '08:30', closeTime: '09:30', timeZone: localTimeZone() },
      writeBack: { column: 'tracking' },
    },
  );
  // None given: no key at all, so the schema's defaults (14d, 4h, no pickup, no write-back) stay.
  const none = startOptions(await startFlags([]));
  assert.deepEqual(none, { addressCheck: 'warn', useCorrectedAddress: false, service: 'template' });
  const defaults = BatchOptionsSchema.parse(none);
  assert.deepEqual(
    [defaults.trackFor, defaults.trackEvery, defaults.pickup, defaults.writeBack],
    ['14d', '4h', undefined, undefined],
  );
});

test('bad after-the-label values exit 2 before anything is sent, naming the flag and the rule', async () => {
  const cases: [string[], RegExp][] = [
    [['--track-for', '2w'], /--track-for: expected a duration such as 30s, 5m, 2h or 7d, got "2w"/],
    [['--track-for', '14'], /--track-for: expected a duration/],
    [['--track-for', '366d'], /--track-for: at most 365 days \(365d\), got "366d"/],
    [['--track-every', '500ms'], /--track-every: at least 1s, got "500ms"/],
    [['--track-every', 'often'], /--track-every: expected a duration/],
    [
      ['--pickup', '09:00-09:30'],
      /--pickup "09:00-09:30": close time: .*at least 60 minutes after readyTime/,
    ],
    [['--pickup', '17:00-09:00'], /--pickup "17:00-09:00": close time: .*at least 60 minutes/],
    [['--pickup', '9-17'], /--pickup "9-17": ready time: expected a time of day such as 09:00/],
    [['--pickup', '24:00-25:00'], /--pickup "24:00-25:00": ready time: expected a time of day/],
    [['--pickup', '09:00-17:00@2026-02-30'], /--pickup "09:00-17:00@2026-02-30": date: not a calendar date/],
    [['--pickup', '09:00-17:00@08.12.2026'], /date: expected a date such as 2026-12-08/],
    [['--pickup', '09:00'], /--pickup takes HH:MM-HH:MM or HH:MM-HH:MM@YYYY-MM-DD/],
    [['--pickup', '09:00-17:00@'], /--pickup takes HH:MM-HH:MM/],
    [['--pickup', '09:00-12:00-17:00'], /--pickup takes HH:MM-HH:MM/],
    [['--pickup', '09:00-17:00@2026-12-08@x'], /--pickup takes HH:MM-HH:MM/],
    [
      ['--pickup', '09:00-17:00', '--pickup-time-zone', 'Mars/Olympus'],
      /--pickup-time-zone: "Mars\/Olympus" is not an IANA time zone/,
    ],
    [['--pickup-time-zone', 'UTC'], /--pickup-time-zone UTC applies only with --pickup/],
    [['--write-back', 'tracking; DROP TABLE t'], /--write-back: column must be a plain identifier/],
    [
      ['--write-back', 'tracking', '--write-back-status', 'a b'],
      /--write-back-status: column must be a plain identifier/,
    ],
    [
      ['--write-back-status', 'delivery'],
      /--write-back-status delivery needs --write-back <column>.*Fix: add --write-back <column>/,
    ],
    [
      ['--write-back', 'tracking', '--write-back-status', 'Tracking'],
      /--write-back-status Tracking and --write-back tracking: statusColumn must be another column/,
    ],
    [
      ['--track-for', '0s', '--track-every', '1h'],
      /--track-every 1h applies only with tracking \(--track-for is 0s\)/,
    ],
    [
      ['--track-for', '0s', '--write-back', 'tracking', '--write-back-status', 'delivery'],
      /--write-back-status delivery needs tracking \(--track-for is 0s\)/,
    ],
  ];
  for (const [extra, message] of cases) {
    const argv = [...START, ...extra];
    const r = await cli(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: exit ${r.code}; ${r.err}`);
    assert.match(r.err, message, argv.join(' '));
    // Refused by the flag checks, never by a connection or the files (x.njk does not exist).
    assert.doesNotMatch(r.err, /unreachable|template file/, argv.join(' '));
  }
  const help = await cli(['start', '--help']);
  assert.equal(help.code, 0);
  for (const flag of [
    '--track-for <duration>',
    '--track-every <duration>',
    '--pickup <window>',
    '--write-back <column>',
    '--write-back-status <column>',
  ])
    assert.ok(help.out.includes(flag), `--help documents ${flag}`);
  assert.match(help.out, /--pickup 09:00-17:00@2026-12-08/);
});

test('the flags checked together are BatchInputErrors (exit 2) when called from code too', () => {
  const refused = (f: AfterLabelFlags, message: RegExp) =>
    assert.throws(
      () => afterLabelOptions(f),
      (e: unknown) => e instanceof BatchInputError && e.exitCode === 2 && message.test(e.message),
    );
  refused({ writeBackStatus: 's' }, /needs --write-back/);
  refused({ writeBack: 'c', writeBackStatus: 'C' }, /another column/);
  refused({ trackFor: '0s', trackEvery: '1h' }, /applies only with tracking/);
  refused({ trackFor: '0s', writeBack: 'c', writeBackStatus: 's' }, /needs tracking/);
  // 0s tracking with a pickup or the tracking numbers written back is fine.
  assert.deepEqual(afterLabelOptions({ trackFor: '0s', writeBack: 'c' }), {
    trackFor: '0s',
    writeBack: { column: 'c' },
  });
});

function preview(extra: Partial<BatchPreview> = {}): BatchPreview {
  return {
    totalRows: 2,
    validRows: 2,
    invalidRows: 0,
    previewRows: [],
    additionalRows: 2,
    totalEstimatedCostCents: 4_200,
    currency: 'USD',
    rowsWithWarnings: 0,
    previewHash: 'c'.repeat(64),
    ...extra,
  };
}

const lines = (print: (io: Io) => void): string[] => {
  const c = captured();
  print(c.io);
  return c.text().split('\n');
};

const previewLines = (extra: Partial<BatchPreview>) =>
  lines((io) => printPreview(io, 'batch-x', preview(extra), []));

test('preview: a Pickup line with the date, window and UPS charge, or why UPS gave none', () => {
  const quoted = previewLines({
    pickup: {
      date: '2026-12-08',
      readyTime: '09:00',
      closeTime: '17:00',
      costCents: 745,
      currency: 'USD',
    },
  });
  const at = quoted.indexOf('Total estimate: $42.00 for 2 rows');
  assert.deepEqual(quoted.slice(at, at + 3), [
    'Total estimate: $42.00 for 2 rows',
    'Pickup:         2026-12-08 09:00-17:00, UPS charge $7.45 (not in the total)',
    `Preview hash:   ${'c'.repeat(64)}`,
  ]);
  const foreign = previewLines({
    currency: 'EUR',
    pickup: { date: '2026-12-08', readyTime: '10:00', closeTime: '12:00', costCents: 123_456 },
  });
  assert.ok(
    foreign.includes('Pickup:         2026-12-08 10:00-12:00, UPS charge 1,234.56 EUR (not in the total)'),
    foreign.join('\n'),
  );
  const refused = previewLines({
    pickup: {
      date: '2026-12-08',
      readyTime: '09:00',
      closeTime: '17:00',
      error: 'UPS: pickup not available\u001b[2J at this address',
    },
  });
  assert.ok(
    refused.includes(
      'Pickup:         2026-12-08 09:00-17:00, no charge from UPS: UPS: pickup not available [2J at this address (the pickup is still asked for after shipping)',
    ),
    refused.join('\n'),
  );
  assert.ok(!refused.join('\n').includes('\u001b'), 'no escape sequence from UPS');
  const without = previewLines({});
  assert.ok(!without.some((l) => l.startsWith('Pickup')), 'no pickup asked: no line');
});

function closedStatus(pickup?: PickupStatus): BatchStatus {
  return {
    batchId: 'batch-x',
    name: 'x',
    phase: 'completed',
    mode: 'auto',
    modeLocked: true,
    counts: { ...emptyCounts(), total: 3, shipped: 3 },
    estimatedCostCents: 3_000,
    actualCostCents: 3_000,
    currency: 'USD',
    rejectedMessages: [],
    ...(pickup ? { pickup } : {}),
    updatedAt: '2026-12-08T08:00:00.000Z',
  };
}

test('status: a pickup line with state, PRN, date and window, packages, weight, charge, sharing and error', () => {
  const scheduled = lines((io) =>
    printStatus(
      io,
      closedStatus({
        state: 'scheduled',
        date: '2026-12-08',
        readyTime: '09:00',
        closeTime: '17:00',
        prn: '2929602E9CP',
        quantity: 3,
        weight: '12.5',
        costCents: 745,
        currency: 'USD',
        sharedWith: ['batch-a', 'batch-b'],
      }),
    ),
  );
  assert.ok(
    scheduled.includes(
      '  pickup    scheduled, PRN 2929602E9CP, 2026-12-08 09:00-17:00, 3 packages, 12.5 lbs, $7.45, shared with batch-a, batch-b',
    ),
    scheduled.join('\n'),
  );
  // In the detail lines, before the counts table.
  assert.ok(
    scheduled.indexOf('  phase     completed') < scheduled.findIndex((l) => l.startsWith('  pickup')),
  );
  assert.ok(
    scheduled.findIndex((l) => l.startsWith('  pickup')) < scheduled.findIndex((l) => l.startsWith('total')),
  );

  const failed = lines((io) =>
    printStatus(
      io,
      closedStatus({
        state: 'failed',
        date: '2026-12-08',
        readyTime: '09:00',
        closeTime: '10:00',
        quantity: 1,
        error: 'UPS refused the pickup:\u001b]0;x\u0007 no service',
      }),
    ),
  );
  assert.ok(
    failed.includes(
      '  pickup    failed, 2026-12-08 09:00-10:00, 1 package, UPS refused the pickup: ]0;x  no service',
    ),
    failed.join('\n'),
  );
  assert.ok(!failed.join('\n').includes('\u001b'));

  const pending = lines((io) =>
    printStatus(
      io,
      closedStatus({ state: 'pending', date: '2026-12-09', readyTime: '08:00', closeTime: '12:00' }),
    ),
  );
  assert.ok(pending.includes('  pickup    pending, 2026-12-09 08:00-12:00'), pending.join('\n'));
  const none = lines((io) => printStatus(io, closedStatus()));
  assert.ok(!none.some((l) => l.includes('pickup')), 'no pickup asked: no line');
});
