/** The simulated UPS Tracking API behind track_package. */
import { type JsonObject, text } from '../json';
import { UPS_CODES, upsHttpError } from '../errors';
import { serviceName } from '../services';
import { toolArgs, type UpsContext } from './context';

type Obj = JsonObject;

const ymd = (iso: string) => iso.slice(0, 10).replaceAll('-', '');
const hms = (iso: string) => iso.slice(11, 19).replaceAll(':', '');

/** track_package: the label-created (or voided) status of a package the sandbox shipped. */
export function trackPackage(ctx: UpsContext, args: Obj): Obj {
  args = toolArgs('track_package', args);
  const inquiry = text(args.inquiryNumber).replace(/\s+/g, '').toUpperCase();
  const rec = ctx.store.findByTracking(inquiry);
  if (!rec) throw upsHttpError(404, UPS_CODES.trackingNotFound, 'Tracking Information Not Found');
  const pkg = rec.packages.find((p) => p.trackingNumber === inquiry)!;
  const status = pkg.voidedAt
    ? { type: 'X', code: 'VD', description: 'Voided Information Received', statusCode: '011' }
    : {
        type: 'M',
        code: 'MP',
        description: 'Shipper created a label, UPS has not received the package yet.',
        statusCode: '003',
      };
  const at = pkg.voidedAt ?? rec.createdAt;
  return {
    trackResponse: {
      shipment: [
        {
          inquiryNumber: inquiry,
          package: [
            {
              trackingNumber: inquiry,
              currentStatus: { description: status.description, code: status.statusCode },
              activity: [
                { status, date: ymd(at), time: hms(at), location: { address: { countryCode: 'US' } } },
              ],
              service: { code: rec.serviceCode, description: serviceName(rec.serviceCode) },
              weight: { unitOfMeasurement: pkg.weightUnit, weight: pkg.weight },
              referenceNumber: pkg.references.map((number) => ({ type: 'PACKAGE', number })),
              packageCount: rec.packages.length,
            },
          ],
        },
      ],
    },
  };
}
