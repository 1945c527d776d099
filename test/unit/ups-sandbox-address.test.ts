/**
 * The sandbox's validate_address (UPS Address Validation - Street Level, as the real tool calls it:
 * version 1, at most 3 candidates): every outcome — valid, corrected (one candidate that differs),
 * ambiguous, no candidates — from the knob `addressCandidates` and the rule for a street without a
 * house number; knob changes picked up by a running server; hostile arguments. Through the in-process
 * MCP server, as a client sees it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { normalizeAddressValidation } from '../../activities/ups/normalize';
import { readCallLog } from '../../ups-sandbox/call-log';
import { KnobSource, parseKnobs } from '../../ups-sandbox/knobs';
import { inProcessSandbox } from '../helpers/ups-sandbox';

type Obj = Record<string, unknown>;
const TOOL = 'validate_address';
const PREFIX = `Error executing tool ${TOOL}: `;
const SUCCESS = { ResponseStatus: { Code: '1', Description: 'Success' } };
const UNKNOWN = { Code: '0', Description: 'Unknown' };
const COMMERCIAL = { Code: '1', Description: 'Commercial' };
const RESIDENTIAL = { Code: '2', Description: 'Residential' };

/** The in-process sandbox, calling validate_address. */
async function sandbox(t: TestContext, knobs: Obj = {}) {
  const sbx = await inProcessSandbox(t, knobs);
  return {
    dir: sbx.dir,
    raw: (args: unknown) => sbx.call(TOOL, args),
    /** The XAVResponse of a successful call. */
    xav: async (args: Obj): Promise<Obj> => {
      const r = await sbx.call(TOOL, args);
      assert.notEqual(r.isError, true, textOf(r).slice(0, 300));
      // structuredContent and the JSON text are the same body.
      assert.deepEqual(JSON.parse(textOf(r)), r.structuredContent);
      return (r.structuredContent as { XAVResponse: Obj }).XAVResponse;
    },
    setKnobs: (k: Obj) => sbx.setKnobs(k),
  };
}

const textOf = (r: CallToolResult): string =>
  r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

/** A ShipTo in Philadelphia, as the arguments of validate_address. */
function address(over: Obj = {}): Obj {
  return {
    addressLine1: '3223 Cedar Ln',
    politicalDivision1: 'PA',
    politicalDivision2: 'Philadelphia',
    zipPrimary: '19103',
    countryCode: 'US',
    ...over,
  };
}

/** 1000 + zip % 9000: the ZIP+4 extension the sandbox gives an address that has none. */
const PLUS4 = String(1000 + (19103 % 9000));

/** A Philadelphia candidate as UPS writes it. */
function candidate(lines: string | string[], classification: Obj, over: Obj = {}): Obj {
  return {
    AddressClassification: classification,
    AddressKeyFormat: {
      AddressLine: lines,
      PoliticalDivision2: 'PHILADELPHIA',
      PoliticalDivision1: 'PA',
      PostcodePrimaryLow: '19103',
      PostcodeExtendedLow: PLUS4,
      Region: `PHILADELPHIA PA 19103-${PLUS4}`,
      CountryCode: 'US',
      ...over,
    },
  };
}

test('valid: the address echoed as UPS writes it (version 1: one candidate is an object, one line a string)', async (t) => {
  const s = await sandbox(t);
  assert.deepEqual(await s.xav(address()), {
    Response: SUCCESS,
    ValidAddressIndicator: '',
    AddressClassification: RESIDENTIAL,
    Candidate: candidate('3223 CEDAR LN', RESIDENTIAL),
  });
  // Two lines are a list; business words make it commercial; a given ZIP+4 extension is kept.
  assert.deepEqual(await s.xav(address({ addressLine2: 'Suite 500', zipExtended: '4321' })), {
    Response: SUCCESS,
    ValidAddressIndicator: '',
    AddressClassification: COMMERCIAL,
    Candidate: candidate(['3223 CEDAR LN', 'SUITE 500'], COMMERCIAL, {
      PostcodeExtendedLow: '4321',
      Region: 'PHILADELPHIA PA 19103-4321',
    }),
  });
  // What the client reads from it.
  assert.deepEqual(normalizeAddressValidation({ XAVResponse: await s.xav(address()) }), {
    valid: true,
    ambiguous: false,
    classification: 'residential',
    candidates: [
      {
        addressLines: ['3223 CEDAR LN'],
        city: 'PHILADELPHIA',
        state: 'PA',
        postalCode: `19103-${PLUS4}`,
        countryCode: 'US',
      },
    ],
  });
});

