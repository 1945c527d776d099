import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatTrackingNumber,
  isValidUpsTrackingNumber,
  makeUpsTrackingNumber,
  upsCheckDigit,
} from '../../ups-sandbox/tracking-number';

// Valid numbers: 1Z12345E6605272234 and 1Z999AA10123456784 from UPS samples, the rest from
// jkeen/tracking_number_data (MIT), which real carriers issued.
const VALID = [
  '1Z12345E6605272234',
  '1Z999AA10123456784',
  '1Z5R89390357567127',
  '1Z879E930346834440',
  '1Z410E7W0392751591',
  '1Z8V92A70367203024',
  '1ZXX3150YW44070023',
];

test('upsCheckDigit matches the check digit of known numbers', () => {
  for (const t of VALID) assert.equal(upsCheckDigit(t.slice(2, 17)), Number(t[17]), t);
  assert.equal(upsCheckDigit('999aa1012345678'), 4, 'case-insensitive');
  assert.throws(() => upsCheckDigit('12345'), /15 letters or digits/);
  assert.throws(() => upsCheckDigit('12345E66052722-'), /15 letters or digits/);
});

test('known-valid numbers pass, case-insensitive and ignoring spaces', () => {
  for (const t of VALID) {
    assert.ok(isValidUpsTrackingNumber(t), t);
    assert.ok(isValidUpsTrackingNumber(t.toLowerCase()), `${t} lower case`);
    assert.ok(isValidUpsTrackingNumber(` ${formatTrackingNumber(t)} `), `${t} grouped`);
  }
  assert.ok(isValidUpsTrackingNumber(' 1 Z 8 V 9 2 A 7 0 3 6 7 2 0 3 0 2 4 '));
});

test('the UPS developer-guide test number 1Z12345E0205271688 has a wrong check digit', () => {
  // A well-known quirk: UPS's documented test numbers are accepted by its test API but most do
  // not satisfy the mod-10 check (this one computes to 6, printed 8).
  assert.equal(upsCheckDigit('12345E020527168'), 6);
  assert.equal(isValidUpsTrackingNumber('1Z12345E0205271688'), false);
  assert.equal(isValidUpsTrackingNumber('1Z12345E0205271686'), true);
});

test('changing any single digit makes a valid number fail, except the mod-10 blind spot', () => {
  // UPS doubles even positions without Luhn's digit sum, so a change by ±5 at an even position
  // (2 × 5 = 10) leaves the sum mod 10 unchanged: that is a property of the algorithm, not a bug.
  for (const t of VALID) {
    for (let i = 2; i < t.length; i++) {
      const ch = t[i] ?? '';
      if (!/\d/.test(ch)) continue;
      const evenPosition = i < 17 && (i - 2) % 2 === 1; // 1-based position in the 15-char body
      for (let d = 0; d <= 9; d++) {
        if (String(d) === ch) continue;
        const changed = `${t.slice(0, i)}${d}${t.slice(i + 1)}`;
        const blindSpot = evenPosition && Math.abs(d - Number(ch)) === 5;
        assert.equal(isValidUpsTrackingNumber(changed), blindSpot, `${t} → ${changed}`);
      }
    }
  }
});

test('malformed strings are not valid', () => {
  for (const bad of [
    '',
    '1Z',
    '1Z999AA1012345678', // 17 chars
    '1Z999AA101234567840', // 19 chars
    '2Z999AA10123456784',
    '1Y999AA10123456784',
    '1Z999AA1012345678A', // letter check digit
    '1Z999AA1-123456784',
  ]) {
    assert.equal(isValidUpsTrackingNumber(bad), false, JSON.stringify(bad));
  }
});

test('makeUpsTrackingNumber builds valid, unique numbers for 10,000 package ids', () => {
  const seen = new Set<string>();
  for (let id = 0; id < 10_000; id++) {
    const t = makeUpsTrackingNumber('A1B2C3', '03', id * 997);
    assert.equal(t.length, 18);
    assert.ok(t.startsWith('1ZA1B2C303'), t);
    assert.ok(isValidUpsTrackingNumber(t), t);
    seen.add(t);
  }
  assert.equal(seen.size, 10_000);
});

test('makeUpsTrackingNumber pads, upper-cases and reproduces known numbers', () => {
  assert.equal(makeUpsTrackingNumber('999aa1', '01', 2345678), '1Z999AA10123456784');
  assert.equal(makeUpsTrackingNumber('12345E', '66', 527223), '1Z12345E6605272234');
  assert.equal(makeUpsTrackingNumber('A1B2C3', '03', 0).slice(10, 17), '0000000');
  assert.equal(makeUpsTrackingNumber('A1B2C3', '03', 9_999_999).slice(10, 17), '9999999');
});

test('makeUpsTrackingNumber rejects bad arguments', () => {
  assert.throws(() => makeUpsTrackingNumber('A1B2C', '03', 1), /shipper number/);
  assert.throws(() => makeUpsTrackingNumber('A1B2C3D', '03', 1), /shipper number/);
  assert.throws(() => makeUpsTrackingNumber('A1B-C3', '03', 1), /shipper number/);
  assert.throws(() => makeUpsTrackingNumber('A1B2C3', '3', 1), /service code/);
  for (const id of [-1, 10_000_000, 1.5, Number.NaN]) {
    assert.throws(() => makeUpsTrackingNumber('A1B2C3', '03', id), /package id/, String(id));
  }
});

test('formatTrackingNumber groups as printed on labels', () => {
  assert.equal(formatTrackingNumber('1ZA1B2C30312345678'), '1Z A1B 2C3 03 1234 5678');
  assert.equal(formatTrackingNumber('1z999aa10123456784'), '1Z 999 AA1 01 2345 6784');
  assert.equal(formatTrackingNumber(' 1Z 999AA1 01 2345678 4 '), '1Z 999 AA1 01 2345 6784');
  assert.equal(formatTrackingNumber('1Z 999 AA1 01 2345 6784'), '1Z 999 AA1 01 2345 6784');
  // Not a 1Z number: normalized, left ungrouped.
  assert.equal(formatTrackingNumber('k 150 623 562 0'), 'K1506235620');
});
