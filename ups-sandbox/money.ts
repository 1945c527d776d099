/**
 * Money in the sandbox's answers: integer cents printed as UPS's `MonetaryValue` text. The sandbox
 * prints amounts itself, by its own method (it imitates an external server): a mistake in the
 * project's money formatting cannot hide behind the same mistake here.
 */

/** Integer cents as UPS prints them: 1234 → "12.34", 5 → "0.05", -150 → "-1.50". */
export function monetaryValue(cents: number): string {
  const digits = String(Math.abs(cents)).padStart(3, '0');
  return `${cents < 0 ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** A UPS charge `{CurrencyCode, MonetaryValue}` from integer cents. */
export const charge = (cents: number, currency = 'USD') => ({
  CurrencyCode: currency,
  MonetaryValue: monetaryValue(cents),
});
