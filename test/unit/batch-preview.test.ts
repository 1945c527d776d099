import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateTotal, previewHash, shortRecipient } from '../../activities/batch/preview';

test('estimate = quoted sum + average × remaining valid rows (the seed arithmetic)', () => {
  // 50 valid rows, 20 quoted at $10.00 → 20 × 1000 + 1000 × 30
  assert.equal(estimateTotal(Array<number>(20).fill(1000), 50), 50_000);
  // 100 valid rows, 10 at $10 and 10 at $20 quoted → 30000 + 1500 × 80
  assert.equal(
    estimateTotal([...Array<number>(10).fill(1000), ...Array<number>(10).fill(2000)], 100),
    150_000,
  );
  // every row quoted (rateAll): the exact sum
  assert.equal(estimateTotal([1234, 5678, 1], 3), 6913);
  // nothing quoted (empty source, or every rating failed): zero, never NaN
  assert.equal(estimateTotal([], 0), 0);
  assert.equal(estimateTotal([], 12), 0);
  // rounding happens once, on the average part: 3 quotes of 1,1,2 cents for 4 rows → 4 + round(4/3)
  assert.equal(estimateTotal([1, 1, 2], 4), 5);
});

test('recipient is cut to 20 characters at a word boundary', () => {
  assert.equal(shortRecipient('Michael Davis'), 'Michael Davis');
  assert.equal(shortRecipient('Alexandria Montgomery-Smythe III'), 'Alexandria');
  assert.equal(shortRecipient('Ana María Núñez de la Torre'), 'Ana María Núñez de');
  assert.equal(shortRecipient('Supercalifragilisticexpialidocious'), 'Supercalifragilistic');
  assert.equal(shortRecipient('  many   spaces   here  '), 'many spaces here');
});

test('previewHash changes with any row checksum, the template or the shipper, not with key order', () => {
  const base = previewHash(['1:aa', '2:bb'], 'tpl', { Name: 'A', ShipperNumber: 'A1B2C3' });
  assert.match(base, /^[0-9a-f]{64}$/);
  assert.equal(previewHash(['1:aa', '2:bb'], 'tpl', { ShipperNumber: 'A1B2C3', Name: 'A' }), base);
  assert.notEqual(previewHash(['1:aa', '2:bc'], 'tpl', { Name: 'A', ShipperNumber: 'A1B2C3' }), base);
  assert.notEqual(previewHash(['1:aa', '2:bb'], 'tpl ', { Name: 'A', ShipperNumber: 'A1B2C3' }), base);
  assert.notEqual(previewHash(['1:aa', '2:bb'], 'tpl', { Name: 'B', ShipperNumber: 'A1B2C3' }), base);
  assert.notEqual(previewHash(['1:aa'], '2:bbtpl', { Name: 'A', ShipperNumber: 'A1B2C3' }), base);
});
