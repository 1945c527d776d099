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
 * from the project's shipment schema).
 */
import { isObj, type JsonObject } from './json';
import { ToolFailure } from './errors';
import { noGetAttribute, pyStr, pyTruthy, pyTypeName } from './python';
import { SERVICE_CHOICES } from './services';

type Obj = JsonObject;

/** The two request kinds the server checks before calling UPS. */
export type RequestRoot = 'RateRequest' | 'ShipmentRequest';

/** A required field that is absent, with what an elicitation form needs to ask for it. */
export interface MissingField {
  dot_path: string;
  flat_key: string;
  prompt: string;
  /** `number`/`integer` fields are asked as numbers. */
  kind: 'string' | 'number' | 'integer';
  /** Allowed codes (and their titles). */
  choices?: readonly (readonly [string, string | undefined])[];
  default?: string;
  maxLength?: number;
  pattern?: string;
  /** Exclusive lower bound. */
  gt?: number;
  /** False for objects/arrays a flat form cannot collect (STRUCTURAL_FIELDS_REQUIRED). */
  elicitable: boolean;
}

/** The `missing` entries of the server's error payloads. */
export function missingPayload(fields: MissingField[]): Obj[] {
  return fields.map((f) => ({ dot_path: f.dot_path, flat_key: f.flat_key, prompt: f.prompt }));
}

/** A structural conflict (Python TypeError in the real server): becomes MALFORMED_REQUEST. */
export class StructuralConflict extends Error {}

