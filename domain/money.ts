/**
 * Money as integer cents. UPS sends amounts as decimal strings ("123.45"); parsing them through
 * floating point would lose cents on large batches, so they are parsed digit by digit.
 */

/** A monetary amount in the smallest unit of its currency. */
export interface Money {
  cents: number;
  currency: string;
}

/** Error raised for an amount string that is not a plain decimal number. */
export class MoneyParseError extends Error {
  constructor(
    readonly input: unknown,
    reason: string,
  ) {
    super(`invalid monetary amount ${JSON.stringify(input)}: ${reason}`);
    this.name = 'MoneyParseError';
  }
}

const AMOUNT = /^([+-])?(\d+)(?:\.(\d*))?$|^([+-])?\.(\d+)$/;

/**
 * Parse a decimal amount string into integer cents without floating point: "123.45" → 12345,
 * "0.01" → 1, "7" → 700. More than two decimals are rounded half-up ("1.005" → 101).
 * Missing, empty or malformed input throws {@link MoneyParseError}.
 */
export function parseCents(input: string | number | null | undefined): number {
  if (input === null || input === undefined) throw new MoneyParseError(input, 'amount is missing');
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new MoneyParseError(input, 'not a finite number');
    input = String(input);
  }
  const text = input.trim();
  if (text === '') throw new MoneyParseError(input, 'amount is empty');
  const m = AMOUNT.exec(text);
  if (!m) throw new MoneyParseError(input, 'expected digits with an optional decimal point');
  const sign = (m[1] ?? m[4]) === '-' ? -1 : 1;
  const whole = m[2] ?? '0';
  const frac = (m[3] ?? m[5] ?? '').padEnd(3, '0');
  let cents = Number(whole) * 100 + Number(frac.slice(0, 2));
  if (Number(frac[2]) >= 5) cents += 1;
  if (!Number.isSafeInteger(cents)) throw new MoneyParseError(input, 'amount too large');
  return sign * cents || 0;
}

/** Format integer cents as a decimal string with two places: 12345 → "123.45". */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Add up amounts per currency; a batch can mix currencies when shippers bill abroad. */
export function totalsByCurrency(amounts: Iterable<Money>): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const { cents, currency } of amounts) totals[currency] = (totals[currency] ?? 0) + cents;
  return totals;
}
