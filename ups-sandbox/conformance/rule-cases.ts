/**
 * Conformance cases about the required fields of a request body: the rules by lane and service, and
 * the defaults from UPS_ACCOUNT_NUMBER.
 */
import type { JsonObject } from '../json';
import { ACCOUNT, contacts, create, pkg, rate, rateBody, shipBody, shipment, shipTo } from './builders';
import type { ConformanceCase } from './builders';

/** A complete US→GB express shipment with the contacts and description it needs, `extra` added last. */
const toGb = (extra: JsonObject = {}): JsonObject =>
  shipment({ ...contacts, Service: { Code: '07' }, Description: 'Widgets', ...extra });

/** Shipment fields holding these InternationalForms. */
const forms = (InternationalForms: JsonObject): JsonObject => ({
  ShipmentServiceOptions: { InternationalForms },
});

/** One complete Product of the forms. */
const widget = (): JsonObject => ({
  Description: 'Widget',
  Unit: { Number: '1', Value: '10', UnitOfMeasurement: { Code: 'PCS' } },
  OriginCountryCode: 'US',
});
/** Required-field rules. */
export const RULE_CASES: ConformanceCase[] = [
  create('service 14 without ShipTo contact', 'rules', shipBody(shipment({ Service: { Code: '14' } }))),
  rate('service 14 without ShipTo contact', 'rules', rateBody(shipment({ Service: { Code: '14' } }))),
  create('US→CA', 'rules', shipBody(shipment({ ShipTo: shipTo('CA'), Service: { Code: '11' } }))),
  rate('US→CA', 'rules', rateBody(shipment({ ShipTo: shipTo('CA'), Service: { Code: '11' } }))),
  create('US→GB with only a FormType', 'rules', shipBody(toGb(forms({ FormType: '01' })))),
  create('US→GB without InternationalForms', 'rules', shipBody(toGb())),
  create(
    'US→GB UPS Letter is exempt from forms and description',
    'rules',
    shipBody(
      shipment({ ...contacts, Service: { Code: '07' }, Package: [{ ...pkg(), Packaging: { Code: '01' } }] }),
    ),
  ),
  create(
    'US→GB EEI form without filing option',
    'rules',
    shipBody(toGb(forms({ FormType: '11', Product: widget() }))),
  ),
  create(
    'US→GB duties charge without payer',
    'rules',
    shipBody(
      toGb({
        ...forms({ FormType: '09' }),
        PaymentInformation: {
          ShipmentCharge: [{ Type: '01', BillShipper: { AccountNumber: ACCOUNT } }, { Type: '02' }],
        },
      }),
    ),
  ),
  rate(
    'US→GB without contacts',
    'rules',
    rateBody(shipment({ ShipTo: shipTo('GB'), Service: { Code: '07' } })),
  ),
  create(
    'ShipFrom decides the origin',
    'rules',
    shipBody(
      shipment({
        ShipFrom: { Name: 'DC', Address: { AddressLine: ['1 Rue'], City: 'Toronto', CountryCode: 'CA' } },
        ShipTo: shipTo('CA'),
      }),
    ),
  ),
  create(
    'lower-case country still needs state and postal code',
    'rules',
    shipBody(
      shipment({
        ShipTo: {
          Name: 'Bob',
          Address: { AddressLine: ['2 Congress Ave'], City: 'Austin', CountryCode: 'us' },
        },
      }),
    ),
  ),

  create('service 14 as a number', 'rules', shipBody(shipment({ Service: { Code: 14 } }))),
  create(
    'US→CA return: no invoice total',
    'rules',
    shipBody(
      shipment({
        ...contacts,
        ShipTo: { ...shipTo('CA'), AttentionName: 'Bob', Phone: { Number: '4165550100' } },
        Service: { Code: '11' },
        Description: 'Widgets',
        ReturnService: { Code: '9' },
      }),
    ),
  ),
  create('US→GB FormType list with a blank', 'rules', shipBody(toGb(forms({ FormType: ['09', ''] })))),
  create(
    'US→GB two products, the second incomplete',
    'rules',
    shipBody(toGb(forms({ FormType: '06', Product: [widget(), { Description: 'Gadget' }] }))),
  ),
  create(
    'US→GB Packaging a string',
    'rules',
    shipBody(shipment({ ...contacts, Service: { Code: '07' }, Package: [{ ...pkg(), Packaging: '02' }] })),
  ),
  create(
    'weight 0 counts as present',
    'rules',
    shipBody(
      shipment({
        Package: [
          { Packaging: { Code: '02' }, PackageWeight: { UnitOfMeasurement: { Code: 'LBS' }, Weight: 0 } },
        ],
      }),
    ),
  ),
];

/** Defaults from UPS_ACCOUNT_NUMBER. */
export const DEFAULT_CASES: ConformanceCase[] = [
  { ...create('request_body {} with UPS_ACCOUNT_NUMBER', 'defaults', {}), accountNumber: ACCOUNT },
  {
    ...create(
      'BillReceiver present: no BillShipper default',
      'defaults',
      shipBody(shipment({ PaymentInformation: { ShipmentCharge: { BillReceiver: {} } } })),
    ),
    accountNumber: ACCOUNT,
  },
  { ...rate('request_body {} with UPS_ACCOUNT_NUMBER', 'defaults', {}), accountNumber: ACCOUNT },
];
