/**
 * The checks the real ups-mcp server makes before it calls UPS for rate_shipment and create_shipment:
 * defaults (charge type 01, shipper number and BillShipper account from UPS_ACCOUNT_NUMBER), required
 * fields (reported to a client without form elicitation as ELICITATION_UNSUPPORTED with the missing
 * fields' paths), and an ambiguous payer (MALFORMED_REQUEST).
 */
import { asList, isObj, isPresent, type JsonObject } from '../domain/json';
import { ToolFailure } from './errors';

type Obj = JsonObject;

export interface MissingField {
  dot_path: string;
  flat_key: string;
  prompt: string;
}

function get(root: unknown, path: (string | number)[]): unknown {
  let cur = root;
  for (const key of path) {
    if (typeof key === 'number') cur = Array.isArray(cur) ? cur[key] : undefined;
    else cur = isObj(cur) ? cur[key] : undefined;
  }
  return cur;
}

const PAYERS = ['BillShipper', 'BillReceiver', 'BillThirdParty'] as const;
const NEEDS_STATE = new Set(['US', 'CA', 'PR']);

/**
 * Make Package and ShipmentCharge lists and fill the defaults in place (as the real server does).
 * Throws MALFORMED_REQUEST for a charge with more than one payer.
 */
export function applyDefaults(shipment: Obj, accountNumber: string | undefined): void {
  shipment.Package = asList(shipment.Package);
  const payment = isObj(shipment.PaymentInformation) ? shipment.PaymentInformation : {};
  shipment.PaymentInformation = payment;
  const charges = asList(payment.ShipmentCharge);
  if (charges.length === 0) charges.push({});
  payment.ShipmentCharge = charges;
  const first = charges[0];
  if (!isObj(first)) {
    throw new ToolFailure({
      code: 'MALFORMED_REQUEST',
      message: 'Request body has structural conflicts: ShipmentCharge must be an object',
      reason: 'malformed_structure',
      missing: [],
    });
  }
  first.Type ??= '01';
  for (const charge of charges) {
    if (!isObj(charge)) continue;
    const payers = PAYERS.filter((p) => charge[p] !== undefined);
    if (payers.length > 1) {
      throw new ToolFailure({
        code: 'MALFORMED_REQUEST',
        message: `Ambiguous payer: multiple billing objects present (${payers.join(', ')}). Only one of BillShipper, BillReceiver, BillThirdParty is allowed per charge.`,
        reason: 'ambiguous_payer',
        missing: [],
      });
    }
  }
  if (accountNumber) {
    const shipper = isObj(shipment.Shipper) ? shipment.Shipper : (shipment.Shipper = {});
    if (isObj(shipper) && !isPresent(shipper.ShipperNumber)) shipper.ShipperNumber = accountNumber;
    if (!PAYERS.some((p) => first[p] !== undefined)) first.BillShipper = { AccountNumber: accountNumber };
  }
}

/** Required fields that are missing, with the real server's flat keys and dot paths. */
export function findMissingFields(
  shipment: Obj,
  root: 'RateRequest' | 'ShipmentRequest',
  opts: { serviceRequired: boolean },
): MissingField[] {
  const missing: MissingField[] = [];
  const need = (path: (string | number)[], flatKey: string, prompt: string) => {
    if (!isPresent(get(shipment, path))) {
      const dot = path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');
      missing.push({ dot_path: `${root}.Shipment${dot}`, flat_key: flatKey, prompt });
    }
  };
  for (const [party, key, label] of [
    ['Shipper', 'shipper', 'Shipper'],
    ['ShipTo', 'ship_to', 'Ship-to'],
  ] as const) {
    need([party, 'Name'], `${key}_name`, `${label} name`);
    if (party === 'Shipper') need([party, 'ShipperNumber'], 'shipper_number', 'UPS shipper account number');
    need([party, 'Address', 'AddressLine', 0], `${key}_address_line_1`, `${label} address line 1`);
    need([party, 'Address', 'City'], `${key}_city`, `${label} city`);
    need([party, 'Address', 'CountryCode'], `${key}_country_code`, `${label} country code`);
    const country = get(shipment, [party, 'Address', 'CountryCode']);
    if (typeof country === 'string' && NEEDS_STATE.has(country.toUpperCase())) {
      need([party, 'Address', 'StateProvinceCode'], `${key}_state`, `${label} state/province code`);
      need([party, 'Address', 'PostalCode'], `${key}_postal_code`, `${label} postal code`);
    }
  }
  if (opts.serviceRequired) need(['Service', 'Code'], 'service_code', 'UPS service code');
  need(['PaymentInformation', 'ShipmentCharge', 0, 'Type'], 'payment_charge_type', 'Payment charge type');
  const charge = get(shipment, ['PaymentInformation', 'ShipmentCharge', 0]);
  const payer = PAYERS.find((p) => isObj(charge) && charge[p] !== undefined) ?? 'BillShipper';
  need(
    ['PaymentInformation', 'ShipmentCharge', 0, payer, 'AccountNumber'],
    'payment_account_number',
    'Billing account number',
  );
  asList(shipment.Package).forEach((_pkg, i) => {
    need(['Package', i, 'Packaging', 'Code'], `package_${i + 1}_packaging_code`, 'Packaging type code');
    need(
      ['Package', i, 'PackageWeight', 'UnitOfMeasurement', 'Code'],
      `package_${i + 1}_weight_unit`,
      'Weight unit (LBS or KGS)',
    );
    need(['Package', i, 'PackageWeight', 'Weight'], `package_${i + 1}_weight`, 'Package weight');
  });
  if (asList(shipment.Package).length === 0) {
    need(['Package', 0, 'Packaging', 'Code'], 'package_1_packaging_code', 'Packaging type code');
  }
  return missing;
}

/** The error a client without form elicitation gets when fields are missing. */
export function elicitationUnsupported(missing: MissingField[]): ToolFailure {
  return new ToolFailure({
    code: 'ELICITATION_UNSUPPORTED',
    message: `Missing ${missing.length} required field(s) and client does not support form elicitation`,
    reason: 'unsupported',
    missing,
  });
}
