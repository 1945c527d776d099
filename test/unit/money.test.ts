import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCents, MoneyParseError, parseCents, totalsByCurrency } from '../../domain/money';

test('parseCents parses UPS decimal strings without floating point', () => {
  assert.equal(parseCents('123.45'), 12345);
  assert.equal(parseCents('0.01'), 1);
  assert.equal(parseCents('7'), 700);
  assert.equal(parseCents('7.5'), 750);
  assert.equal(parseCents('.99'), 99);
  assert.equal(parseCents(' 12.30 '), 1230);
  assert.equal(parseCents('-4.20'), -420);
  assert.equal(parseCents('1.005'), 101);
  assert.equal(parseCents('1.004'), 100);
  // 0.1 + 0.2 style drift must not appear for large sums.
  assert.equal(parseCents('90071992547409.91'), 9007199254740991);
});

test('parseCents rejects missing and malformed amounts', () => {
  for (const bad of [undefined, null, '', '  ', 'abc', '1.2.3', '1,000.00', '$5']) {
    assert.throws(() => parseCents(bad), MoneyParseError, `input ${String(bad)}`);
  }
});

test('formatCents and totalsByCurrency', () => {
  assert.equal(formatCents(12345), '123.45');
  assert.equal(formatCents(5), '0.05');
  assert.equal(formatCents(-420), '-4.20');
  assert.deepEqual(
    totalsByCurrency([
      { cents: 100, currency: 'USD' },
      { cents: 250, currency: 'USD' },
      { cents: 99, currency: 'CAD' },
    ]),
    { USD: 350, CAD: 99 },
  );
});
