/**
 * Conformance cases for rate shopping: get_time_in_transit (the real tool checks only its arguments'
 * types before it sends `request_body` to UPS as it is) and rate_shipment with Shop / Shoptimeintransit
 * (no service required; any service given is not looked at).
 */
import { call, rate, rateBody, shipment, shipTo } from './builders';
import type { ConformanceCase } from './builders';

/** A complete domestic Time in Transit request (Atlanta → Austin), no ship date: today. */
export function transitBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    originCountryCode: 'US',
    originPostalCode: '30303',
    destinationCountryCode: 'US',
    destinationPostalCode: '78701',
    weight: '5.0',
    weightUnitOfMeasure: 'LBS',
    numberOfPackages: '1',
    ...over,
  };
}

const transit = (name: string, kind: ConformanceCase['kind'], args: unknown): ConformanceCase =>
  call('get_time_in_transit', name, kind, args);

/** Argument parsing (pydantic, before UPS). */
export const TRANSIT_ARGUMENT_CASES: ConformanceCase[] = [
  transit('no arguments', 'arguments', {}),
  transit('body fields as arguments of their own', 'arguments', transitBody()),
  transit('request_body not JSON', 'arguments', { request_body: 'US to US' }),
  transit('request_body as a JSON list string', 'arguments', {
    request_body: '[{"originCountryCode": "US"}]',
  }),
  transit('request_body null', 'arguments', { request_body: null }),
  transit('request_body a long text', 'arguments', { request_body: 'y'.repeat(5_000) }),
  transit('request_body as a JSON string', 'arguments', { request_body: JSON.stringify(transitBody()) }),
  transit('version null', 'arguments', { request_body: transitBody(), version: null }),
  transit('version a number', 'arguments', { request_body: transitBody(), version: 1 }),
  transit('trans_id a number', 'arguments', { request_body: transitBody(), trans_id: 42 }),
  transit('transaction_src a list', 'arguments', { request_body: transitBody(), transaction_src: ['a'] }),
];

/** What goes to UPS as it is (the real server refuses none of these). */
export const TRANSIT_LOCAL_VS_UPS_CASES: ConformanceCase[] = [
  transit('complete domestic request', 'local_vs_ups', { request_body: transitBody() }),
  transit('complete international request', 'local_vs_ups', {
    request_body: transitBody({
      destinationCountryCode: 'GB',
      destinationPostalCode: 'SW1A 2AA',
      billType: '03',
      shipmentContentsValue: '100',
      shipmentContentsCurrencyCode: 'USD',
    }),
  }),
  transit('request_body {}', 'local_vs_ups', { request_body: {} }),
  transit('originCountryCode only', 'local_vs_ups', { request_body: { originCountryCode: 'US' } }),
  transit('fields of the wrong JSON types', 'local_vs_ups', {
    request_body: transitBody({ weight: { value: 5 }, originPostalCode: ['30303'], numberOfPackages: 'one' }),
  }),
  transit('a 100,000-character postal code', 'local_vs_ups', {
    request_body: transitBody({ destinationPostalCode: '7'.repeat(100_000) }),
  }),
  transit('unknown country code', 'local_vs_ups', {
    request_body: transitBody({
      destinationCountryCode: 'ZZ',
      billType: '03',
      shipmentContentsValue: 1,
      shipmentContentsCurrencyCode: 'USD',
    }),
  }),
  transit('unknown argument idempotency_key is ignored', 'local_vs_ups', {
    request_body: transitBody(),
    idempotency_key: 'k-1',
  }),
  transit('empty version and trans_id', 'local_vs_ups', {
    request_body: transitBody(),
    version: '',
    trans_id: '',
  }),
];

/** Shop and Shoptimeintransit: what the real server requires, and what it leaves to UPS. */
export const SHOP_CASES: ConformanceCase[] = [
  rate('Shop with request_body {}', 'rules', {}, 'Shop'),
  rate(
    'Shoptimeintransit without Service',
    'local_vs_ups',
    rateBody(shipment({ Service: undefined })),
    'Shoptimeintransit',
  ),
  rate(
    'Shop with an unknown service code',
    'local_vs_ups',
    rateBody(shipment({ Service: { Code: '99' } })),
    'Shop',
  ),
  rate(
    'Shop to a residential address',
    'local_vs_ups',
    rateBody(
      shipment({
        Service: undefined,
        ShipTo: {
          ...shipTo(),
          Address: { ...(shipTo().Address as object), ResidentialAddressIndicator: '' },
        },
      }),
    ),
    'Shop',
  ),
  rate('Shop without packaging', 'rules', rateBody(shipment({ Service: undefined, Package: [{}] })), 'SHOP'),
  rate(
    'requestoption "shopping" is not Shop: a service is required',
    'rules',
    rateBody(shipment({ Service: undefined })),
    'shopping',
  ),
];
