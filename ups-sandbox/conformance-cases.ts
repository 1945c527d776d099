/**
 * The calls `scripts/conformance.ts` sends to both the real UPS MCP server and the sandbox: every
 * decision the real server makes before it calls UPS, by kind (rate shopping's: Shop and
 * get_time_in_transit, in `conformance/transit-cases`; the pickup tools', in `conformance/pickup-cases`). Pure data (plus small builders) so the contract
 * tests can send the same calls to the sandbox alone.
 */
import { ARGUMENT_CASES, ELICITATION_CASES, LOCAL_VS_UPS_CASES } from './conformance/call-cases';
import {
  PICKUP_ARGUMENT_CASES,
  PICKUP_LOCAL_VS_UPS_CASES,
  PICKUP_RULE_CASES,
} from './conformance/pickup-cases';
import { DEFAULT_CASES, RULE_CASES } from './conformance/rule-cases';
import { STRUCTURE_CASES } from './conformance/structure-cases';
import { SHOP_CASES, TRANSIT_ARGUMENT_CASES, TRANSIT_LOCAL_VS_UPS_CASES } from './conformance/transit-cases';
import type { ConformanceCase } from './conformance/builders';

export { shipBody, shipment, shipTo, type ConformanceCase } from './conformance/builders';
export { transitBody } from './conformance/transit-cases';
export { pickupArgs } from './conformance/pickup-cases';

/** Every case, in the order the comparison runs them. */
export const CONFORMANCE_CASES: ConformanceCase[] = [
  // --- tool listing and server identity ---
  {
    name: 'tool listing (the eleven tools the sandbox serves)',
    kind: 'listing',
    call: 'listTools',
    tools: [
      'track_package',
      'validate_address',
      'rate_shipment',
      'create_shipment',
      'void_shipment',
      'recover_label',
      'get_time_in_transit',
      'rate_pickup',
      'schedule_pickup',
      'cancel_pickup',
      'get_pickup_status',
    ],
  },
  { name: 'server info and capabilities', kind: 'listing', call: 'serverInfo' },
  ...STRUCTURE_CASES,
  ...RULE_CASES,
  ...DEFAULT_CASES,
  ...ARGUMENT_CASES,
  ...LOCAL_VS_UPS_CASES,
  ...ELICITATION_CASES,
  ...SHOP_CASES,
  ...TRANSIT_ARGUMENT_CASES,
  ...TRANSIT_LOCAL_VS_UPS_CASES,
  ...PICKUP_ARGUMENT_CASES,
  ...PICKUP_RULE_CASES,
  ...PICKUP_LOCAL_VS_UPS_CASES,
];
