/**
 * The pre-flight in the CLI and the agent without a stack (issue 24): the `start` flags checked alone and
 * together (exit 2 naming the flag, before any connection), the batch options they become, the preview's
 * address check and rate shopping sections and columns (hostile row data neutralised), the pre-flight
 * progress of `status` and `watch`, and `batch_preview`'s pre-flight arguments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyCounts, type BatchInputArg, type BatchPreview, type BatchStatus } from '../../domain/batch';
import type { AddressCheckSummary, RateShoppingSummary } from '../../domain/preflight';
import { printPreview, printStatus } from '../../client/cli/batch-commands';
import type { Io } from '../../client/cli/io';
import { runCli } from '../../client/cli/main';
import { progressLine } from '../../client/cli/output';
import { preflightOptions, type AddressRow } from '../../client/cli/preflight';
import { BatchInputError } from '../../client/errors';
import { preflightOptionsOf } from '../../agent/checks';
import { ToolError } from '../../agent/errors';

function captured(): { io: Io; text: () => string } {
  let out = '';
  return { io: { out: (t) => (out += t), err: (t) => (out += t), tty: false }, text: () => out };
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t), tty: false });
  return { code, out, err };
}

test('start flags: defaults (warn, template), the options they become, and combinations refused by name', () => {
  assert.deepEqual(preflightOptions({}), {
    addressCheck: 'warn',
    useCorrectedAddress: false,
    service: 'template',
  });
  assert.deepEqual(
    preflightOptions({
      addressCheck: 'require',
      useCorrectedAddress: true,
      service: 'cheapest',
      maxTransitDays: 2,
    }),
    { addressCheck: 'require', useCorrectedAddress: true, service: { cheapest: { maxTransitDays: 2 } } },
  );
  assert.deepEqual(preflightOptions({ addressCheck: 'off', service: 'cheapest' }), {
    addressCheck: 'off',
    useCorrectedAddress: false,
    service: 'cheapest',
  });
  assert.throws(
    () => preflightOptions({ maxTransitDays: 3 }),
    (e: unknown) =>
      e instanceof BatchInputError &&
      e.exitCode === 2 &&
      /--max-transit-days 3 applies only with --service cheapest/.test(e.message),
  );
  assert.throws(
    () => preflightOptions({ addressCheck: 'off', useCorrectedAddress: true }),
    /--use-corrected-address needs an address check/,
  );
});

test('the options typecheck against the batch input schema (the typed client takes them as they are)', () => {
  const input: BatchInputArg = {
    source: { table: 'orders' },
    template: '{}',
    shipper: {
      Name: 'A',
      ShipperNumber: 'A1B2C3',
      Address: {
        AddressLine: ['1 A St'],
        City: 'X',
        StateProvinceCode: 'GA',
        PostalCode: '30301',
        CountryCode: 'US',
      },
    },
    options: { ...preflightOptions({ service: 'cheapest', maxTransitDays: 2 }) },
  };
  assert.deepEqual(input.options?.service, { cheapest: { maxTransitDays: 2 } });
  // @ts-expect-error: not an address check
  const bad: BatchInputArg['options'] = { addressCheck: 'maybe' };
  assert.ok(bad);
});

test('bad pre-flight flags exit 2 before anything is sent, naming the flag; --help documents them', async () => {
  const start = ['start', '--table', 't', '--template', 'x.njk', '--shipper', 'y.json'];
  const cases: [string[], RegExp][] = [
    [
      [...start, '--address-check', 'strict'],
      /--address-check must be one of off, warn, require, got "strict"/,
    ],
    [[...start, '--service', 'fastest'], /--service must be one of template, cheapest, got "fastest"/],
    [
      [...start, '--service', 'cheapest', '--max-transit-days', '0'],
      /--max-transit-days must be between 1 and 30, got 0/,
    ],
    [
      [...start, '--service', 'cheapest', '--max-transit-days', '31'],
      /--max-transit-days must be between 1 and 30/,
    ],
    [
      [...start, '--service', 'cheapest', '--max-transit-days', '2; rm -rf /'],
      /--max-transit-days must be a whole number/,
    ],
    [
      [...start, '--max-transit-days', '2'],
      /--max-transit-days 2 applies only with --service cheapest.*Fix: add --service cheapest/,
    ],
    [
      [...start, '--service', 'template', '--max-transit-days', '2'],
      /--max-transit-days 2 applies only with --service cheapest \(the service is template\)/,
    ],
    [
      [...start, '--address-check', 'off', '--use-corrected-address'],
      /--use-corrected-address needs an address check/,
    ],
  ];
  for (const [argv, message] of cases) {
    const r = await cli(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: exit ${r.code}; ${r.err}`);
    assert.match(r.err, message, argv.join(' '));
  }
  const help = await cli(['start', '--help']);
  assert.equal(help.code, 0);
  for (const flag of [
    '--address-check <check>',
    '--use-corrected-address',
    '--service <service>',
    '--max-transit-days <n>',
  ])
    assert.ok(help.out.includes(flag), `--help documents ${flag}`);
  assert.match(help.out, /default: "warn"/);
  assert.match(help.out, /default: "template"/);
});

const ADDRESS: AddressCheckSummary = {
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
  rows: { corrected: [2], ambiguous: [3], notFound: [4], unchecked: [] },
};

const SHOPPING: RateShoppingSummary = {
  maxTransitDays: 2,
  shopped: 10,
  changed: 4,
  noService: 0,
  notShopped: 0,
  services: { '03': 6, '02': 4 },
  templateCents: 50_000,
  chosenCents: 38_655,
  savingsCents: 11_345,
  currency: 'USD',
  rows: { noService: [], notShopped: [] },
};

function preview(extra: Partial<BatchPreview> = {}): BatchPreview {
  return {
    totalRows: 10,
    validRows: 10,
    invalidRows: 0,
    previewRows: [
      {
        rowNo: 1,
        recipient: 'Michael Davis',
        cityState: 'Portland, OR',
        service: 'UPS Ground',
        estimatedCostCents: 1234,
        warnings: [],
        templateService: 'UPS Next Day Air',
        templateCostCents: 4510,
        address: { outcome: 'valid', residential: true },
      },
      {
        rowNo: 2,
        recipient: 'Ana',
        cityState: 'Atlanta, GA',
        service: 'UPS Ground',
        estimatedCostCents: 1100,
        warnings: ['address: UPS suggests a correction'],
        address: { outcome: 'corrected', residential: true, candidate: '101 ELM ST, ATLANTA, GA 30301-1234' },
      },
    ],
    additionalRows: 8,
    totalEstimatedCostCents: 38_655,
    currency: 'USD',
    rowsWithWarnings: 3,
    addressCheck: ADDRESS,
    rateShopping: SHOPPING,
    previewHash: 'a'.repeat(64),
    ...extra,
  };
}

const ROWS: AddressRow[] = [
  {
    rowNo: 2,
    address: {
      addressLines: ['101 Elm St'],
      city: 'Atlanta',
      state: 'GA',
      postalCode: '30301',
      countryCode: 'US',
    },
    check: {
      outcome: 'corrected',
      classification: 'residential',
      candidates: [
        {
          addressLines: ['101 ELM ST'],
          city: 'ATLANTA',
          state: 'GA',
          postalCode: '30301-1234',
          countryCode: 'US',
        },
      ],
    },
  },
  {
    rowNo: 3,
    address: {
      addressLines: ['102 Elm St'],
      city: 'Atlanta',
      state: 'GA',
      postalCode: '30302',
      countryCode: 'US',
    },
    check: {
      outcome: 'ambiguous',
      candidates: [
        {
          addressLines: ['102 ELM ST', 'APT 1'],
          city: 'ATLANTA',
          state: 'GA',
          postalCode: '30302',
          countryCode: 'US',
        },
        {
          addressLines: ['102 ELM ST', 'APT 2'],
          city: 'ATLANTA',
          state: 'GA',
          postalCode: '30302',
          countryCode: 'US',
        },
      ],
    },
  },
  {
    rowNo: 4,
    // Row data is hostile: no escape sequence reaches the terminal.
    address: {
      addressLines: ['9 Nowhere\u001b[2J Rd'],
      city: 'Atlanta',
      state: 'GA',
      postalCode: '30303',
      countryCode: 'US',
    },
    check: { outcome: 'not_found' },
  },
];

test('preview: address outcomes and template service columns, the address check and rate shopping sections', () => {
  const c = captured();
  printPreview(c.io, 'batch-x', preview(), [], ROWS);
  const text = c.text();
  const lines = text.split('\n');
  assert.match(
    text,
    /Row\s+Recipient\s+City\/State\s+Address\s+Service\s+Estimate\s+Template's service\s+Warnings/,
  );
  assert.match(
    text,
    /\n\s*1\s+Michael Davis\s+Portland, OR\s+valid, residential\s+UPS Ground\s+\$12\.34\s+UPS Next Day Air \$45\.10\n/,
  );
  assert.match(
    text,
    /\n\s*2\s+Ana\s+Atlanta, GA\s+corrected, residential\s+UPS Ground\s+\$11\.00\s+address: UPS suggests a correction\n/,
  );
  assert.ok(
    lines.includes(
      'Address check (warn): 10 checked — 7 valid, 1 corrected, 1 ambiguous, 1 not found, 0 unchecked; 7 residential; 0 invalidated',
    ),
    text,
  );
  const at = lines.indexOf('  corrected (1):');
  assert.deepEqual(lines.slice(at, at + 3), [
    '  corrected (1):',
    '    row 2: 101 Elm St, Atlanta, GA 30301',
    '      UPS: 101 ELM ST, ATLANTA, GA 30301-1234',
  ]);
  assert.ok(
    lines.includes(
      '    row 3: 102 Elm St, Atlanta, GA 30302 — 2 candidates, e.g. 102 ELM ST, APT 1, ATLANTA, GA 30302',
    ),
  );
  assert.ok(lines.includes('  not found (1):'));
  assert.ok(lines.includes('    row 4: 9 Nowhere [2J Rd, Atlanta, GA 30303'));
  assert.ok(!text.includes('\u001b'), 'no escape sequence from row data');
  assert.ok(
    lines.includes(
      "Rate shopping (cheapest within 2 business days): 10 shopped, 4 changed from the template's service",
    ),
    text,
  );
  assert.ok(lines.includes('  services: UPS Ground 6, UPS 2nd Day Air 4'));
  assert.ok(lines.includes("  saving:   $113.45 ($500.00 with the template's services, $386.55 chosen)"));
});

test('preview: without a pre-flight the table is as before; require and applied corrections say so', () => {
  const plain = captured();
  printPreview(
    plain.io,
    'batch-x',
    {
      ...preview(),
      addressCheck: undefined,
      rateShopping: undefined,
      previewRows: preview().previewRows.map(
        ({ address: _a, templateService: _t, templateCostCents: _c, ...r }) => r,
      ),
    },
    [],
  );
  assert.match(plain.text(), /Row\s+Recipient\s+City\/State\s+Service\s+Estimate\s+Warnings/);
  assert.doesNotMatch(plain.text(), /Address check|Rate shopping|Template's service/);

  const required = captured();
  printPreview(
    required.io,
    'batch-x',
    preview({
      validRows: 8,
      invalidRows: 2,
      addressCheck: { ...ADDRESS, mode: 'require', invalidated: 2, correctedApplied: 1 },
      rateShopping: {
        ...SHOPPING,
        maxTransitDays: undefined,
        noService: 1,
        rows: { noService: [7], notShopped: [] },
      },
    }),
    [
      {
        rowNo: 3,
        errors: [
          {
            rowNo: 3,
            path: 'ShipTo.Address',
            rule: 'address_ambiguous',
            code: 'E-3002',
            message: 'UPS Address Validation found 2 possible addresses',
            value: 'x',
          },
        ],
      },
    ],
    [
      {
        ...ROWS[0]!,
        address: { ...ROWS[0]!.address, addressLines: ['1010 ELM ST'] },
        check: { ...ROWS[0]!.check, applied: true, original: ROWS[0]!.address },
      },
    ],
  );
  const t = required.text();
  assert.match(t, /Address check \(require\): .* 2 invalidated; 1 ship UPS's correction/);
  // The request now holds UPS's address: the row's own comes from the outcome's `original`.
  assert.match(t, /row 2: 101 Elm St, Atlanta, GA 30301\n\s+ships UPS's 101 ELM ST, ATLANTA, GA 30301-1234/);
  assert.match(
    t,
    /Rate shopping \(cheapest\): 10 shopped, 4 changed from the template's service, 1 with no service in time \(invalid\)/,
  );
  assert.match(t, /no service in time: rows 7/);
  const dearer = captured();
  printPreview(
    dearer.io,
    'batch-x',
    preview({ rateShopping: { ...SHOPPING, chosenCents: 52_000, savingsCents: -2_000 } }),
    [],
  );
  assert.ok(
    dearer
      .text()
      .split('\n')
      .includes("  costs     $20.00 more ($500.00 with the template's services, $520.00 chosen)"),
    dearer.text(),
  );
  assert.match(t, /row 3: E-3002 ShipTo\.Address: UPS Address Validation found 2 possible addresses/);
});

function previewingStatus(): BatchStatus {
  return {
    batchId: 'batch-x',
    name: 'x',
    phase: 'previewing',
    mode: 'confirm',
    modeLocked: false,
    counts: { ...emptyCounts(), total: 10, invalid: 1, pending: 9 },
    estimatedCostCents: 0,
    actualCostCents: 0,
    currency: 'USD',
    rejectedMessages: [],
    preflight: { addressCheck: { done: 9, total: 9 }, rateShopping: { done: 3, total: 9 } },
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

test('status and watch: the pre-flight progress while previewing', () => {
  const s = previewingStatus();
  const c = captured();
  printStatus(c.io, s);
  assert.ok(
    c.text().split('\n').includes('  preflight address check 9 of 9, rate shopping 3 of 9'),
    c.text(),
  );
  assert.equal(
    progressLine(s, 0),
    'previewing: 10 rows read, 1 invalid, 9 to ship | address check 9 of 9, rate shopping 3 of 9',
  );
  assert.equal(
    progressLine({ ...s, preflight: undefined }, 0),
    'previewing: 10 rows read, 1 invalid, 9 to ship',
  );
  assert.equal(
    progressLine({ ...s, phase: 'awaiting_approval' }, 0),
    'awaiting_approval: 10 rows read, 1 invalid, 9 to ship',
  );
});

test('batch_preview: pre-flight arguments become options; combinations refused naming the argument', () => {
  assert.deepEqual(preflightOptionsOf({}), {});
  assert.deepEqual(
    preflightOptionsOf({
      address_check: 'require',
      use_corrected_address: true,
      service: 'cheapest',
      max_transit_days: 3,
    }),
    { addressCheck: 'require', useCorrectedAddress: true, service: { cheapest: { maxTransitDays: 3 } } },
  );
  assert.deepEqual(preflightOptionsOf({ service: 'cheapest' }), { service: 'cheapest' });
  assert.throws(
    () => preflightOptionsOf({ max_transit_days: 2 }),
    (e: unknown) =>
      e instanceof ToolError && /^max_transit_days: applies only with service "cheapest"/.test(e.message),
  );
  assert.throws(
    () => preflightOptionsOf({ service: 'template', max_transit_days: 2 }),
    /max_transit_days: applies only with service "cheapest" \(service is "template"\)/,
  );
  assert.throws(
    () => preflightOptionsOf({ use_corrected_address: true }),
    /^Error: use_corrected_address: needs an address check|use_corrected_address: needs an address check/,
  );
});
