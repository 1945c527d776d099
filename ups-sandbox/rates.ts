/**
 * Deterministic, believable UPS rating for the local sandbox MCP server. Not UPS's tariff: a small
 * model that behaves like it (zones from ZIP distance, dimensional weight, per-service multipliers,
 * residential and fuel surcharges, negotiated discounts). All money is integer cents; the only
 * floating point is in weights and dimensions, never in amounts.
 */
import { charge } from './money';
import { serviceName } from './services';

/** The parts of a UPS Rate/Ship request Shipment that rating reads. */
export interface RatableShipment {
  Shipper?: { Address?: { PostalCode?: string; CountryCode?: string } };
  ShipFrom?: { Address?: { PostalCode?: string } };
  ShipTo: { Address: { PostalCode?: string; CountryCode?: string; ResidentialAddressIndicator?: unknown } };
  Service?: { Code?: string };
  Package: Array<{
    PackageWeight?: { UnitOfMeasurement?: { Code?: string }; Weight?: string };
    Dimensions?: { UnitOfMeasurement?: { Code?: string }; Length?: string; Width?: string; Height?: string };
    Packaging?: { Code?: string };
    PackagingType?: { Code?: string };
  }>;
}

/** One package of a {@link RatableShipment}. */
export type RatablePackage = RatableShipment['Package'][number];

/** The price of one service for one shipment, in integer cents. */
export interface ServiceQuote {
  serviceCode: string;
  serviceName: string;
  zone: number;
  /** Sum of the packages' billable weights. */
  billableWeightLbs: number;
  /** Published total: base + residential + fuel. */
  publishedCents: number;
  /** Account (negotiated) total, always strictly below {@link publishedCents}. */
  negotiatedCents: number;
  residentialSurchargeCents: number;
  fuelSurchargeCents: number;
  businessDaysInTransit: number;
  perPackage: Array<{ billableWeightLbs: number; baseCents: number }>;
}

/** Services offered between two US (or PR) ZIPs. */
const DOMESTIC_SERVICES = ['01', '02', '03', '12', '13', '14', '59'] as const;
/** Services offered when either end is outside the US. */
const INTERNATIONAL_SERVICES = ['07', '08', '11', '54', '65'] as const;
/** Ground-network services: lower residential surcharge and a smaller negotiated discount. */
const GROUND_SERVICES = new Set(['03', '11']);

/** Price of a service relative to UPS Ground, in basis points (10000 = ×1.0). */
const SERVICE_MULTIPLIER_BP: Readonly<Record<string, number>> = {
  '03': 10_000, // Ground
  '12': 16_000, // 3 Day Select
  '02': 22_000, // 2nd Day Air
  '59': 25_000, // 2nd Day Air A.M.
  '13': 30_000, // Next Day Air Saver
  '01': 34_000, // Next Day Air
  '14': 44_000, // Next Day Air Early
  '07': 40_000, // Worldwide Express
  '08': 32_000, // Worldwide Expedited
  '11': 14_000, // Standard
  '54': 50_000, // Worldwide Express Plus
  '65': 36_000, // Worldwide Saver
};

/** Residential surcharge per package, cents. */
const RESIDENTIAL_GROUND_CENTS = 555;
const RESIDENTIAL_AIR_CENTS = 610;
/** Fuel surcharge on base + residential, basis points. */
const FUEL_BP = 1_500;
/** Negotiated discount off the published total, basis points. */
const NEGOTIATED_DISCOUNT_GROUND_BP = 1_800;
const NEGOTIATED_DISCOUNT_AIR_BP = 2_500;

const US_ZIP = /^(\d{5})(?:-?\d{4})?$/;
const DOMESTIC_COUNTRIES = new Set(['US', 'PR']);
const NEIGHBOUR_COUNTRIES = new Set(['CA', 'MX']);
const EUROPE_COUNTRIES = new Set([
  'AT', 'BE', 'CH', 'CZ', 'DE', 'DK', 'ES', 'FI', 'FR', 'GB', 'GR', 'HU', 'IE', 'IT', 'LU', 'NL', 'NO', 'PL',
  'PT', 'SE',
]); // prettier-ignore

const KG_TO_LB = 2.20462262185;
const CM_PER_IN = 2.54;
/** UPS daily-rates dimensional divisor, cubic inches per pound. */
const DIM_DIVISOR = 139;

/** `value × bp / 10000`, rounded half up, in integers (value and bp non-negative). */
function applyBp(value: number, bp: number): number {
  return Math.floor((value * bp + 5_000) / 10_000);
}

