/**
 * The simulated UPS APIs behind the sandbox's tools: Rating, Shipping (ship, void, label recovery),
 * Address Validation, Tracking, Time in Transit and Pickup. Each function takes the tool's arguments and returns the UPS REST
 * response body, or throws a `ToolFailure` (errors.ts) shaped as the real server reports it. One file
 * an API in `./ups/` (`rating`, `shipping`, `labels`, `address`, `tracking`, `transit`, `pickup`), on the shared
 * `./ups/context` and the checks before any answer, `./ups/checks`.
 */
export type { UpsContext } from './ups/context';
export { rateShipment } from './ups/rating';
export { createShipment, voidShipment } from './ups/shipping';
export { recoverLabel } from './ups/labels';
export { validateAddress } from './ups/address';
export { trackPackage } from './ups/tracking';
export { getTimeInTransit } from './ups/transit';
export { cancelPickup, getPickupStatus, ratePickup, schedulePickup } from './ups/pickup';
