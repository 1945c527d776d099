/**
 * The simulated UPS Address Validation - Street Level (XAV) API behind validate_address.
 *
 * The real tool posts `{"XAVRequest": {"AddressKeyFormat": ...}}` to `/addressvalidation/v1/1` with
 * `maximumcandidatelistsize=3`, so answers are version 1's: `Candidate` is one object when there is one
 * candidate and a list when there are several, and so is each candidate's `AddressLine` (a string for
 * one line); at most 3 candidates. One of three indicators (empty strings):
 *
 * - `NoCandidatesIndicator`: an unknown address — a US postal code that is not 5 digits, a ZIP in the
 *   knob `rejectPostalCodes`, or a ZIP the knob `addressCandidates` maps to no candidates;
 * - `ValidAddressIndicator` with one candidate: the address as UPS standardises it (upper case, ZIP+4);
 *   a candidate that differs from the input is how UPS answers a corrected address;
 * - `AmbiguousAddressIndicator` with several candidates: a ZIP the knob maps to several, or (US/PR, as
 *   XAV answers a street without a house number) a first line with letters but no digit, answered with
 *   two house-number ranges of that street (`100-199 MAIN ST`, `200-299 MAIN ST`) in the same city,
 *   state and ZIP.
 *
 * Not like the real tool: request option 1 (validation only) carries no `AddressClassification`; the
 * sandbox answers as option 3 (validation and classification) would — the top-level classification of
 * the input address (that of the one candidate; 0 "Unknown" when ambiguous or not found) and one per
 * candidate: the knob's, else by business words in the lines.
 */
import type { AddressCandidate } from '../knobs';
import { isPresent, text, type JsonObject } from '../json';
import { SUCCESS, toolArgs, type UpsContext } from './context';

type Obj = JsonObject;
type Classification = { Code: '0' | '1' | '2'; Description: string };

/** The real tool's `maximumcandidatelistsize`. */
export const MAX_CANDIDATES = 3;

const UNKNOWN: Classification = { Code: '0', Description: 'Unknown' };
const COMMERCIAL: Classification = { Code: '1', Description: 'Commercial' };
const RESIDENTIAL: Classification = { Code: '2', Description: 'Residential' };

/** A candidate before it is written as UPS's AddressKeyFormat. */
interface Candidate {
  lines: string[];
  city: string;
  state: string;
  zip: string;
  /** The ZIP+4 extension, when known. */
  extended?: string;
  country: string;
  classification: Classification;
}

/** Business-looking addresses are commercial, the rest residential (stable per address). */
function classify(lines: string[]): Classification {
  return /\b(SUITE|STE|BLVD|PKWY|PLAZA|DOCK|INC|LLC|FLOOR)\b/.test(lines.join(' ').toUpperCase())
    ? COMMERCIAL
    : RESIDENTIAL;
}

/** A street name without a house number: letters, no digit (any script). */
function streetWithoutNumber(line: string): boolean {
  return /\p{L}/u.test(line) && !/\p{Nd}/u.test(line);
}

/** validate_address: XAV's answer for the address in the tool's arguments. */
export function validateAddress(ctx: UpsContext, args: Obj): Obj {
  args = toolArgs('validate_address', args);
  const zip = text(args.zipPrimary).trim();
  const country = text(args.countryCode).toUpperCase();
  const knobs = ctx.knobs();
  const known = country !== 'US' || /^\d{5}$/.test(zip);
  if (!known || knobs.rejectPostalCodes.includes(zip)) return answer([]);
  // Own keys only: a zipPrimary like "constructor" must not find Object.prototype's.
  const configured = Object.hasOwn(knobs.addressCandidates, zip) ? knobs.addressCandidates[zip] : undefined;
  if (configured) return answer(configured.map((c) => fromKnob(c, country)));

  const lines = [args.addressLine1, args.addressLine2]
    .filter((l) => isPresent(l))
    .map((l) => text(l).toUpperCase());
  const city = text(args.politicalDivision2).toUpperCase();
  const state = text(args.politicalDivision1).toUpperCase();
  const extended = isPresent(args.zipExtended)
    ? text(args.zipExtended)
    : /^\d{5}$/.test(zip)
      ? text(1000 + (Number(zip) % 9000))
      : undefined;
  const at = (candidateLines: string[]): Candidate => ({
    lines: candidateLines,
    city,
    state,
    zip,
    extended,
    country,
    classification: classify(candidateLines),
  });
  const first = text(args.addressLine1).trim();
  if ((country === 'US' || country === 'PR') && streetWithoutNumber(first)) {
    const street = first.toUpperCase().replace(/\s+/g, ' ');
    const rest = lines.slice(1);
    return answer([at([`100-199 ${street}`, ...rest]), at([`200-299 ${street}`, ...rest])]);
  }
  return answer([at(lines)]);
}

/** A candidate of the knob `addressCandidates`, as UPS writes addresses (upper case). */
function fromKnob(c: AddressCandidate, country: string): Candidate {
  const lines = c.addressLines.map((l) => l.toUpperCase());
  const [zip, extended] = c.postalCode.split('-') as [string, string | undefined];
  return {
    lines,
    city: c.city.toUpperCase(),
    state: c.state.toUpperCase(),
    zip,
    extended,
    country,
    classification:
      c.classification === 'commercial'
        ? COMMERCIAL
        : c.classification === 'residential'
          ? RESIDENTIAL
          : classify(lines),
  };
}

/** One element as itself, several as a list: how version 1 of the API writes repeatable elements. */
function v1List<T>(items: T[]): T | T[] {
  return items.length === 1 ? items[0]! : items;
}

function addressKeyFormat(c: Candidate): Obj {
  const postcode = c.extended === undefined ? c.zip : `${c.zip}-${c.extended}`;
  return {
    AddressLine: v1List(c.lines),
    PoliticalDivision2: c.city,
    PoliticalDivision1: c.state,
    PostcodePrimaryLow: c.zip,
    ...(c.extended === undefined ? {} : { PostcodeExtendedLow: c.extended }),
    Region: `${c.city} ${c.state} ${postcode}`,
    CountryCode: c.country,
  };
}

/** The XAVResponse for these candidates (at most {@link MAX_CANDIDATES} of them). */
function answer(all: Candidate[]): Obj {
  const candidates = all.slice(0, MAX_CANDIDATES);
  if (candidates.length === 0) {
    return { XAVResponse: { Response: SUCCESS, NoCandidatesIndicator: '', AddressClassification: UNKNOWN } };
  }
  const one = candidates.length === 1;
  return {
    XAVResponse: {
      Response: SUCCESS,
      ...(one ? { ValidAddressIndicator: '' } : { AmbiguousAddressIndicator: '' }),
      AddressClassification: one ? candidates[0]!.classification : UNKNOWN,
      Candidate: v1List(
        candidates.map((c) => ({
          AddressClassification: c.classification,
          AddressKeyFormat: addressKeyFormat(c),
        })),
      ),
    },
  };
}
