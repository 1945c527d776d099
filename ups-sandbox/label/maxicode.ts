/**
 * UPS MaxiCode content: which destinations get one, the structured carrier message fields, and the
 * message strings both renderers encode (bwip-js for the GIF, ^BD for ZPL).
 */
import { upper } from './text';
import type { LabelInput } from './types';

/** UPS MaxiCode structured carrier message pieces, for a destination that allows one. */
export interface MaxiCodeData {
  mode: 2 | 3;
  postal: string;
  /** ISO 3166 numeric. */
  country: string;
  serviceClass: string;
  /** Secondary message fields, longest first: renderers use the first that fits the symbol. */
  secondaries: string[][];
}

/** ISO 3166 numeric codes, for the MaxiCode primary message. Other countries get no MaxiCode. */
const ISO_NUMERIC: Readonly<Record<string, string>> = {
  US: '840',
  PR: '630',
  CA: '124',
  MX: '484',
  GB: '826',
  DE: '276',
  FR: '250',
  IT: '380',
  ES: '724',
  NL: '528',
  BE: '056',
  IE: '372',
  AT: '040',
  CH: '756',
  SE: '752',
  DK: '208',
  NO: '578',
  PL: '616',
  AU: '036',
  NZ: '554',
  JP: '392',
  CN: '156',
  HK: '344',
  SG: '702',
  KR: '410',
  IN: '356',
  BR: '076',
};

const RS = '\x1e';
const GS = '\x1d';
const EOT = '\x04';

/** Usable characters in a mode 2/3 MaxiCode secondary message (ISO/IEC 16023: 84 in code set A). */
export const MAXI_SECONDARY_CAPACITY = 84;

/** Day of the year, 001..366, for the MaxiCode secondary message. */
function julianDay(d: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d.trim());
  if (!m) return '001';
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const day = Math.floor((t - Date.UTC(Number(m[1]), 0, 1)) / 86_400_000) + 1;
  return Number.isFinite(day) && day >= 1 && day <= 366 ? String(day).padStart(3, '0') : '001';
}

/** MaxiCode field text: upper-case letters, digits and a little punctuation, no separators. */
function maxiField(s: string | undefined, max: number): string {
  return upper(s)
    .normalize('NFD')
    .replace(/[^A-Z0-9 ./-]/g, '')
    .trim()
    .slice(0, max);
}

/**
 * The MaxiCode pieces for a package: mode 2 for US/PR ZIP codes, mode 3 for other postcodes;
 * `undefined` when the destination country or postcode allows none.
 *
 * @param input - the label input
 * @param tracking - the cleaned tracking number (no spaces, upper case)
 * @param toCountry - destination country code, cleaned and upper case
 * @param toPostal - destination postcode, upper case, letters and digits only
 */
export function maxiCodeData(
  input: LabelInput,
  tracking: string,
  toCountry: string,
  toPostal: string,
): MaxiCodeData | undefined {
  const from = input.shipper;
  const to = input.shipTo;
  const country = ISO_NUMERIC[toCountry];
  const serviceClass = /^\d{2}$/.test(input.serviceCode) ? `0${input.serviceCode}` : '000';
  if (!country) return undefined;
  const head = [
    // UPS prints "1Z" + package id + check digit here (the shipper number has its own field).
    /^1Z[0-9A-Z]{16}$/.test(tracking) ? `1Z${tracking.slice(10)}` : maxiField(tracking, 10),
    'UPSN',
    maxiField(from.ShipperNumber, 10),
    julianDay(input.shipDate),
    '',
    `${input.packageIndex}/${input.packageCount}`,
    maxiField(input.weight, 6),
    'N',
  ];
  const street = maxiField(to.Address.AddressLine[0], 30);
  const city = maxiField(to.Address.City, 20);
  const state = maxiField(to.Address.StateProvinceCode, 3);
  // The secondary message holds roughly 84 characters: drop the street, then the city, if need be.
  const secondaries = [
    [...head, street, city, state],
    [...head, '', city, state],
    [...head, '', '', state],
  ];
  if ((toCountry === 'US' || toCountry === 'PR') && /^\d{5}(\d{4})?$/.test(toPostal)) {
    return { mode: 2, postal: toPostal, country, serviceClass, secondaries };
  }
  if (toPostal.length > 0 && toCountry !== 'US') {
    return { mode: 3, postal: toPostal.slice(0, 6), country, serviceClass, secondaries };
  }
  return undefined;
}

/** The structured carrier message envelope: "[)>␞01␝96" + body + "␞␄". */
function envelope(body: string): string {
  return `[)>${RS}01${GS}96${body}${RS}${EOT}`;
}

/** The low-priority MaxiCode message (ZPL ^BD): "[)>␞01␝96" + secondary fields + "␞␄". */
export function maxiSecondary(fields: string[]): string {
  return envelope(fields.join(GS));
}

/**
 * The whole MaxiCode message as bwip-js expects it: the primary fields (postal code, country,
 * service class) inline after "96", then the given secondary fields.
 */
export function maxiFullMessage(m: MaxiCodeData, fields: string[]): string {
  return envelope(`${m.postal}${GS}${m.country}${GS}${m.serviceClass}${GS}${fields.join(GS)}`);
}
