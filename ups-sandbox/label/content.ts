/**
 * What the label says, derived once from the input and shared by the GIF and ZPL renderers: cleaned,
 * upper-cased text fields, the routing code, the service icon and the MaxiCode data.
 */
import { formatTrackingNumber } from '../tracking-number';
import { maxiCodeData, type MaxiCodeData } from './maxicode';
import { clean, upper } from './text';
import type { LabelInput, LabelParty } from './types';

/** Every text field of one label, ready to lay out. */
export interface LabelContent {
  tracking: string;
  trackingGrouped: string;
  service: string;
  /** Character printed in the service icon box ("1", "2", "3"), '' for a solid box (Ground). */
  serviceIcon: string;
  from: string[];
  fromName: string;
  toName: string;
  toLines: string[];
  toCityLine: string;
  /** "GA 300": destination state (or country) and the first 3 postal characters. */
  routing: string;
  weight: string;
  pieces: string;
  shipperNumber: string;
  date: string;
  reference: string;
  /** UPS MaxiCode structured carrier message pieces, when the destination allows one. */
  maxi?: MaxiCodeData;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

function cityLine(a: LabelParty['Address']): string {
  const city = upper(a.City);
  const rest = [upper(a.StateProvinceCode), upper(a.PostalCode)].filter(Boolean).join(' ');
  const line = [city, rest].filter(Boolean).join(' ');
  return upper(a.CountryCode) === 'US' || !a.CountryCode ? line : `${line} ${upper(a.CountryCode)}`.trim();
}

function serviceIcon(code: string): string {
  switch (code) {
    case '01':
    case '13':
    case '14':
      return '1';
    case '02':
    case '59':
      return '2';
    case '12':
      return '3';
    default:
      return ''; // Ground, Standard, Worldwide: solid box
  }
}

/** "2024-05-01" → "01 MAY 2024"; anything else printed as given. */
function formatDate(d: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d.trim());
  const month = m ? MONTHS[Number(m[2]) - 1] : undefined;
  return m && month ? `${m[3]} ${month} ${m[1]}` : upper(d);
}

/**
 * The label's text fields for `input`.
 *
 * @throws Error when the tracking number is not printable ASCII
 */
export function labelContent(input: LabelInput): LabelContent {
  const tracking = input.trackingNumber.replace(/\s+/g, '').toUpperCase();
  if (!/^[\x20-\x7e]+$/.test(tracking)) {
    throw new Error(`label: tracking number must be printable ASCII, got "${input.trackingNumber}"`);
  }
  const from = input.shipper;
  const to = input.shipTo;
  const fromLines = [
    upper(from.AttentionName),
    upper(from.Phone?.Number),
    ...from.Address.AddressLine.map(upper),
    cityLine(from.Address),
  ].filter(Boolean);
  const toLines = [
    upper(to.AttentionName),
    upper(to.Phone?.Number),
    ...to.Address.AddressLine.map(upper),
  ].filter(Boolean);
  const toCountry = upper(to.Address.CountryCode);
  const toPostal = upper(to.Address.PostalCode).replace(/[^A-Z0-9]/g, '');
  const weight = `${clean(input.weight) || '0'} ${input.weightUnit}`;

  return {
    tracking,
    trackingGrouped: formatTrackingNumber(tracking),
    service: upper(input.serviceName) || `SERVICE ${upper(input.serviceCode)}`,
    serviceIcon: serviceIcon(input.serviceCode),
    fromName: upper(from.Name),
    from: fromLines,
    toName: upper(to.Name),
    toLines,
    toCityLine: cityLine(to.Address),
    routing: [upper(to.Address.StateProvinceCode) || toCountry, toPostal.slice(0, 3)]
      .filter(Boolean)
      .join(' '),
    weight,
    pieces: `${input.packageIndex} OF ${input.packageCount}`,
    shipperNumber: upper(from.ShipperNumber),
    date: formatDate(input.shipDate),
    reference: clean(input.reference),
    maxi: maxiCodeData(input, tracking, toCountry, toPostal),
  };
}