test('no candidates: a US postal code that is not a ZIP, rejectPostalCodes (which wins over addressCandidates)', async (t) => {
  const none = { Response: SUCCESS, NoCandidatesIndicator: '', AddressClassification: UNKNOWN };
  const s = await sandbox(t, {
    rejectPostalCodes: ['19103'],
    addressCandidates: {
      '19103': [{ addressLines: ['1 Market St'], city: 'Philadelphia', state: 'PA', postalCode: '19103' }],
    },
  });
  assert.deepEqual(await s.xav(address()), none);
  for (const zipPrimary of ['1910', '19103-1234', 'ABCDE', '', ' ']) {
    assert.deepEqual(await s.xav(address({ zipPrimary })), none, zipPrimary);
  }
  const read = normalizeAddressValidation({ XAVResponse: await s.xav(address()) });
  assert.deepEqual(read, { valid: false, ambiguous: false, classification: 'unknown', candidates: [] });
});

test('addressCandidates: none, one (a corrected address), several (ambiguous), more than UPS returns', async (t) => {
  const s = await sandbox(t, {
    addressCandidates: {
      // no such address
      '19103': [],
      // one candidate that differs from the input: UPS's correction
      '19104': [
        {
          addressLines: ['3223 Cedar Lane'],
          city: 'Philadelphia',
          state: 'pa',
          postalCode: '19104-2817',
          classification: 'commercial',
        },
      ],
      // two: ambiguous
      '19106': [
        { addressLines: ['12 N 3rd St', 'Apt 2'], city: 'Philadelphia', state: 'PA', postalCode: '19106' },
        { addressLines: ['12 S 3rd St'], city: 'Philadelphia', state: 'PA', postalCode: '19106-1001' },
      ],
      // five: the real tool asks for at most 3
      '19107': [1, 2, 3, 4, 5].map((n) => ({
        addressLines: [`${n} Arch St`],
        city: 'Philadelphia',
        state: 'PA',
        postalCode: '19107',
      })),
    },
  });
  assert.deepEqual(await s.xav(address()), {
    Response: SUCCESS,
    NoCandidatesIndicator: '',
    AddressClassification: UNKNOWN,
  });

  const corrected = await s.xav(address({ zipPrimary: '19104' }));
  assert.deepEqual(corrected, {
    Response: SUCCESS,
    ValidAddressIndicator: '',
    AddressClassification: COMMERCIAL,
    Candidate: {
      AddressClassification: COMMERCIAL,
      AddressKeyFormat: {
        AddressLine: '3223 CEDAR LANE',
        PoliticalDivision2: 'PHILADELPHIA',
        PoliticalDivision1: 'PA',
        PostcodePrimaryLow: '19104',
        PostcodeExtendedLow: '2817',
        Region: 'PHILADELPHIA PA 19104-2817',
        CountryCode: 'US',
      },
    },
  });
  const read = normalizeAddressValidation({ XAVResponse: corrected });
  assert.deepEqual([read.valid, read.ambiguous, read.classification], [true, false, 'commercial']);
  assert.deepEqual(read.candidates[0]?.addressLines, ['3223 CEDAR LANE']);

  const ambiguous = await s.xav(address({ zipPrimary: '19106' }));
  assert.deepEqual(ambiguous, {
    Response: SUCCESS,
    AmbiguousAddressIndicator: '',
    AddressClassification: UNKNOWN,
    Candidate: [
      {
        AddressClassification: RESIDENTIAL,
        AddressKeyFormat: {
          AddressLine: ['12 N 3RD ST', 'APT 2'],
          PoliticalDivision2: 'PHILADELPHIA',
          PoliticalDivision1: 'PA',
          PostcodePrimaryLow: '19106',
          Region: 'PHILADELPHIA PA 19106',
          CountryCode: 'US',
        },
      },
      {
        AddressClassification: RESIDENTIAL,
        AddressKeyFormat: {
          AddressLine: '12 S 3RD ST',
          PoliticalDivision2: 'PHILADELPHIA',
          PoliticalDivision1: 'PA',
          PostcodePrimaryLow: '19106',
          PostcodeExtendedLow: '1001',
          Region: 'PHILADELPHIA PA 19106-1001',
          CountryCode: 'US',
        },
      },
    ],
  });
  const several = normalizeAddressValidation({ XAVResponse: ambiguous });
  assert.deepEqual(
    [several.valid, several.ambiguous, several.classification, several.candidates.map((c) => c.postalCode)],
    [false, true, 'unknown', ['19106', '19106-1001']],
  );

  const capped = await s.xav(address({ zipPrimary: '19107' }));
  assert.equal(capped.AmbiguousAddressIndicator, '');
  assert.deepEqual(
    (capped.Candidate as { AddressKeyFormat: { AddressLine: string } }[]).map(
      (c) => c.AddressKeyFormat.AddressLine,
    ),
    ['1 ARCH ST', '2 ARCH ST', '3 ARCH ST'],
  );

  // The knob is keyed by the call's zipPrimary alone; its candidates carry the request's country.
  const pr = await s.xav(address({ zipPrimary: '19104', countryCode: 'PR' }));
  assert.equal((pr.Candidate as { AddressKeyFormat: Obj }).AddressKeyFormat.CountryCode, 'PR');
  // Other ZIPs answer as without the knob.
  assert.equal((await s.xav(address({ zipPrimary: '19105' }))).ValidAddressIndicator, '');
});