/** The 3-digit prefix of a 5-digit ZIP or ZIP+4; anything else throws `Invalid postal code <zip>`. */
function zipPrefix(zip: string | undefined): number {
  const m = US_ZIP.exec((zip ?? '').trim());
  if (!m?.[1]) throw new Error(`Invalid postal code ${zip ?? ''}`);
  return Number(m[1].slice(0, 3));
}

/**
 * UPS-style domestic zone, 2..8, from the distance between the ZIPs' 3-digit prefixes (ZIP prefixes
 * run roughly east to west, so the gap is a fair distance proxy). Symmetric; never decreases as the gap
 * grows. Gap ≤ 5 → 2, ≤ 40 → 3, ≤ 150 → 4, ≤ 300 → 5, ≤ 500 → 6, ≤ 700 → 7, else 8
 * (New York 100 → Atlanta 303 is zone 5, → San Francisco 941 zone 8).
 *
 * @throws Error `Invalid postal code <zip>` when either is not 5 digits (ZIP+4 allowed)
 */
export function upsZone(originZip: string, destZip: string): number {
  const gap = Math.abs(zipPrefix(originZip) - zipPrefix(destZip));
  if (gap <= 5) return 2;
  if (gap <= 40) return 3;
  if (gap <= 150) return 4;
  if (gap <= 300) return 5;
  if (gap <= 500) return 6;
  if (gap <= 700) return 7;
  return 8;
}

/** Zone for an international lane: Canada/Mexico 5, Europe 7, elsewhere 8. */
function internationalZone(country: string): number {
  if (NEIGHBOUR_COUNTRIES.has(country)) return 5;
  if (EUROPE_COUNTRIES.has(country)) return 7;
  return 8;
}

/** A non-negative decimal from a request string; missing → undefined. */
function measure(value: string | undefined, what: string): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`Invalid package ${what} ${value}`);
  return n;
}

/**
 * Billable weight of one package in whole pounds: the larger of the actual weight (KGS converted to
 * pounds) and the dimensional weight L×W×H/139 in inches (CM converted), rounded up to the next whole
 * pound, at least 1.
 *
 * @throws Error when a weight or dimension is not a non-negative number
 */
export function billableWeightLbs(pkg: RatablePackage): number {
  const weight = measure(pkg.PackageWeight?.Weight, 'weight') ?? 0;
  const actualLbs =
    pkg.PackageWeight?.UnitOfMeasurement?.Code?.toUpperCase() === 'KGS' ? weight * KG_TO_LB : weight;

  let dimLbs = 0;
  const d = pkg.Dimensions;
  if (d) {
    const l = measure(d.Length, 'length');
    const w = measure(d.Width, 'width');
    const h = measure(d.Height, 'height');
    if (l !== undefined && w !== undefined && h !== undefined) {
      const toIn = d.UnitOfMeasurement?.Code?.toUpperCase() === 'CM' ? 1 / CM_PER_IN : 1;
      dimLbs = (l * toIn * (w * toIn) * (h * toIn)) / DIM_DIVISOR;
    }
  }
  // The epsilon keeps float noise (e.g. 10×10×13.9/139 = 10.000000000000002) from adding a pound.
  return Math.max(1, Math.ceil(Math.max(actualLbs, dimLbs) - 1e-9));
}

/** The two ends of a lane: countries (any case) and, where known, postal codes. */
export interface LaneEnds {
  originCountry: string;
  originPostalCode?: string;
  destCountry: string;
  destPostalCode?: string;
}

/** Whether both ends are in the US (or PR): the domestic services and zones apply. */
export function isDomesticLane(originCountry: string, destCountry: string): boolean {
  return (
    DOMESTIC_COUNTRIES.has(originCountry.toUpperCase()) && DOMESTIC_COUNTRIES.has(destCountry.toUpperCase())
  );
}

/**
 * The zone of a lane: domestic from the ZIPs ({@link upsZone}); crossing a border, Canada/Mexico 5,
 * Europe 7, elsewhere 8 (by the end that is not the US, else by the destination). A US/PR postal code
 * on the US end of an international lane must still be a ZIP when given.
 *
 * @throws Error `Invalid postal code <zip>` when a domestic ZIP is missing or malformed
 */
export function laneZone(ends: LaneEnds): number {
  const originCountry = ends.originCountry.toUpperCase();
  const destCountry = ends.destCountry.toUpperCase();
  if (isDomesticLane(originCountry, destCountry)) {
    return upsZone(ends.originPostalCode ?? '', ends.destPostalCode ?? '');
  }
  if (DOMESTIC_COUNTRIES.has(originCountry) && ends.originPostalCode !== undefined) {
    zipPrefix(ends.originPostalCode);
  }
  if (DOMESTIC_COUNTRIES.has(destCountry) && ends.destPostalCode !== undefined) {
    zipPrefix(ends.destPostalCode);
  }
  return internationalZone(DOMESTIC_COUNTRIES.has(destCountry) ? originCountry : destCountry);
}

