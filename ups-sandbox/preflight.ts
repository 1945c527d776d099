/**
 * The checks the real ups-mcp server makes on a RateRequest / ShipmentRequest before it calls UPS,
 * as observed by running it side by side with the sandbox (scripts/conformance.ts):
 * 1. canonical form: `Package` and `ShipmentCharge` become lists (non-object elements become `{}`);
 *    a non-object `<Root>`, `Shipment` or `PaymentInformation` is a structural conflict;
 * 2. defaults: RequestOption `nonvalidate` (ship only), charge Type `01`, ShipperNumber and (when no
 *    payer object is given) BillShipper.AccountNumber from UPS_ACCOUNT_NUMBER; setting a default
 *    under a non-object node is a structural conflict (MALFORMED_REQUEST);
 * 3. required fields, by rule: parties, service (not for Shop), payment, packages, state and postal
 *    code for US/CA/PR, international contacts, description, invoice total, international forms
 *    (ship only), a payer for a duties charge (ship only). Two payer objects in the first charge are
 *    an ambiguous payer (MALFORMED_REQUEST); a party that is not an object fails as Python does
 *    (a plain-text AttributeError).
 * The sandbox keeps its own copy of these rules (it imitates an external server: nothing here comes
 * from the project's shipment schema). Here: the order of the checks (3) and the errors they end in;
 * `preflight/canonical.ts` (1, 2), `preflight/rules.ts` and `preflight/international.ts` (the rules
 * of 3), `preflight/dot-path.ts` (reading and setting fields), `preflight/fields.ts` (what is reported).
 */
import { isObj, type JsonObject } from './json';
import { ToolFailure } from './errors';
import { pyStr, pyTruthy } from './python';
import { canonicalize, firstCharge, PAYERS, pyGet, withDefaults } from './preflight/canonical';
import { fieldExists, StructuralConflict } from './preflight/dot-path';
import { missingPayload, type MissingField, type RequestRoot } from './preflight/fields';
import { dutiesMissing, formsMissing } from './preflight/international';
import {
  ADDRESS_RULES,
  chargeTypeRule,
  contactRules,
  descriptionRule,
  EU,
  fromRule,
  invoiceTotalRules,
  PACKAGE_RULES,
  PARTIES,
  partyRules,
  serviceRule,
  type Rule,
} from './preflight/rules';

export type { MissingField, RequestRoot } from './preflight/fields';

type Obj = JsonObject;

/** Two payer objects in the first ShipmentCharge. */
export class AmbiguousPayer extends Error {
  constructor(payers: string[]) {
    super(
      `Ambiguous payer: multiple billing objects present (${payers.join(', ')}). ` +
        'Only one of BillShipper, BillReceiver, BillThirdParty is allowed per charge.',
    );
  }
}

function packagesOf(shipment: Obj): Obj[] {
  const packages = shipment.Package;
  if (Array.isArray(packages)) return packages.length > 0 ? (packages as Obj[]) : [{}];
  if (isObj(packages)) return [packages];
  return [{}];
}

/** The country of a party's address ('' when the party or address is not an object). */
function countryOf(party: unknown): string {
  if (!isObj(party)) return '';
  const address = Object.hasOwn(party, 'Address') ? party.Address : {};
  if (!isObj(address)) return '';
  return pyStr(Object.hasOwn(address, 'CountryCode') ? address.CountryCode : '')
    .trim()
    .toUpperCase();
}

/** How {@link missingFields} reads the request. */
export interface MissingFieldOptions {
  /** rate_shipment's requestoption (Service.Code is not required for Shop/Shoptimeintransit). */
  requestOption?: string;
}

/**
 * The missing required fields of a defaulted body, in the real server's order. Throws
 * {@link AmbiguousPayer}, or a plain-text {@link ToolFailure} where the real server's Python fails.
 */
