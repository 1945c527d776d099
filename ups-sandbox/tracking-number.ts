/**
 * UPS "1Z" tracking numbers, as the sandbox issues them and prints them on labels. Pure: no imports.
 *
 * Layout (18 characters): `1Z` + 6-character shipper number + 2-character service code
 * + 7-digit package id + 1 check digit, e.g. `1Z A1B2C3 03 1234567 8`.
 */

const BODY = /^[0-9A-Z]{15}$/;
const TRACKING = /^1Z[0-9A-Z]{15}[0-9]$/;
const SHIPPER_NUMBER = /^[0-9A-Z]{6}$/;
const SERVICE_CODE = /^[0-9A-Z]{2}$/;
const MAX_PACKAGE_ID = 9_999_999;

/** Upper-case and drop all whitespace: "1z 999 aa1" → "1Z999AA1". */
function normalize(s: string): string {
  return s.replace(/\s+/g, '').toUpperCase();
}

/**
 * UPS mod-10 check digit over the 15 characters after "1Z" (shipper number, service code, package id).
 *
 * Letters count as `(charCode - 63) % 10` (A=2 … H=9, I=0, J=1 …); digits as themselves. Values at odd
 * 1-based positions are summed, values at even positions are doubled and added; the check digit is
 * `(10 - sum % 10) % 10`.
 *
 * @param body15 - the 15 characters between "1Z" and the check digit (case-insensitive)
 * @returns the check digit, 0..9
 * @throws Error when `body15` is not exactly 15 letters or digits
 */
export function upsCheckDigit(body15: string): number {
  const body = body15.toUpperCase();
  if (!BODY.test(body)) throw new Error(`UPS tracking body must be 15 letters or digits, got "${body15}"`);
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    const code = body.charCodeAt(i);
    const value = code <= 57 ? code - 48 : (code - 63) % 10;
    sum += i % 2 === 0 ? value : value * 2; // i is 0-based: even i = odd 1-based position
  }
  return (10 - (sum % 10)) % 10;
}

/**
 * Whether `s` is a well-formed UPS 1Z tracking number with a correct check digit.
 * Case-insensitive; whitespace anywhere is ignored ("1z 999 aa1 01 2345 6784" is valid).
 *
 * @param s - candidate tracking number
 * @returns true when the shape and the check digit are right
 */
export function isValidUpsTrackingNumber(s: string): boolean {
  const t = normalize(s);
  if (!TRACKING.test(t)) return false;
  return upsCheckDigit(t.slice(2, 17)) === Number(t[17]);
}

/**
 * Build a UPS 1Z tracking number with its check digit.
 *
 * @param shipperNumber - the 6-character UPS account (shipper) number, letters or digits
 * @param serviceCode - the 2-character service code, e.g. "03" for UPS Ground
 * @param packageId - package sequence number, integer 0..9_999_999 (zero-padded to 7 digits)
 * @returns the 18-character tracking number, upper case, without spaces
 * @throws Error when an argument is out of range or malformed
 */
export function makeUpsTrackingNumber(shipperNumber: string, serviceCode: string, packageId: number): string {
  const shipper = shipperNumber.toUpperCase();
  const service = serviceCode.toUpperCase();
  if (!SHIPPER_NUMBER.test(shipper)) {
    throw new Error(`shipper number must be 6 letters or digits, got "${shipperNumber}"`);
  }
  if (!SERVICE_CODE.test(service))
    throw new Error(`service code must be 2 letters or digits, got "${serviceCode}"`);
  if (!Number.isInteger(packageId) || packageId < 0 || packageId > MAX_PACKAGE_ID) {
    throw new Error(`package id must be an integer 0..${MAX_PACKAGE_ID}, got ${packageId}`);
  }
  const body = `${shipper}${service}${String(packageId).padStart(7, '0')}`;
  return `1Z${body}${upsCheckDigit(body)}`;
}

/**
 * Group a tracking number the way UPS prints it on labels: "1Z A1B 2C3 03 1234 5678"
 * (prefix, shipper number in two triples, service code, package id + check digit in two quads).
 * Input is normalized first (upper case, whitespace removed); anything that is not 18 characters
 * starting with "1Z" is returned normalized but ungrouped. The check digit is not verified.
 *
 * @param t - tracking number, with or without spaces
 * @returns the grouped tracking number
 */
export function formatTrackingNumber(t: string): string {
  const n = normalize(t);
  if (n.length !== 18 || !n.startsWith('1Z')) return n;
  return [n.slice(0, 2), n.slice(2, 5), n.slice(5, 8), n.slice(8, 10), n.slice(10, 14), n.slice(14, 18)].join(
    ' ',
  );
}