/**
 * Service codes UPS offers on a lane (what a Shop request returns): domestic US (and PR) 01, 02, 03,
 * 12, 13, 14, 59; anything crossing a border 07, 08, 11, 54, 65.
 */
export function laneServices(originCountry: string, destCountry: string): string[] {
  return isDomesticLane(originCountry, destCountry) ? [...DOMESTIC_SERVICES] : [...INTERNATIONAL_SERVICES];
}

/** Whether a service runs on the ground network (no delivery guarantee in the sandbox). */
export function isGroundService(code: string): boolean {
  return GROUND_SERVICES.has(code);
}

interface Lane {
  originCountry: string;
  destCountry: string;
}

function lane(shipment: RatableShipment): Lane {
  return {
    originCountry: (shipment.Shipper?.Address?.CountryCode ?? 'US').toUpperCase(),
    destCountry: (shipment.ShipTo.Address.CountryCode ?? 'US').toUpperCase(),
  };
}

/** Service codes UPS would return for a Shop request of this shipment ({@link laneServices}). */
export function shoppableServices(shipment: RatableShipment): string[] {
  const { originCountry, destCountry } = lane(shipment);
  return laneServices(originCountry, destCountry);
}

/** Published base cents for one package on UPS Ground: 1050 + 85/zone + (40 + 12×zone) per pound. */
function groundBaseCents(zone: number, lbs: number): number {
  return 1_050 + zone * 85 + lbs * (40 + zone * 12);
}

/**
 * UPS business days in transit of a service in a zone: the one model behind Rating's
 * `BusinessDaysInTransit` and the Time in Transit answer. Next Day Air (01, 13, 14) 1; 2nd Day Air
 * (02, 59) 2; 3 Day Select (12) 3; Ground (03) zone − 1 within 1..5; Worldwide Express, Express Plus
 * and Saver (07, 54, 65) 1 up to zone 5, else 2; Expedited (08) 3 or 5; Standard (11) 3 or 6.
 */
export function transitDays(code: string, zone: number): number {
  switch (code) {
    case '03':
      return Math.min(5, Math.max(1, zone - 1));
    case '12':
      return 3;
    case '02':
    case '59':
      return 2;
    case '01':
    case '13':
    case '14':
      return 1;
    case '07':
    case '54':
    case '65':
      return zone <= 5 ? 1 : 2;
    case '08':
      return zone <= 5 ? 3 : 5;
    default: // '11' Standard
      return zone <= 5 ? 3 : 6;
  }
}

/**
 * Price one service for a shipment. Per package: ground base for the zone and billable pounds × the
 * service multiplier, plus the residential surcharge when ShipTo.Address.ResidentialAddressIndicator is
 * present; fuel is 15% of base + residential; negotiated is the published total less 18% (ground) or
 * 25% (air).
 *
 * @throws Error `Invalid service code <code>` when the code is unknown or not offered on this lane
 * @throws Error `Invalid postal code <zip>` when a US/PR postal code is missing (domestic) or malformed
 */
export function quoteService(shipment: RatableShipment, serviceCode: string): ServiceQuote {
  const { originCountry, destCountry } = lane(shipment);
  const offered = laneServices(originCountry, destCountry);
  const multiplier = SERVICE_MULTIPLIER_BP[serviceCode];
  if (multiplier === undefined || !offered.includes(serviceCode)) {
    throw new Error(`Invalid service code ${serviceCode}`);
  }

  const zone = laneZone({
    originCountry,
    originPostalCode: shipment.ShipFrom?.Address?.PostalCode ?? shipment.Shipper?.Address?.PostalCode,
    destCountry,
    destPostalCode: shipment.ShipTo.Address.PostalCode,
  });

  if (shipment.Package.length === 0) throw new Error('Shipment must contain at least one package');
  const ground = GROUND_SERVICES.has(serviceCode);
  const residential = shipment.ShipTo.Address.ResidentialAddressIndicator != null;

  const perPackage = shipment.Package.map((pkg) => {
    const lbs = billableWeightLbs(pkg);
    return { billableWeightLbs: lbs, baseCents: applyBp(groundBaseCents(zone, lbs), multiplier) };
  });
  const baseCents = perPackage.reduce((sum, p) => sum + p.baseCents, 0);
  const residentialSurchargeCents = residential
    ? perPackage.length * (ground ? RESIDENTIAL_GROUND_CENTS : RESIDENTIAL_AIR_CENTS)
    : 0;
  const fuelSurchargeCents = applyBp(baseCents + residentialSurchargeCents, FUEL_BP);
  const publishedCents = baseCents + residentialSurchargeCents + fuelSurchargeCents;
  const discount = applyBp(
    publishedCents,
    ground ? NEGOTIATED_DISCOUNT_GROUND_BP : NEGOTIATED_DISCOUNT_AIR_BP,
  );
  const negotiatedCents = publishedCents - Math.max(1, discount);

  return {
    serviceCode,
    serviceName: serviceName(serviceCode),
    zone,
    billableWeightLbs: perPackage.reduce((sum, p) => sum + p.billableWeightLbs, 0),
    publishedCents,
    negotiatedCents,
    residentialSurchargeCents,
    fuelSurchargeCents,
    businessDaysInTransit: transitDays(serviceCode, zone),
    perPackage,
  };
}

