/** The simulated UPS Address Validation (XAV) API behind validate_address. */
import { isPresent, text, type JsonObject } from '../json';
import { SUCCESS, toolArgs, type UpsContext } from './context';

type Obj = JsonObject;

/** validate_address: XAV with one candidate, or no candidates for rejected postal codes. */
export function validateAddress(ctx: UpsContext, args: Obj): Obj {
  args = toolArgs('validate_address', args);
  const zip = text(args.zipPrimary).trim();
  const country = text(args.countryCode).toUpperCase();
  const known = country !== 'US' || /^\d{5}$/.test(zip);
  if (!known || ctx.knobs().rejectPostalCodes.includes(zip)) {
    return { XAVResponse: { Response: SUCCESS, NoCandidatesIndicator: '' } };
  }
  const lines = [args.addressLine1, args.addressLine2]
    .filter((l) => isPresent(l))
    .map((l) => text(l).toUpperCase());
  // Business-looking addresses are commercial, the rest residential (stable per address).
  const commercial = /\b(SUITE|STE|BLVD|PKWY|PLAZA|DOCK|INC|LLC|FLOOR)\b/.test(lines.join(' '));
  const classification = commercial
    ? { Code: '1', Description: 'Commercial' }
    : { Code: '2', Description: 'Residential' };
  const extended = isPresent(args.zipExtended) ? text(args.zipExtended) : text(1000 + (Number(zip) % 9000));
  return {
    XAVResponse: {
      Response: SUCCESS,
      ValidAddressIndicator: '',
      AddressClassification: classification,
      Candidate: [
        {
          AddressClassification: classification,
          AddressKeyFormat: {
            AddressLine: lines,
            PoliticalDivision2: text(args.politicalDivision2).toUpperCase(),
            PoliticalDivision1: text(args.politicalDivision1).toUpperCase(),
            PostcodePrimaryLow: zip,
            PostcodeExtendedLow: extended,
            Region: `${text(args.politicalDivision2).toUpperCase()} ${text(args.politicalDivision1).toUpperCase()} ${zip}-${extended}`,
            CountryCode: country,
          },
        },
      ],
    },
  };
}