test('knob changes are picked up by the running server (knobs file re-read)', async (t) => {
  const s = await sandbox(t);
  const outcome = async () => {
    const x = await s.xav(address());
    return ['ValidAddressIndicator', 'AmbiguousAddressIndicator', 'NoCandidatesIndicator'].filter(
      (k) => k in x,
    );
  };
  assert.deepEqual(await outcome(), ['ValidAddressIndicator']);
  const twoOnMarket = ['1 Market St', '2 Market St'].map((line) => ({
    addressLines: [line],
    city: 'Philadelphia',
    state: 'PA',
    postalCode: '19103',
  }));
  s.setKnobs({ addressCandidates: { '19103': twoOnMarket } });
  assert.deepEqual(await outcome(), ['AmbiguousAddressIndicator']);
  s.setKnobs({ addressCandidates: { '19103': [] } });
  assert.deepEqual(await outcome(), ['NoCandidatesIndicator']);
  s.setKnobs({ addressCandidates: { '19103': twoOnMarket.slice(1) } });
  const x = await s.xav(address());
  assert.equal(x.ValidAddressIndicator, '');
  assert.equal((x.Candidate as { AddressKeyFormat: Obj }).AddressKeyFormat.AddressLine, '2 MARKET ST');
  s.setKnobs({});
  assert.deepEqual(await outcome(), ['ValidAddressIndicator']);
  assert.deepEqual((await s.xav(address())).Candidate, candidate('3223 CEDAR LN', RESIDENTIAL));
});

test('a street without a house number is ambiguous: two house-number ranges in the same city, state and ZIP', async (t) => {
  const s = await sandbox(t);
  assert.deepEqual(await s.xav(address({ addressLine1: '  Cedar   Ln ' })), {
    Response: SUCCESS,
    AmbiguousAddressIndicator: '',
    AddressClassification: UNKNOWN,
    Candidate: [candidate('100-199 CEDAR LN', RESIDENTIAL), candidate('200-299 CEDAR LN', RESIDENTIAL)],
  });
  // The second line stays with each range; classification per candidate.
  const withSuite = await s.xav(address({ addressLine1: 'Market St', addressLine2: 'Suite 5' }));
  assert.deepEqual(withSuite.Candidate, [
    candidate(['100-199 MARKET ST', 'SUITE 5'], COMMERCIAL),
    candidate(['200-299 MARKET ST', 'SUITE 5'], COMMERCIAL),
  ]);
  const read = normalizeAddressValidation({ XAVResponse: withSuite });
  assert.deepEqual([read.valid, read.ambiguous, read.candidates.length], [false, true, 2]);
  // Any script: letters without digits is a street name alone; digits of any script are a number.
  const german = await s.xav(address({ addressLine1: 'Hauptstraße' }));
  assert.deepEqual(
    (german.Candidate as { AddressKeyFormat: Obj }[]).map((c) => c.AddressKeyFormat.AddressLine),
    ['100-199 HAUPTSTRASSE', '200-299 HAUPTSTRASSE'],
  );
  for (const addressLine1 of ['One Main St 1', 'PO Box 12', 'Apt 4, Main St', '١٢ Main St', '12']) {
    assert.equal((await s.xav(address({ addressLine1 }))).ValidAddressIndicator, '', addressLine1);
  }
  // A digit only in the second line does not make a house number.
  assert.equal(
    (await s.xav(address({ addressLine1: 'Main St', addressLine2: 'Apt 4' }))).AmbiguousAddressIndicator,
    '',
  );
  // XAV's street level covers the US and Puerto Rico; elsewhere the sandbox answers as before.
  assert.equal(
    (await s.xav(address({ addressLine1: 'Calle Luna', countryCode: 'PR' }))).AmbiguousAddressIndicator,
    '',
  );
  const uk = await s.xav(
    address({ addressLine1: 'Rose Cottage', zipPrimary: 'SW1A 1AA', countryCode: 'GB' }),
  );
  assert.equal(uk.ValidAddressIndicator, '');
  // A postal code that is not a ZIP gets no invented ZIP+4.
  assert.deepEqual((uk.Candidate as { AddressKeyFormat: Obj }).AddressKeyFormat, {
    AddressLine: 'ROSE COTTAGE',
    PoliticalDivision2: 'PHILADELPHIA',
    PoliticalDivision1: 'PA',
    PostcodePrimaryLow: 'SW1A 1AA',
    Region: 'PHILADELPHIA PA SW1A 1AA',
    CountryCode: 'GB',
  });
  // The knob decides for its ZIPs, also for a street without a number.
  s.setKnobs({
    addressCandidates: {
      '19103': [{ addressLines: ['100 Cedar Ln'], city: 'Philadelphia', state: 'PA', postalCode: '19103' }],
    },
  });
  assert.equal((await s.xav(address({ addressLine1: 'Cedar Ln' }))).ValidAddressIndicator, '');
});

