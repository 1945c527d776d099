/**
 * The required-field rules of the real server, as data: parties, service, payment, packages, US/CA/PR
 * addresses, international contacts, description and invoice total. The sandbox keeps its own copy
 * (it imitates an external server: nothing here comes from the project's shipment schema).
 */
import { SERVICE_CHOICES } from '../services';
import type { MissingField } from './fields';

/** One required field: where it is, its form key and prompt, and what the form may accept. */
export interface Rule extends Omit<MissingField, 'dot_path' | 'flat_key' | 'prompt' | 'elicitable' | 'kind'> {
  path: string;
  key: string;
  prompt: string;
  kind?: MissingField['kind'];
}

/** Constraints of a country code and a currency code. */
export const COUNTRY = { maxLength: 2, pattern: '^[A-Z]{2}$' };
export const CURRENCY = { maxLength: 3, pattern: '^[A-Z]{3}$' };

/** The two parties, with the key prefix and the label the real server's fields and prompts use. */
export const PARTIES = [
  { party: 'Shipper', key: 'shipper', label: 'Shipper' },
  { party: 'ShipTo', key: 'ship_to', label: 'Recipient' },
] as const;

/** Shipper and ShipTo: names (and the shipper number), first address line, city and country. */
export function partyRules(s: string): Rule[] {
  return PARTIES.flatMap(({ party, key, label }): Rule[] => [
    { path: `${s}.${party}.Name`, key: `${key}_name`, prompt: `${label} name` },
    ...(party === 'Shipper'
      ? [{ path: `${s}.Shipper.ShipperNumber`, key: 'shipper_number', prompt: 'UPS account number' }]
      : []),
    {
      path: `${s}.${party}.Address.AddressLine[0]`,
      key: `${key}_address_line_1`,
      prompt: `${label} street address`,
    },
    { path: `${s}.${party}.Address.City`, key: `${key}_city`, prompt: `${label} city` },
    {
      path: `${s}.${party}.Address.CountryCode`,
      key: `${key}_country_code`,
      prompt: `${label} country code`,
      ...COUNTRY,
    },
  ]);
}

/** Service.Code, one of the real server's service choices. */
export const serviceRule = (s: string): Rule => ({
  path: `${s}.Service.Code`,
  key: 'service_code',
  prompt: 'UPS service type',
  choices: SERVICE_CHOICES,
});

/** The first ShipmentCharge's Type. */
export const chargeTypeRule = (s: string): Rule => ({
  path: `${s}.PaymentInformation.ShipmentCharge[0].Type`,
  key: 'payment_charge_type',
  prompt: 'Shipment charge type',
  choices: [
    ['01', 'Transportation'],
    ['02', 'Duties and Taxes'],
  ],
  default: '01',
});

/** Per package (paths relative to the package). */
export const PACKAGE_RULES: Rule[] = [
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

/** State and postal code of a US, CA or PR address (paths relative to the address). */
export const ADDRESS_RULES: Rule[] = [
  { path: 'StateProvinceCode', key: 'state', prompt: 'State/province code', ...COUNTRY },
  { path: 'PostalCode', key: 'postal_code', prompt: 'Postal code' },
];

/** Attention name and phone of a party (international, or ShipTo for service 14). */
export const contactRules = (s: string, party: 'Shipper' | 'ShipTo'): Rule[] => {
  const { key, label } = PARTIES.find((p) => p.party === party)!;
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

/** Description of goods (international, unless only letters or EU Standard). */
export const descriptionRule = (s: string): Rule => ({
  path: `${s}.Description`,
  key: 'shipment_description',
  prompt: 'Description of goods (required for international)',
  maxLength: 50,
});

/** InvoiceLineTotal (US to CA or PR, not for returns). */
export const invoiceTotalRules = (s: string): Rule[] => [
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

/** EU member states (UPS Standard within the EU needs no description). */
export const EU = new Set(
  'AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE'.split(' '),
);

/** The {@link MissingField} a rule reports, at its own path or the one given. */
export function fromRule(
  rule: Rule,
  override: { path?: string; key?: string; prompt?: string } = {},
): MissingField {
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
