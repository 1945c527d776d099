import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  convertWeight,
  defaultValue,
  formatUsZip,
  lookupServiceCode,
  roundWeight,
  splitName,
  toUpsDate,
  toUpsPhone,
  truncateAddress,
  FilterError,
} from '../../inputs/template/filters';

test('truncate_address cuts at a word boundary and hard-cuts one long word', () => {
  assert.equal(truncateAddress('123 Main Street', 35), '123 Main Street');
  assert.equal(
    truncateAddress('1234 Extraordinary Boulevard Northeast Apt 5', 35),
    '1234 Extraordinary Boulevard',
  );
  assert.equal(truncateAddress('A'.repeat(40), 35), 'A'.repeat(35));
  assert.equal(truncateAddress('hello world', 5), 'hello');
  assert.equal(truncateAddress(null), '');
});

test('format_us_zip keeps digits: 5 as is, >=9 ZIP+4, 6-8 first 5, <5 right-padded', () => {
  assert.equal(formatUsZip('90210'), '90210');
  assert.equal(formatUsZip('902101234'), '90210-1234');
  assert.equal(formatUsZip('90210-1234'), '90210-1234');
  assert.equal(formatUsZip('9021012345'), '90210-1234');
  assert.equal(formatUsZip('902101'), '90210');
  assert.equal(formatUsZip('9021'), '90210');
  assert.equal(formatUsZip(2108), '21080');
});

test('round_weight never below 0.1', () => {
  assert.equal(roundWeight(2.345), 2.3);
  assert.equal(roundWeight('2.35'), 2.4);
  assert.equal(roundWeight(0.01), 0.1);
  assert.equal(roundWeight(0), 0.1);
  assert.equal(roundWeight(1.234, 2), 1.23);
  assert.throws(() => roundWeight('abc'), FilterError);
});

test('round_weight: decimal text only, never negative, 0-6 decimals', () => {
  assert.throws(() => roundWeight('0x96'), /not a decimal number: "0x96"/);
  assert.throws(() => roundWeight('1e3'), /not a decimal number/);
  assert.throws(() => roundWeight('Infinity'), /not a decimal number/);
  assert.throws(() => roundWeight(''), /not a decimal number/);
  assert.throws(() => roundWeight([2]), /not a decimal number/);
  assert.throws(() => roundWeight('-40'), /cannot be negative/);
  assert.throws(() => roundWeight(-0.5), /cannot be negative/);
  assert.throws(() => roundWeight(400, 400), /decimals must be a whole number from 0 to 6/);
  assert.throws(() => roundWeight(4, 1.5), /decimals must be a whole number/);
  assert.equal(roundWeight(' 2.35 '), 2.4);
  assert.equal(roundWeight('.5'), 0.5);
  assert.equal(roundWeight(2.345, '2'), 2.35);
});

test('convert_weight: own unit names only, no negative weights', () => {
  assert.throws(() => convertWeight(10, 'constructor', 'lb'), /unknown unit "constructor"/);
  assert.throws(() => convertWeight(10, 'oz', '__proto__'), /unknown unit "__proto__"/);
  assert.throws(() => convertWeight(10, 'toString', 'lb'), /unknown unit "toString"/);
  assert.throws(() => convertWeight('-1', 'oz', 'lb'), /cannot be negative/);
  assert.throws(() => convertWeight('0x10', 'oz', 'lb'), /not a decimal number/);
  assert.equal(lookupServiceCode('__proto__'), '__proto__');
  assert.equal(lookupServiceCode('constructor'), 'constructor');
});

test('convert_weight g/kg/oz/lb(s); unknown unit is an error', () => {
  assert.equal(convertWeight(16, 'oz', 'lb'), 1);
  assert.equal(convertWeight(1000, 'g', 'kg'), 1);
  assert.ok(Math.abs(convertWeight(1, 'kg', 'lbs') - 2.20462) < 1e-4);
  assert.throws(() => convertWeight(1, 'stone', 'kg'), /unknown unit "stone"/);
  assert.throws(() => convertWeight(1, 'kg', 'ton'), /unknown unit "ton"/);
});

test('lookup_service_code aliases and names; unknown unchanged', () => {
  assert.equal(lookupServiceCode('ground'), '03');
  assert.equal(lookupServiceCode('Next Day Air'), '01');
  assert.equal(lookupServiceCode('overnight'), '01');
  assert.equal(lookupServiceCode('2nd Day Air'), '02');
  assert.equal(lookupServiceCode('3 day select'), '12');
  assert.equal(lookupServiceCode('saver'), '13');
  assert.equal(lookupServiceCode('UPS Ground'), '03');
  assert.equal(lookupServiceCode('03'), '03');
  assert.equal(lookupServiceCode('teleport'), 'teleport');
});

test('to_ups_date → YYYYMMDD', () => {
  assert.equal(toUpsDate('2026-11-24'), '20261124');
  assert.equal(toUpsDate('11/4/2026'), '20261104');
  assert.equal(toUpsDate('20261124'), '20261124');
  assert.equal(toUpsDate(new Date(Date.UTC(2026, 0, 2))), '20260102');
  assert.throws(() => toUpsDate('tomorrow'), FilterError);
});

test('to_ups_phone → 10 digits, drops a leading 1 from 11 digits, else error', () => {
  assert.equal(toUpsPhone('(512) 555-0100'), '5125550100');
  assert.equal(toUpsPhone('+1 512 555 0100'), '5125550100');
  assert.throws(() => toUpsPhone('25125550100'), /not a 10-digit/);
  assert.throws(() => toUpsPhone('555-0100'), /not a 10-digit/);
});

test('default_value for null, blank, NaN', () => {
  assert.equal(defaultValue(null, 'x'), 'x');
  assert.equal(defaultValue(undefined, 'x'), 'x');
  assert.equal(defaultValue('  ', 'x'), 'x');
  assert.equal(defaultValue(Number.NaN, 'x'), 'x');
  assert.equal(defaultValue(0, 'x'), 0);
  assert.equal(defaultValue('a', 'x'), 'a');
});

test('split_name first|last|all', () => {
  assert.equal(splitName('Ada B. Lovelace', 'first'), 'Ada B.');
  assert.equal(splitName('Ada B. Lovelace', 'last'), 'Lovelace');
  assert.deepEqual(splitName('Cher', 'all'), ['Cher', '']);
  assert.throws(() => splitName('a b', 'middle'), FilterError);
});
