/**
 * Conformance cases for the pickup tools (rate_pickup, schedule_pickup, cancel_pickup, get_pickup_status):
 * pydantic's argument errors (Literal, int and float arguments besides strings), the real tools' own checks
 * (ready before close as Python compares text, the account for payment by account and for status, the PRN
 * for cancel by PRN) and what they send to UPS as it is.
 */
import { ACCOUNT, call } from './builders';
import type { ConformanceCase } from './builders';

const DAY_MS = 86_400_000;

/** A pickup date two days from now (YYYYMMDD): a future-day pickup whenever the cases run. */
const PICKUP_DATE = new Date(Date.now() + 2 * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '');

/** Complete schedule_pickup arguments (an Atlanta shipper), without an account. */
export function pickupArgs(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pickup_date: PICKUP_DATE,
    ready_time: '0900',
    close_time: '1700',
    address_line: '1 Peachtree St',
    city: 'Atlanta',
    state: 'GA',
    postal_code: '30303',
    country_code: 'US',
    contact_name: 'Ann Shipper',
    phone_number: '4045550100',
    ...over,
  };
}

/** Complete rate_pickup arguments. */
function rateArgs(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pickup_type: 'oncall',
    address_line: '1 Peachtree St',
    city: 'Atlanta',
    state: 'GA',
    postal_code: '30303',
    country_code: 'US',
    pickup_date: PICKUP_DATE,
    ready_time: '0900',
    close_time: '1700',
    ...over,
  };
}

const schedule = (name: string, kind: ConformanceCase['kind'], over: Record<string, unknown>) =>
  call('schedule_pickup', name, kind, pickupArgs(over));
/** With UPS_ACCOUNT_NUMBER set on both servers. */
const withAccount = (c: ConformanceCase): ConformanceCase => ({ ...c, accountNumber: ACCOUNT });

/** Argument parsing (pydantic, before UPS). */
export const PICKUP_ARGUMENT_CASES: ConformanceCase[] = [
  call('schedule_pickup', 'no arguments', 'arguments', {}),
  call('rate_pickup', 'no arguments', 'arguments', {}),
  call('cancel_pickup', 'no arguments', 'arguments', {}),
  call('get_pickup_status', 'no arguments', 'arguments', {}),
  call('get_pickup_status', 'pickup_type in capitals', 'arguments', { pickup_type: 'ONCALL' }),
  call('get_pickup_status', 'pickup_type a number', 'arguments', { pickup_type: 1 }),
  call('get_pickup_status', 'pickup_type "null"', 'arguments', { pickup_type: 'null' }),
  call('get_pickup_status', 'pickup_type a JSON list string', 'arguments', { pickup_type: '["oncall"]' }),
  call('cancel_pickup', 'cancel_by "PRN"', 'arguments', { cancel_by: 'PRN', prn: '1234ABCDEFG' }),
  schedule('five arguments of the wrong kind', 'arguments', {
    quantity: 2.5,
    weight: 'heavy',
    weight_unit: 'lbs',
    residential_indicator: true,
    rate_pickup_indicator: 'y',
  }),
  schedule('quantity "abc", weight null', 'arguments', { quantity: 'abc', weight: null }),
  schedule('quantity "[1]", weight "null"', 'arguments', { quantity: '[1]', weight: 'null' }),
  schedule('quantity 1e21', 'arguments', { quantity: 1e21 }),
  schedule('quantity "1e3"', 'arguments', { quantity: '1e3' }),
  schedule('contact_name and pickup_date numbers', 'arguments', { contact_name: 7, pickup_date: 20261210 }),
  call('rate_pickup', 'service_date_option "04", quantity 2.5', 'arguments', {
    ...rateArgs(),
    service_date_option: '04',
    quantity: 2.5,
  }),
  schedule('padded and underscored numbers are numbers', 'arguments', {
    account_number: ACCOUNT,
    quantity: ' 1_0 ',
    weight: ' 2.5 ',
  }),
  schedule('quantity true is 1', 'arguments', { account_number: ACCOUNT, quantity: true }),
];

/** The real tools' own checks before UPS. */
export const PICKUP_RULE_CASES: ConformanceCase[] = [
  schedule('ready_time after close_time', 'rules', { ready_time: '1700', close_time: '0900' }),
  schedule('ready_time equal to close_time', 'rules', { ready_time: '1200', close_time: '1200' }),
  schedule('"900" is after "1700" as text', 'rules', { ready_time: '900', close_time: '1700' }),
  schedule('empty ready and close times', 'rules', { ready_time: '', close_time: '' }),
  schedule('no account, payment by shipper account', 'rules', {}),
  schedule('no account, payment_method "00"', 'rules', { payment_method: '00' }),
  withAccount(schedule('account from UPS_ACCOUNT_NUMBER', 'rules', {})),
  call('cancel_pickup', 'by prn without prn', 'rules', { cancel_by: 'prn' }),
  call('cancel_pickup', 'by account without UPS_ACCOUNT_NUMBER', 'rules', { cancel_by: 'account' }),
  withAccount(call('cancel_pickup', 'by account with UPS_ACCOUNT_NUMBER', 'rules', { cancel_by: 'account' })),
  call('get_pickup_status', 'no account', 'rules', { pickup_type: 'oncall' }),
  call('get_pickup_status', 'account as an argument', 'rules', {
    pickup_type: 'oncall',
    account_number: ACCOUNT,
  }),
  withAccount(call('get_pickup_status', 'account from UPS_ACCOUNT_NUMBER', 'rules', { pickup_type: 'both' })),
  call(
    'rate_pickup',
    'ready after close is not checked',
    'rules',
    rateArgs({ ready_time: '1700', close_time: '0900' }),
  ),
];

/** Sent to UPS as it is (the real tools refuse none of these). */
export const PICKUP_LOCAL_VS_UPS_CASES: ConformanceCase[] = [
  schedule('complete request', 'local_vs_ups', { account_number: ACCOUNT }),
  schedule('a 100,000-character address line', 'local_vs_ups', {
    account_number: ACCOUNT,
    address_line: 'x'.repeat(100_000),
  }),
  schedule('pickup_date not YYYYMMDD', 'local_vs_ups', {
    account_number: ACCOUNT,
    pickup_date: '2026-12-10',
  }),
  schedule('unknown argument idempotency_key is ignored', 'local_vs_ups', {
    account_number: ACCOUNT,
    idempotency_key: 'k-1',
  }),
  call('cancel_pickup', 'unknown PRN', 'local_vs_ups', { cancel_by: 'prn', prn: '1234ABCDEFG' }),
  call('cancel_pickup', 'a 10,000-character PRN', 'local_vs_ups', {
    cancel_by: 'prn',
    prn: 'P'.repeat(10_000),
  }),
  call('rate_pickup', 'complete request', 'local_vs_ups', rateArgs()),
  call('get_pickup_status', 'smart pickups', 'local_vs_ups', {
    pickup_type: 'smart',
    account_number: ACCOUNT,
  }),
];
