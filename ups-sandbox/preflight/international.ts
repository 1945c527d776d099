/**
 * What an international shipment needs on top of the required fields (ship only): the
 * InternationalForms its form types call for, item by item, and a payer for a duties-and-taxes charge.
 */
import { isObj, type JsonObject } from '../json';
import { pyStr, pyTruthy } from '../python';
import { PAYERS } from './canonical';
import { fieldExists } from './dot-path';
import type { MissingField } from './fields';
import { COUNTRY, CURRENCY, fromRule, type Rule } from './rules';

type Obj = JsonObject;

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

/** The InternationalForms fields its form types call for (the whole node when it is absent). */
export function formsMissing(
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
export function dutiesMissing(shipment: Obj): MissingField[] {
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
