/** The simulated UPS Rating API behind rate_shipment. */
import { text, type JsonObject } from '../json';
import { ToolFailure } from '../errors';
import { ratedShipment, shoppableServices, type RatableShipment } from '../rates';
import { preflight, quoteOrFail, upsValidate } from './checks';
import { successResponse, toolArgs, type UpsContext } from './context';

type Obj = JsonObject;

const REQUEST_OPTIONS: Record<string, string> = {
  rate: 'Rate',
  shop: 'Shop',
  ratetimeintransit: 'Ratetimeintransit',
  shoptimeintransit: 'Shoptimeintransit',
};

/** rate_shipment: one RatedShipment (Rate) or one per available service (Shop). */
export async function rateShipment(ctx: UpsContext, args: Obj): Promise<Obj> {
  args = toolArgs('rate_shipment', args);
  const requestOption = text(args.requestoption);
  // As the real server: the missing-field preflight runs before the option is checked.
  const body = await preflight(ctx, args.request_body, 'RateRequest', {
    requestOption,
    label: 'rate request',
  });
  const option = REQUEST_OPTIONS[requestOption.toLowerCase()];
  if (!option) {
    throw new ToolFailure(
      `Invalid requestoption '${requestOption}'. Allowed values: Rate, Ratetimeintransit, Shop, Shoptimeintransit`,
    );
  }
  // From here on this is UPS answering.
  const request = body.RateRequest as Obj;
  const shipment = request.Shipment as Obj;
  const shop = option.startsWith('Shop');
  const knobs = ctx.knobs();
  const service = shop ? undefined : text((shipment.Service as Obj).Code);
  upsValidate(shipment, knobs, { service });
  const ratable = shipment as unknown as RatableShipment;
  const codes = service ? [service] : shoppableServices(ratable);
  const timeInTransit = option.endsWith('timeintransit');
  const rated = codes.map((code) =>
    ratedShipment(quoteOrFail(shipment, code), { negotiated: knobs.negotiatedRates, timeInTransit }),
  );
  const context = (request.Request as Obj | undefined)?.TransactionReference;
  return {
    RateResponse: {
      Response: successResponse(context),
      RatedShipment: rated,
    },
  };
}