export function missingFields(input: Obj, root: RequestRoot, opts: MissingFieldOptions = {}): MissingField[] {
  let body: Obj;
  try {
    body = canonicalize(input, root);
  } catch (err) {
    if (err instanceof StructuralConflict) throw new ToolFailure(err.message);
    throw err;
  }
  const s = `${root}.Shipment`;
  const ship = root === 'ShipmentRequest';
  const missing: MissingField[] = [];
  const check = (rule: Rule, data: unknown = body, override: Parameters<typeof fromRule>[1] = {}) => {
    const path = override.path ?? rule.path;
    if (!fieldExists(data, data === body ? path : rule.path)) missing.push(fromRule(rule, override));
  };

  if (ship)
    check({ path: 'ShipmentRequest.Request.RequestOption', key: 'request_option', prompt: 'Request option' });
  for (const rule of partyRules(s)) check(rule);
  const shop = ['shop', 'shoptimeintransit'].includes((opts.requestOption ?? 'Rate').toLowerCase());
  if (ship || !shop) check(serviceRule(s));
  check(chargeTypeRule(s));

  const charge = firstCharge(body, root);
  const payers = PAYERS.filter((p) => Object.hasOwn(charge, p));
  if (payers.length > 1) throw new AmbiguousPayer(payers);
  const payer = payers[0] ?? 'BillShipper';
  check({
    path: `${s}.PaymentInformation.ShipmentCharge[0].${payer}.AccountNumber`,
    key: 'payment_account_number',
    prompt: 'Billing account number',
  });

  const request = pyGet(body, root, {});
  const shipment = pyGet(request, 'Shipment', {}) as Obj;
  const packages = packagesOf(shipment);
  packages.forEach((pkg, i) => {
    for (const rule of PACKAGE_RULES) {
      check(rule, pkg, {
        path: `${s}.Package[${i}].${rule.path}`,
        key: `package_${i + 1}_${rule.key}`,
        prompt: packages.length > 1 ? `Package ${i + 1}: ${rule.prompt}` : rule.prompt,
      });
    }
  });

  for (const { party, key, label } of PARTIES) {
    const address = pyGet(pyGet(shipment, party, {}), 'Address', {});
    if (!isObj(address)) continue;
    const country = pyStr(Object.hasOwn(address, 'CountryCode') ? address.CountryCode : '')
      .trim()
      .toUpperCase();
    if (!['US', 'CA', 'PR'].includes(country)) continue;
    for (const rule of ADDRESS_RULES) {
      check(rule, address, {
        path: `${s}.${party}.Address.${rule.path}`,
        key: `${key}_${rule.key}`,
        prompt: `${label} ${rule.prompt.toLowerCase()}`,
      });
    }
  }

  const origin = countryOf(shipment.ShipFrom) || countryOf(shipment.Shipper);
  const destination = countryOf(shipment.ShipTo);
  const service = isObj(shipment.Service)
    ? pyStr(Object.hasOwn(shipment.Service, 'Code') ? shipment.Service.Code : '').trim()
    : '';
  const international = origin !== '' && destination !== '' && origin !== destination;

  if (international) for (const rule of contactRules(s, 'Shipper')) check(rule);
  if (international || service === '14') for (const rule of contactRules(s, 'ShipTo')) check(rule);

  let letters = false;
  let euStandard = false;
  if (international) {
    // Python's all() stops at the first package that is not a UPS Letter.
    letters = true;
    for (const pkg of packagesOf(shipment)) {
      const packaging = Object.hasOwn(pkg, 'Packaging') ? pkg.Packaging : {};
      const code = pyGet(packaging, 'Code', '');
      if (pyStr(code).trim() !== '01') {
        letters = false;
        break;
      }
    }
    euStandard = EU.has(origin) && EU.has(destination) && service === '11';
    if (!letters && !euStandard) check(descriptionRule(s));
  }

  const returnService = shipment.ReturnService;
  const isReturn = isObj(returnService) && pyTruthy(returnService.Code);
  if (origin === 'US' && (destination === 'CA' || destination === 'PR') && !isReturn) {
    for (const rule of invoiceTotalRules(s)) check(rule);
  }

  if (ship && international) {
    missing.push(...formsMissing(body, shipment, { letters, euStandard, isReturn }));
    missing.push(...dutiesMissing(shipment));
  }
  return missing;
}

/**
 * Defaults on a bare Shipment object, in place (the shape earlier callers use). Throws
 * {@link StructuralConflict} where the real server reports MALFORMED_REQUEST.
 */
export function applyDefaults(shipment: Obj, accountNumber: string | undefined): void {
  const done = withDefaults(
    canonicalize({ RateRequest: { Shipment: shipment } }, 'RateRequest'),
    'RateRequest',
    accountNumber,
  );
  const result = (done.RateRequest as Obj).Shipment as Obj;
  for (const key of Object.keys(shipment)) delete shipment[key];
  Object.assign(shipment, result);
}

/**
 * The missing fields of a bare Shipment object under `root` (the shape earlier callers use);
 * `serviceRequired: false` checks it as a Shop request. Request.RequestOption is taken as given.
 */
export function findMissingFields(
  shipment: Obj,
  root: RequestRoot,
  opts: { serviceRequired: boolean },
): MissingField[] {
  const request: Obj =
    root === 'ShipmentRequest'
      ? { Request: { RequestOption: 'nonvalidate' }, Shipment: shipment }
      : { Shipment: shipment };
  return missingFields({ [root]: request }, root, { requestOption: opts.serviceRequired ? 'Rate' : 'Shop' });
}

/** MALFORMED_REQUEST for a structural conflict. */
export function malformed(err: StructuralConflict): ToolFailure {
  return new ToolFailure({
    code: 'MALFORMED_REQUEST',
    message: `Request body has structural conflicts: ${err.message}`,
    reason: 'malformed_structure',
    missing: [],
  });
}

/** MALFORMED_REQUEST for two payer objects in one charge. */
export function ambiguousPayer(err: AmbiguousPayer): ToolFailure {
  return new ToolFailure({
    code: 'MALFORMED_REQUEST',
    message: err.message,
    reason: 'ambiguous_payer',
    missing: [],
  });
}

/** The error a client without form elicitation gets when fields are missing. */
export function elicitationUnsupported(missing: MissingField[]): ToolFailure {
  return new ToolFailure({
    code: 'ELICITATION_UNSUPPORTED',
    message: `Missing ${missing.length} required field(s) and client does not support form elicitation`,
    reason: 'unsupported',
    missing: missingPayload(missing),
  });
}