/** Split `total` cents over `weights` proportionally, in integers, so the parts add up exactly. */
function allocate(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) return weights.map((_, i) => (i === 0 ? total : 0));
  const parts = weights.map((w) => Math.floor((total * w) / sum));
  let rest = total - parts.reduce((a, b) => a + b, 0);
  for (let i = 0; rest > 0; i = (i + 1) % parts.length, rest--) parts[i] = (parts[i] ?? 0) + 1;
  return parts;
}

const usd = (cents: number) => charge(cents);
const pounds = (lbs: number) => ({
  UnitOfMeasurement: { Code: 'LBS', Description: 'Pounds' },
  Weight: lbs.toFixed(1),
});

/**
 * One UPS RateResponse `RatedShipment` element (REST JSON shape) for a quote. BaseServiceCharge is the
 * sum of package bases; ItemizedCharges lists the residential (270, when residential) and fuel (375)
 * surcharges; TransportationCharges = base + itemized; ServiceOptionsCharges is 0.00; TotalCharges =
 * transportation + service options. Surcharges are split over RatedPackage entries so those add up to
 * the shipment exactly. Every MonetaryValue comes from integer cents via {@link charge}.
 *
 * @param opts.negotiated - add NegotiatedRateCharges (the account's rate)
 * @param opts.timeInTransit - add a TimeInTransit summary (as for RequestOption Ratetimeintransit)
 */
export function ratedShipment(
  quote: ServiceQuote,
  opts: { negotiated: boolean; timeInTransit?: boolean },
): Record<string, unknown> {
  const bases = quote.perPackage.map((p) => p.baseCents);
  const baseCents = bases.reduce((a, b) => a + b, 0);
  const residential = allocate(
    quote.residentialSurchargeCents,
    bases.map(() => 1),
  );
  const fuel = allocate(
    quote.fuelSurchargeCents,
    bases.map((b, i) => b + (residential[i] ?? 0)),
  );
  const transportationCents = baseCents + quote.residentialSurchargeCents + quote.fuelSurchargeCents;

  const itemized: Array<Record<string, string>> = [];
  if (quote.residentialSurchargeCents > 0)
    itemized.push({ Code: '270', ...usd(quote.residentialSurchargeCents) });
  if (quote.fuelSurchargeCents > 0) itemized.push({ Code: '375', ...usd(quote.fuelSurchargeCents) });

  const days = String(quote.businessDaysInTransit);
  const out: Record<string, unknown> = {
    Service: { Code: quote.serviceCode, Description: quote.serviceName },
    RatedShipmentAlert: [
      { Code: '110971', Description: 'Your invoice may vary from the displayed reference rates' },
    ],
    BillingWeight: pounds(quote.billableWeightLbs),
    TransportationCharges: usd(transportationCents),
    BaseServiceCharge: usd(baseCents),
    ItemizedCharges: itemized,
    ServiceOptionsCharges: usd(0),
    TotalCharges: usd(transportationCents),
  };
  if (opts.negotiated) out.NegotiatedRateCharges = { TotalCharge: usd(quote.negotiatedCents) };
  if (!GROUND_SERVICES.has(quote.serviceCode)) out.GuaranteedDelivery = { BusinessDaysInTransit: days };
  out.RatedPackage = quote.perPackage.map((p, i) => {
    const total = p.baseCents + (residential[i] ?? 0) + (fuel[i] ?? 0);
    return {
      BillingWeight: pounds(p.billableWeightLbs),
      TransportationCharges: usd(total),
      TotalCharges: usd(total),
      Weight: p.billableWeightLbs.toFixed(1),
    };
  });
  if (opts.timeInTransit) {
    out.TimeInTransit = {
      ServiceSummary: {
        Service: { Description: quote.serviceName },
        EstimatedArrival: { BusinessDaysInTransit: days },
      },
    };
  }
  return out;
}