test('hostile arguments: huge and odd text, prototype names as ZIPs, wrong or missing arguments (pydantic)', async (t) => {
  const s = await sandbox(t, {
    addressCandidates: {
      '19104': [{ addressLines: ['1 Market St'], city: 'Philadelphia', state: 'PA', postalCode: '19104' }],
    },
  });
  // A million characters: answered, in time, without a crash.
  const started = Date.now();
  const huge = await s.xav(address({ addressLine1: 'A'.repeat(1_000_000) }));
  assert.equal(huge.AmbiguousAddressIndicator, '');
  const lines = (huge.Candidate as { AddressKeyFormat: { AddressLine: string } }[]).map(
    (c) => c.AddressKeyFormat.AddressLine,
  );
  assert.deepEqual(
    lines.map((l) => l.length),
    [1_000_008, 1_000_008],
  );
  assert.equal(
    (await s.xav(address({ addressLine1: `1 ${'B '.repeat(500_000)}` }))).ValidAddressIndicator,
    '',
  );
  assert.deepEqual(await s.xav(address({ zipPrimary: '1'.repeat(100_000) })), {
    Response: SUCCESS,
    NoCandidatesIndicator: '',
    AddressClassification: UNKNOWN,
  });
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);

  // Unicode, control characters, quotes and lone surrogates are echoed (upper case), not interpreted.
  const odd = '12 Zoë "Straße" \u0000\t\n🚚 \ud800 <b>${x}</b>';
  const echoed = await s.xav(address({ addressLine1: odd, politicalDivision2: 'São Paulo' }));
  const key = (echoed.Candidate as { AddressKeyFormat: Obj }).AddressKeyFormat;
  assert.equal(key.AddressLine, odd.toUpperCase());
  assert.equal(key.PoliticalDivision2, 'SÃO PAULO');

  // Only the knob's own keys count: Object.prototype's names are not ZIPs with candidates.
  for (const zipPrimary of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    const x = await s.xav(address({ zipPrimary, countryCode: 'GB' }));
    assert.equal(x.ValidAddressIndicator, '', zipPrimary);
    assert.equal(
      (x.Candidate as { AddressKeyFormat: Obj }).AddressKeyFormat.AddressLine,
      '3223 CEDAR LN',
      zipPrimary,
    );
  }
  // The knob's ZIP matches exactly (trimmed), not as a prefix.
  assert.equal(
    ((await s.xav(address({ zipPrimary: ' 19104 ' }))).Candidate as { AddressKeyFormat: Obj })
      .AddressKeyFormat.AddressLine,
    '1 MARKET ST',
  );

  // Wrong and missing arguments: the real tool's pydantic errors, unchanged.
  const failure = async (args: unknown): Promise<string> => {
    const r = await s.raw(args);
    assert.equal(r.isError, true);
    const t = textOf(r);
    assert.ok(t.startsWith(PREFIX), t.slice(0, 200));
    return t.slice(PREFIX.length);
  };
  const missing = (field: string, input: string) =>
    `${field}\n  Field required [type=missing, input_value=${input}, input_type=dict]\n` +
    '    For further information visit https://errors.pydantic.dev/2.14/v/missing';
  const given = "{'addressLine1': '1 Main St', 'countryCode': 'US'}";
  assert.equal(
    await failure({ addressLine1: '1 Main St', countryCode: 'US' }),
    '3 validation errors for validate_addressArguments\n' +
      ['politicalDivision1', 'politicalDivision2', 'zipPrimary'].map((f) => missing(f, given)).join('\n'),
  );
  assert.equal(
    await failure({}),
    '5 validation errors for validate_addressArguments\n' +
      ['addressLine1', 'politicalDivision1', 'politicalDivision2', 'zipPrimary', 'countryCode']
        .map((f) => missing(f, '{}'))
        .join('\n'),
  );
  assert.equal(
    await failure(address({ addressLine1: 5, zipPrimary: 19104 })),
    '2 validation errors for validate_addressArguments\n' +
      'addressLine1\n  Input should be a valid string [type=string_type, input_value=5, input_type=int]\n' +
      '    For further information visit https://errors.pydantic.dev/2.14/v/string_type\n' +
      'zipPrimary\n  Input should be a valid string [type=string_type, input_value=19104, input_type=int]\n' +
      '    For further information visit https://errors.pydantic.dev/2.14/v/string_type',
  );
  assert.match(
    await failure(address({ addressLine1: null })),
    /^1 validation error for validate_addressArguments\naddressLine1\n {2}Input should be a valid string \[type=string_type, input_value=None, input_type=NoneType\]/,
  );
  assert.match(
    await failure(address({ zipPrimary: ['19104'] })),
    /zipPrimary\n {2}Input should be a valid string \[type=string_type, input_value=\['19104'\], input_type=list\]/,
  );

  // Every call is in the call log, row reference from trans_id.
  await s.xav(address({ trans_id: 'row-7' }));
  const logged = readCallLog(s.dir).filter((c) => c.tool === TOOL);
  assert.ok(logged.some((c) => c.reference === 'row-7' && c.outcome === 'ok'));
  assert.ok(logged.some((c) => c.outcome === 'error'));
});