/** Two payer objects in the first ShipmentCharge. */
export class AmbiguousPayer extends Error {
  constructor(payers: string[]) {
    super(
      `Ambiguous payer: multiple billing objects present (${payers.join(', ')}). ` +
        'Only one of BillShipper, BillReceiver, BillThirdParty is allowed per charge.',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Dot paths ("A.B[0].C"): presence and assignment with the real server's semantics.

function segments(path: string): { key: string; index?: number }[] {
  return path.split('.').map((seg) => {
    const m = /^([^[]*)\[(\d+)\]$/.exec(seg);
    return m ? { key: m[1]!, index: Number(m[2]) } : { key: seg };
  });
}

/** A value is there: the path resolves, and to neither null nor blank text (0 and false count). */
export function fieldExists(data: unknown, path: string): boolean {
  let cur: unknown = data;
  for (const { key, index } of segments(path)) {
    if (!isObj(cur) || !Object.hasOwn(cur, key)) return false;
    cur = cur[key];
    if (index !== undefined) {
      if (!Array.isArray(cur) || cur.length <= index) return false;
      cur = cur[index];
    }
  }
  if (cur === null || cur === undefined) return false;
  return !(typeof cur === 'string' && cur.trim() === '');
}

/** Set a value, creating missing objects/lists; a node of the wrong type is a structural conflict. */
export function setField(data: Obj, path: string, value: unknown): void {
  const segs = segments(path);
  let cur: Obj = data;
  for (const { key, index } of segs.slice(0, -1)) {
    if (!Object.hasOwn(cur, key)) cur[key] = index === undefined ? {} : [];
    const target = cur[key];
    if (index !== undefined) {
      if (!Array.isArray(target)) {
        throw new StructuralConflict(
          `Expected list at '${key}' in path '${path}', got ${pyTypeName(target)}`,
        );
      }
      while (target.length <= index) target.push({});
      const item: unknown = target[index];
      if (!isObj(item)) {
        throw new StructuralConflict(
          `Expected dict at '${key}[${index}]' in path '${path}', got ${pyTypeName(item)}`,
        );
      }
      cur = item;
    } else {
      if (!isObj(target)) {
        throw new StructuralConflict(
          `Expected dict at '${key}' in path '${path}', got ${pyTypeName(target)}`,
        );
      }
      cur = target;
    }
  }
  const last = segs.at(-1)!;
  if (last.index === undefined) {
    cur[last.key] = value;
    return;
  }
  if (!Object.hasOwn(cur, last.key)) cur[last.key] = [];
  const list = cur[last.key];
  if (!Array.isArray(list)) {
    throw new StructuralConflict(`Expected list at '${last.key}' in path '${path}', got ${pyTypeName(list)}`);
  }
  while (list.length <= last.index) list.push(null);
  list[last.index] = value;
}

/** `obj.get(key, fallback)` on something that must be a dict, failing like Python when it is not. */
function pyGet(obj: unknown, key: string, fallback: unknown): unknown {
  if (!isObj(obj)) throw new ToolFailure(noGetAttribute(obj));
  return Object.hasOwn(obj, key) ? obj[key] : fallback;
}

// ---------------------------------------------------------------------------------------------
// Canonical form and defaults

function listField(container: Obj, key: string): void {
  if (!Object.hasOwn(container, key)) return;
  const value = container[key];
  if (isObj(value)) container[key] = [value];
  else if (Array.isArray(value))
    container[key] = value.length === 0 ? [{}] : value.map((e) => (isObj(e) ? e : {}));
  else container[key] = [{}];
}

/** A deep copy with Package and ShipmentCharge as lists; throws {@link StructuralConflict}. */
export function canonicalize(body: unknown, root: RequestRoot): Obj {
  const result = structuredClone(body);
  if (!isObj(result))
    throw new StructuralConflict(`Expected dict at request body root, got ${pyTypeName(result)}`);
  const request = result[root];
  if (request === null || request === undefined) return result;
  if (!isObj(request)) throw new StructuralConflict(`Expected dict at '${root}', got ${pyTypeName(request)}`);
  const shipment = request.Shipment;
  if (shipment === null || shipment === undefined) return result;
  if (!isObj(shipment)) {
    throw new StructuralConflict(`Expected dict at '${root}.Shipment', got ${pyTypeName(shipment)}`);
  }
  listField(shipment, 'Package');
  const payment = shipment.PaymentInformation;
  if (payment === null || payment === undefined) return result;
  if (!isObj(payment)) {
    throw new StructuralConflict(
      `Expected dict at '${root}.Shipment.PaymentInformation', got ${pyTypeName(payment)}`,
    );
  }
  listField(payment, 'ShipmentCharge');
  return result;
}

const PAYERS = ['BillShipper', 'BillReceiver', 'BillThirdParty'] as const;

/** The first ShipmentCharge as the real server reads it (missing nodes read as empty). */
function firstCharge(body: Obj, root: RequestRoot): Obj {
  const request = Object.hasOwn(body, root) ? body[root] : {};
  const shipment = pyGet(request, 'Shipment', {});
  const payment = pyGet(shipment, 'PaymentInformation', {});
  const charges = pyGet(payment, 'ShipmentCharge', [{}]);
  const first: unknown = Array.isArray(charges) ? (charges.length > 0 ? charges[0] : {}) : charges;
  return isObj(first) ? first : {};
}

/** Defaults applied to a canonical body (a new copy); throws {@link StructuralConflict}. */
export function withDefaults(canonical: Obj, root: RequestRoot, accountNumber: string | undefined): Obj {
  const body = structuredClone(canonical);
  const builtIn: [string, string][] = [
    ...(root === 'ShipmentRequest'
      ? [[`${root}.Request.RequestOption`, 'nonvalidate'] as [string, string]]
      : []),
    [`${root}.Shipment.PaymentInformation.ShipmentCharge[0].Type`, '01'],
  ];
  for (const [path, value] of builtIn) if (!fieldExists(body, path)) setField(body, path, value);
  if (accountNumber) {
    const shipperNumber = `${root}.Shipment.Shipper.ShipperNumber`;
    if (!fieldExists(body, shipperNumber)) setField(body, shipperNumber, accountNumber);
    const billShipper = `${root}.Shipment.PaymentInformation.ShipmentCharge[0].BillShipper.AccountNumber`;
    const charge = firstCharge(body, root);
    if (!PAYERS.some((p) => Object.hasOwn(charge, p)) && !fieldExists(body, billShipper)) {
      setField(body, billShipper, accountNumber);
    }
  }
  return body;
}

// ---------------------------------------------------------------------------------------------
// Rules

interface Rule extends Omit<MissingField, 'dot_path' | 'flat_key' | 'prompt' | 'elicitable' | 'kind'> {
  path: string;
  key: string;
  prompt: string;
  kind?: MissingField['kind'];
}

const COUNTRY = { maxLength: 2, pattern: '^[A-Z]{2}$' };
const CURRENCY = { maxLength: 3, pattern: '^[A-Z]{3}$' };

function partyRules(s: string): Rule[] {
  return [
    { path: `${s}.Shipper.Name`, key: 'shipper_name', prompt: 'Shipper name' },
    { path: `${s}.Shipper.ShipperNumber`, key: 'shipper_number', prompt: 'UPS account number' },
    {
      path: `${s}.Shipper.Address.AddressLine[0]`,
      key: 'shipper_address_line_1',
      prompt: 'Shipper street address',
    },
    { path: `${s}.Shipper.Address.City`, key: 'shipper_city', prompt: 'Shipper city' },
    {
      path: `${s}.Shipper.Address.CountryCode`,
      key: 'shipper_country_code',
      prompt: 'Shipper country code',
      ...COUNTRY,
    },
    { path: `${s}.ShipTo.Name`, key: 'ship_to_name', prompt: 'Recipient name' },
    {
      path: `${s}.ShipTo.Address.AddressLine[0]`,
      key: 'ship_to_address_line_1',
      prompt: 'Recipient street address',
    },
    { path: `${s}.ShipTo.Address.City`, key: 'ship_to_city', prompt: 'Recipient city' },
    {
      path: `${s}.ShipTo.Address.CountryCode`,
      key: 'ship_to_country_code',
      prompt: 'Recipient country code',
      ...COUNTRY,
    },
  ];
}

const serviceRule = (s: string): Rule => ({
  path: `${s}.Service.Code`,
  key: 'service_code',
  prompt: 'UPS service type',
  choices: SERVICE_CHOICES,
});

const chargeTypeRule = (s: string): Rule => ({
  path: `${s}.PaymentInformation.ShipmentCharge[0].Type`,
  key: 'payment_charge_type',
  prompt: 'Shipment charge type',
  choices: [
    ['01', 'Transportation'],
    ['02', 'Duties and Taxes'],
  ],
  default: '01',
});

const PACKAGE_RULES: Rule[] = [
  {
    path: 'Packaging.Code',
    key: 'packaging_code',
    prompt: 'Packaging type code',
    choices: [
      ['02', 'Customer Supplied Package'],
      ['01', 'UPS Letter'],
      ['03', 'Tube'],
      ['04', 'PAK'],
      ['21', 'UPS Express Box'],
      ['24', 'UPS 25KG Box'],
      ['25', 'UPS 10KG Box'],
    ],
    default: '02',
  },
  {
    path: 'PackageWeight.UnitOfMeasurement.Code',
    key: 'weight_unit',
    prompt: 'Weight unit',
    choices: [
      ['LBS', undefined],
      ['KGS', undefined],
    ],
    default: 'LBS',
  },
  { path: 'PackageWeight.Weight', key: 'weight', prompt: 'Package weight', kind: 'number', gt: 0 },
];

const ADDRESS_RULES: Rule[] = [
  { path: 'StateProvinceCode', key: 'state', prompt: 'State/province code', ...COUNTRY },
  { path: 'PostalCode', key: 'postal_code', prompt: 'Postal code' },
];

const contactRules = (s: string, party: 'Shipper' | 'ShipTo'): Rule[] => {
  const [key, label] = party === 'Shipper' ? ['shipper', 'Shipper'] : ['ship_to', 'Recipient'];
  return [
    {
      path: `${s}.${party}.AttentionName`,
      key: `${key}_attention_name`,
      prompt: `${label} attention name`,
      maxLength: 35,
    },
    {
      path: `${s}.${party}.Phone.Number`,
      key: `${key}_phone`,
      prompt: `${label} phone number`,
      maxLength: 15,
    },
  ];
};

const descriptionRule = (s: string): Rule => ({
  path: `${s}.Description`,
  key: 'shipment_description',
  prompt: 'Description of goods (required for international)',
  maxLength: 50,
});

const invoiceTotalRules = (s: string): Rule[] => [
  {
    path: `${s}.InvoiceLineTotal.CurrencyCode`,
    key: 'invoice_currency_code',
    prompt: 'Invoice currency code (e.g. USD)',
    ...CURRENCY,
  },
  {
    path: `${s}.InvoiceLineTotal.MonetaryValue`,
    key: 'invoice_monetary_value',
    prompt: 'Invoice total monetary value',
    maxLength: 11,
    pattern: '^\\d+(\\.\\d{1,2})?$',
  },
];

const FORMS = 'ShipmentRequest.Shipment.ShipmentServiceOptions.InternationalForms';
const FORM_TYPES: [string, string][] = [
  ['01', 'Invoice'],
  ['03', 'CO (Certificate of Origin)'],
  ['04', 'USMCA'],
  ['05', 'Partial Invoice (returns only)'],
  ['06', 'Packing List'],
  ['07', 'Customer Generated Forms'],
  ['08', 'Air Freight Packing List'],
  ['09', 'CN22 Form'],
  ['10', 'UPS Premium Care Form'],
  ['11', 'EEI'],
];
/** The example the real server's guidance shows (printed with Python's separators). */
const FORMS_EXAMPLE = {
  ShipmentServiceOptions: {
    InternationalForms: {
      FormType: '01',
      CurrencyCode: 'USD',
      ReasonForExport: 'SALE',
      InvoiceNumber: 'INV-001',
      InvoiceDate: '20260216',
      Product: [
        {
          Description: 'Electronics',
          Unit: { Number: '1', Value: '100', UnitOfMeasurement: { Code: 'PCS' } },
          CommodityCode: '8471.30',
          OriginCountryCode: 'US',
        },
      ],
    },
  },
};
const FORMS_WITH_PRODUCTS = new Set(['01', '03', '04', '05', '06', '08', '11']);
const FORMS_WITH_CURRENCY = new Set(['01', '05']);

const FORM_RULES = {
  formType: {
    path: `${FORMS}.FormType`,
    key: 'intl_forms_form_type',
    prompt: 'International form type',
    choices: FORM_TYPES,
  },
  currency: {
    path: `${FORMS}.CurrencyCode`,
    key: 'intl_forms_currency_code',
    prompt: 'Currency code for international forms (e.g. USD, EUR, GBP)',
    ...CURRENCY,
  },
  reason: {
    path: `${FORMS}.ReasonForExport`,
    key: 'intl_forms_reason_for_export',
    prompt: 'Reason for export',
    choices: [
      ['SALE', 'Sale'],
      ['GIFT', 'Gift'],
      ['SAMPLE', 'Sample'],
      ['RETURN', 'Return'],
      ['REPAIR', 'Repair'],
      ['INTERCOMPANYDATA', 'Intercompany Data'],
    ],
  },
  invoiceNumber: {
    path: `${FORMS}.InvoiceNumber`,
    key: 'intl_forms_invoice_number',
    prompt: 'Commercial invoice number',
    maxLength: 35,
  },
  invoiceDate: {
    path: `${FORMS}.InvoiceDate`,
    key: 'intl_forms_invoice_date',
    prompt: 'Invoice date (YYYYMMDD format)',
    maxLength: 8,
    pattern: '^\\d{8}$',
  },
  eei: {
    path: `${FORMS}.EEIFilingOption.Code`,
    key: 'eei_filing_code',
    prompt: 'EEI filing option',
    choices: [
      ['1', 'Shipper Filed'],
      ['2', 'AES Direct'],
      ['3', 'UPS Filed'],
    ],
  },
} satisfies Record<string, Rule>;

const SOLD_TO = `${FORMS}.Contacts.SoldTo`;
const SOLD_TO_RULES: Rule[] = [
  { path: `${SOLD_TO}.Name`, key: 'sold_to_name', prompt: 'Sold-to party name', maxLength: 35 },
  {
    path: `${SOLD_TO}.AttentionName`,
    key: 'sold_to_attention_name',
    prompt: 'Sold-to attention name',
    maxLength: 35,
  },
  { path: `${SOLD_TO}.Phone.Number`, key: 'sold_to_phone', prompt: 'Sold-to phone number', maxLength: 15 },
  { path: `${SOLD_TO}.Address.AddressLine`, key: 'sold_to_address_line', prompt: 'Sold-to street address' },
  { path: `${SOLD_TO}.Address.City`, key: 'sold_to_city', prompt: 'Sold-to city' },
  {
    path: `${SOLD_TO}.Address.CountryCode`,
    key: 'sold_to_country_code',
    prompt: 'Sold-to country code',
    ...COUNTRY,
  },
];

/** One Product of the forms, asked item by item (product_1_description, ...). */
export const PRODUCT_ITEM_RULES: Rule[] = [
  { path: 'Description', key: 'description', prompt: 'Product description', maxLength: 35 },
  { path: 'Unit.Number', key: 'quantity', prompt: 'Quantity', kind: 'integer', gt: 0 },
  { path: 'Unit.Value', key: 'value', prompt: 'Unit value ($)', kind: 'number', gt: 0 },
  {
    path: 'Unit.UnitOfMeasurement.Code',
    key: 'unit_code',
    prompt: 'Unit of measure',
    choices: [
      ['PCS', 'Pieces'],
      ['BOX', 'Box'],
      ['DZ', 'Dozen'],
      ['EA', 'Each'],
      ['KG', 'Kilogram'],
      ['LB', 'Pound'],
      ['PR', 'Pair'],
    ],
    default: 'PCS',
  },
  { path: 'OriginCountryCode', key: 'origin_country', prompt: 'Country of origin', ...COUNTRY },
];
const MAX_PRODUCTS = 10;

const EU = new Set(
  'AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE'.split(' '),
);

function fromRule(rule: Rule, override: { path?: string; key?: string; prompt?: string } = {}): MissingField {
  const { path, key, prompt, kind, ...meta } = rule;
  return {
    ...meta,
    dot_path: override.path ?? path,
    flat_key: override.key ?? key,
    prompt: override.prompt ?? prompt,
    kind: kind ?? 'string',
    elicitable: true,
  };
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

  for (const [party, key, label] of [
    ['Shipper', 'shipper', 'Shipper'],
    ['ShipTo', 'ship_to', 'Recipient'],
  ] as const) {
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

function formsMissing(
  body: Obj,
  shipment: Obj,
  opts: { letters: boolean; euStandard: boolean; isReturn: boolean },
): MissingField[] {
  const missing: MissingField[] = [];
  const options = shipment.ShipmentServiceOptions;
  const forms = isObj(options) && isObj(options.InternationalForms) ? options.InternationalForms : undefined;
  if (!forms) {
    if (!opts.letters && !opts.euStandard) {
      missing.push({
        dot_path: FORMS,
        flat_key: 'intl_forms_required',
        prompt:
          'International shipments require InternationalForms. Add ShipmentServiceOptions.InternationalForms ' +
          "to request_body with at least: FormType (e.g. '01' for Invoice), CurrencyCode, ReasonForExport, " +
          `and a Product array. Example structure: ${JSON.stringify(FORMS_EXAMPLE).replaceAll('":', '": ').replaceAll(',"', ', "')}`,
        kind: 'string',
        elicitable: false,
      });
    }
    return missing;
  }
  const raw = forms.FormType;
  const types =
    typeof raw === 'string'
      ? [raw]
      : Array.isArray(raw)
        ? raw.filter(pyTruthy).map((t) => pyStr(t).trim())
        : [];
  const check = (rule: Rule, data: unknown, sub: string) => {
    if (!fieldExists(data, sub)) missing.push(fromRule(rule));
  };
  if (types.length === 0) missing.push(fromRule(FORM_RULES.formType));
  if (types.some((t) => FORMS_WITH_PRODUCTS.has(t))) missing.push(...productsMissing(body));
  if (types.some((t) => FORMS_WITH_CURRENCY.has(t))) check(FORM_RULES.currency, forms, 'CurrencyCode');
  if (types.includes('01')) {
    check(FORM_RULES.reason, forms, 'ReasonForExport');
    check(FORM_RULES.invoiceNumber, forms, 'InvoiceNumber');
    if (!opts.isReturn) check(FORM_RULES.invoiceDate, forms, 'InvoiceDate');
  }
  if (types.includes('01') || types.includes('04')) {
    for (const rule of SOLD_TO_RULES) if (!fieldExists(body, rule.path)) missing.push(fromRule(rule));
  }
  if (types.includes('11')) {
    const eei = forms.EEIFilingOption;
    if (!isObj(eei) || !pyTruthy(eei.Code)) missing.push(fromRule(FORM_RULES.eei));
  }
  return missing;
}

/** Product[] of the forms, item by item (at least one item, at most ten). */
function productsMissing(body: Obj): MissingField[] {
  let cur: unknown = body;
  for (const key of `${FORMS}.Product`.split('.'))
    cur = isObj(cur) && Object.hasOwn(cur, key) ? cur[key] : undefined;
  const items: Obj[] = isObj(cur) ? [cur] : Array.isArray(cur) ? cur.map((e) => (isObj(e) ? e : {})) : [];
  const count = Math.min(Math.max(items.length, 1), MAX_PRODUCTS);
  const missing: MissingField[] = [];
  for (let i = 0; i < count; i++) {
    const item = items[i] ?? {};
    for (const rule of PRODUCT_ITEM_RULES) {
      if (!fieldExists(item, rule.path)) {
        missing.push(
          fromRule(rule, {
            path: `${FORMS}.Product[${i}].${rule.path}`,
            key: `product_${i + 1}_${rule.key}`,
            prompt: `Item ${i + 1}: ${rule.prompt}`,
          }),
        );
      }
    }
  }
  return missing;
}

/** A duties-and-taxes charge (second charge, Type 02) needs a payer object. */
function dutiesMissing(shipment: Obj): MissingField[] {
  const payment = isObj(shipment.PaymentInformation) ? shipment.PaymentInformation : {};
  const charges = payment.ShipmentCharge;
  if (!Array.isArray(charges) || charges.length < 2) return [];
  const second: Obj = isObj(charges[1]) ? charges[1] : {};
  if (pyStr(Object.hasOwn(second, 'Type') ? second.Type : '').trim() !== '02') return [];
  if (PAYERS.some((p) => Object.hasOwn(second, p))) return [];
  return [
    {
      dot_path: 'ShipmentRequest.Shipment.PaymentInformation.ShipmentCharge[1]',
      flat_key: 'duties_payer_required',
      prompt:
        "Duties and Taxes charge (ShipmentCharge[1] Type '02') requires a payer. " +
        'Add BillShipper, BillReceiver, or BillThirdParty with AccountNumber.',
      kind: 'string',
      elicitable: false,
    },
  ];
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
