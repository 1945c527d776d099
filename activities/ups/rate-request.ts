/**
 * A RateRequest for the shipment a ShipmentRequest would create, shaped the way the real ups-mcp
 * server's rate validator wants it: packages keep `Packaging` (the server itself renames it to
 * UPS Rating's `PackagingType` after validating; a package with only `PackagingType` is reported as
 * missing its packaging code), `PaymentInformation` is passed unchanged, and negotiated rates are asked
 * for so the quote matches what the shipment will cost.
 */
import type { ShipmentRequestBody } from '../../domain/shipment-schema';

type Obj = Record<string, unknown>;

const RATE_PACKAGE_FIELDS = [
  'Packaging',
  'Dimensions',
  'PackageWeight',
  'PackageServiceOptions',
  'SimpleRate',
];

export function rateRequestFromShipmentRequest(body: ShipmentRequestBody): { RateRequest: Obj } {
  const { Request, Shipment } = body.ShipmentRequest;
  const shipment = structuredClone(Shipment) as Obj;
  const packages = (Array.isArray(shipment.Package) ? shipment.Package : [shipment.Package]) as Obj[];
  const ratingOptions = (shipment.ShipmentRatingOptions as Obj | undefined) ?? {};
  return {
    RateRequest: {
      Request: Request.TransactionReference
        ? { TransactionReference: structuredClone(Request.TransactionReference) }
        : {},
      Shipment: {
        ...shipment,
        // Rating has no package references or label fields: keep only what prices a package.
        Package: packages.map((pkg) =>
          Object.fromEntries(Object.entries(pkg).filter(([k]) => RATE_PACKAGE_FIELDS.includes(k))),
        ),
        ShipmentRatingOptions: { ...ratingOptions, NegotiatedRatesIndicator: '' },
      },
    },
  };
}