test('addressCandidates knob: strict format, errors name the field; a bad knobs file keeps the knobs in force', (t) => {
  const ok = {
    '19103': [
      {
        addressLines: ['1 Market St'],
        city: 'Philadelphia',
        state: 'PA',
        postalCode: '19103-1234',
        classification: 'commercial',
      },
    ],
    '10001': [],
  };
  assert.deepEqual(parseKnobs('inline', JSON.stringify({ addressCandidates: ok })), {
    addressCandidates: ok,
  });
  const one = ok['19103'][0]!;
  const bad: [unknown, RegExp][] = [
    [{ '1910': [] }, /addressCandidates\.1910: not a 5-digit ZIP/],
    [{ '19103-1234': [] }, /addressCandidates\.19103-1234: not a 5-digit ZIP/],
    [
      { '19103': [{ ...one, postalCode: '1910' }] },
      /addressCandidates\.19103\.0\.postalCode: a 5-digit ZIP or ZIP\+4/,
    ],
    [{ '19103': [{ ...one, country: 'US' }] }, /addressCandidates\.19103\.0: .*country/],
    [{ '19103': [{ ...one, addressLines: [] }] }, /addressCandidates\.19103\.0\.addressLines/],
    [{ '19103': [{ ...one, addressLines: ['a', 'b', 'c', 'd'] }] }, /addressLines/],
    [{ '19103': [{ ...one, addressLines: ['x'.repeat(101)] }] }, /addressLines\.0/],
    [{ '19103': [{ ...one, city: ' ' }] }, /addressCandidates\.19103\.0\.city/],
    [{ '19103': [{ ...one, classification: 'unknown' }] }, /classification/],
    [{ '19103': one }, /addressCandidates\.19103/],
    [[], /addressCandidates/],
  ];
  for (const [addressCandidates, why] of bad) {
    assert.throws(
      () => parseKnobs('inline', JSON.stringify({ addressCandidates })),
      why,
      JSON.stringify(addressCandidates),
    );
  }

  const warnings: string[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-address-knobs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'knobs.json');
  writeFileSync(file, JSON.stringify({ addressCandidates: ok }));
  const source = new KnobSource({ UPS_SANDBOX_KNOBS_FILE: file }, (m) => warnings.push(m));
  assert.deepEqual(source.current().addressCandidates['10001'], []);
  writeFileSync(file, JSON.stringify({ addressCandidates: { '19103': [{ ...one, postalCode: 'x' }] } }));
  assert.deepEqual(source.current().addressCandidates['10001'], []);
  assert.match(warnings.join('\n'), /ignoring knobs file: .*postalCode/);
});
