/**
 * The pre-flight's pure decisions: how UPS Address Validation's answer becomes a row's outcome (and what the
 * row ships), and which service rate shopping takes (and when none will do).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addressOutcome,
  cheapestService,
  sameAddress,
  ServiceChoiceSchema,
  type PostalAddress,
} from '../../domain/preflight';
import { BatchOptionsSchema } from '../../domain/batch';
import { settledRow } from '../../activities/batch/address-check';
import { chooseService } from '../../activities/batch/rate-shop';
import type { RateQuote } from '../../activities/ups/normalize';
import { shipmentRequest } from '../helpers/ups-sandbox';
import type { ShipmentRequestBody } from '../../domain/shipment-schema';

const asked: PostalAddress = {
  addressLines: ['100 Elm St.', 'Apt 4\\B'],
  city: 'Portland',
  state: 'OR',
  postalCode: '97204',
  countryCode: 'US',
};

test('an address UPS echoes in capitals with a ZIP+4 is the same address: valid', () => {
  const echoed = {
    ...asked,
    addressLines: ['100 ELM ST', 'APT 4 B'],
    city: 'PORTLAND',
    postalCode: '97204-1234',
  };
  assert.ok(sameAddress(asked, echoed));
  assert.deepEqual(
    addressOutcome(asked, { ambiguous: false, classification: 'residential', candidates: [echoed] }),
    {
      outcome: 'valid',
      classification: 'residential',
    },
  );
});

test('one candidate that differs is corrected; several, or UPS saying ambiguous, are ambiguous; none is not found', () => {
  const other = { ...asked, addressLines: ['101 ELM ST'] };
  assert.equal(
    addressOutcome(asked, { ambiguous: false, classification: 'unknown', candidates: [other] }).outcome,
    'corrected',
  );
  assert.equal(
    addressOutcome(asked, { ambiguous: false, classification: 'unknown', candidates: [other, asked] })
      .outcome,
    'ambiguous',
  );
  assert.equal(
    addressOutcome(asked, { ambiguous: true, classification: 'unknown', candidates: [other] }).outcome,
    'ambiguous',
  );
  assert.equal(
    addressOutcome(asked, { ambiguous: false, classification: 'unknown', candidates: [] }).outcome,
    'not_found',
  );
  const many = Array.from({ length: 40 }, (_, i) => ({ ...asked, addressLines: [`${i} ELM ST`] }));
  assert.equal(
    addressOutcome(asked, { ambiguous: true, classification: 'unknown', candidates: many }).candidates!
      .length,
    5,
  );
  for (const field of ['city', 'state', 'postalCode', 'countryCode'] as const)
    assert.ok(!sameAddress(asked, { ...asked, [field]: 'X' }), `${field} counts`);
});

const request = shipmentRequest('SBtest-1');

test('settledRow: classification goes into the request; require makes unplaceable rows invalid; a bad candidate is not applied', () => {
  const warn = { addressCheck: 'warn' as const, useCorrectedAddress: false };
  const require = { addressCheck: 'require' as const, useCorrectedAddress: true };
  const residential = settledRow(1, request, asked, warn, {
    outcome: 'valid',
    classification: 'residential',
  });
  assert.equal(
    (
      (residential.request as ShipmentRequestBody).ShipmentRequest.Shipment.ShipTo.Address as Record<
        string,
        unknown
      >
    ).ResidentialAddressIndicator,
    '',
  );
  assert.equal(
    settledRow(1, request, asked, warn, { outcome: 'valid', classification: 'commercial' }).request,
    undefined,
  );
  assert.equal(settledRow(1, request, asked, warn, { outcome: 'not_found' }).errors, undefined);
  assert.equal(settledRow(1, request, asked, require, { outcome: 'not_found' }).errors![0]!.code, 'E-3001');
  assert.equal(
    settledRow(1, request, asked, require, { outcome: 'ambiguous', candidates: [asked, asked] }).errors![0]!
      .code,
    'E-3002',
  );
  const candidate = { ...asked, addressLines: ['101 ELM ST'] };
  const applied = settledRow(1, request, asked, require, {
    outcome: 'corrected',
    classification: 'unknown',
    candidates: [candidate],
  });
  assert.equal(applied.outcome.applied, true);
  assert.deepEqual(
    (applied.request as ShipmentRequestBody).ShipmentRequest.Shipment.ShipTo.Address.AddressLine,
    ['101 ELM ST'],
  );
  // UPS's answer is input too: a candidate line longer than a request may hold is not applied.
  const hostile = { ...asked, addressLines: ['9'.repeat(400)] };
  const refused = settledRow(1, request, asked, require, {
    outcome: 'corrected',
    classification: 'unknown',
    candidates: [hostile],
  });
  assert.ok(!refused.outcome.applied);
  assert.equal(refused.request, undefined);
});

const quote = (serviceCode: string, cents: number, days?: number): RateQuote => ({
  serviceCode,
  totalCents: cents,
  publishedCents: cents,
  currency: 'USD',
  ...(days !== undefined ? { businessDaysInTransit: days } : {}),
  warnings: [],
});

test('cheapestService: the lowest price within the limit; without days a quote cannot promise; ties are stable', () => {
  const quotes = [
    { serviceCode: '03', cents: 1000, currency: 'USD', days: 4 },
    { serviceCode: '02', cents: 2000, currency: 'USD', days: 2 },
    { serviceCode: '13', cents: 2000, currency: 'USD', days: 1 },
    { serviceCode: '12', cents: 1500, currency: 'USD' },
  ];
  assert.equal(cheapestService(quotes, undefined)!.serviceCode, '03');
  assert.equal(cheapestService(quotes, 3)!.serviceCode, '13', 'tie on price: the faster');
  assert.equal(cheapestService(quotes, 0), undefined);
});

test('chooseService: the request takes the chosen code; no service within the limit is an E-3003 naming the fastest', () => {
  const overnight = shipmentRequest('SBtest-1', { service: '01' });
  const ground = chooseService(
    7,
    overnight,
    [quote('01', 5000, 1), quote('03', 1200, 3), quote('ZZ', 1, 1)],
    undefined,
  );
  assert.equal(ground.outcome.code, '03', 'a service shipbatch does not know is never chosen');
  assert.equal((ground.request as ShipmentRequestBody).ShipmentRequest.Shipment.Service.Code, '03');
  assert.deepEqual(ground.estimate, { cents: 1200, currency: 'USD', warnings: [] });
  const none = chooseService(7, request, [quote('03', 1200, 3), quote('02', 2500, 2)], 1);
  assert.equal(none.errors![0]!.code, 'E-3003');
  assert.equal(
    none.errors![0]!.message,
    'no UPS service arrives within 1 business days (fastest: UPS 2nd Day Air, 2 days)',
  );
  assert.equal(none.request, undefined);
});

test('the options: defaults change nothing; bad values are refused with the field named', () => {
  const defaults = BatchOptionsSchema.parse({});
  assert.equal(defaults.addressCheck, 'off');
  assert.equal(defaults.service, 'template');
  assert.equal(defaults.useCorrectedAddress, false);
  assert.ok(ServiceChoiceSchema.safeParse({ cheapest: { maxTransitDays: 2 } }).success);
  for (const bad of [
    'fastest',
    { cheapest: { maxTransitDays: 0 } },
    { cheapest: { maxTransitDays: 31 } },
    { cheapest: {}, x: 1 },
  ])
    assert.ok(!ServiceChoiceSchema.safeParse(bad).success, JSON.stringify(bad));
  const r = BatchOptionsSchema.safeParse({ addressCheck: 'strict' });
  assert.ok(!r.success);
  assert.match(r.error.issues[0]!.message, /addressCheck must be "off", "warn" or "require"/);
});
