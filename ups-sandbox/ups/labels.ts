/** Shipping labels as UPS returns them (create_shipment, recover_label) and the Label Recovery API. */
import { isObj, text, type JsonObject } from '../json';
import { UPS_CODES, upsHttpError } from '../errors';
import { renderLabelGif, renderLabelZpl, type LabelInput } from '../label';
import { serviceName } from '../services';
import type { ShipmentRecord } from '../store';
import { invalidRequest, SUCCESS, toolArgs, type UpsContext } from './context';

type Obj = JsonObject;

/** The label format a LabelSpecification asks for: ZPL, else GIF. */
export function labelFormat(spec: unknown): 'GIF' | 'ZPL' {
  const code = isObj(spec) && isObj(spec.LabelImageFormat) ? spec.LabelImageFormat.Code : undefined;
  return text(code, 'GIF').toUpperCase() === 'ZPL' ? 'ZPL' : 'GIF';
}

/** What each package's label shows, from the stored shipment. */
export function labelInputs(rec: ShipmentRecord): LabelInput[] {
  return rec.packages.map((p, i) => ({
    trackingNumber: p.trackingNumber,
    serviceCode: rec.serviceCode,
    serviceName: serviceName(rec.serviceCode),
    shipper: rec.shipper,
    shipTo: rec.shipTo,
    weight: p.weight,
    weightUnit: p.weightUnit,
    packageIndex: i + 1,
    packageCount: rec.packages.length,
    reference: p.references[0] ?? rec.customerContext,
    shipDate: rec.createdAt.slice(0, 10),
  }));
}

/** The label of one package as UPS returns it: base64 GIF, or base64 of the ZPL text. */
export function labelImage(
  input: LabelInput,
  format: 'GIF' | 'ZPL',
): { GraphicImage: string; HTMLImage?: string } {
  if (format === 'ZPL') return { GraphicImage: Buffer.from(renderLabelZpl(input)).toString('base64') };
  const gif = renderLabelGif(input).toString('base64');
  const html = `<html><body><img src="label${input.trackingNumber}.gif"></body></html>`;
  return { GraphicImage: gif, HTMLImage: Buffer.from(html).toString('base64') };
}

/**
 * recover_label: by TrackingNumber, or by ReferenceValues {ReferenceNumber.Value, ShipperNumber}.
 * With the knob `recoverVisibleAfterMs` (UPS lagging), a shipment younger than that is not found yet.
 */
export function recoverLabel(ctx: UpsContext, args: Obj): Obj {
  args = toolArgs('recover_label', args);
  const lagMs = ctx.knobs().recoverVisibleAfterMs;
  const nowMs = (ctx.now?.() ?? new Date()).getTime();
  const visible = (rec: ShipmentRecord) => lagMs <= 0 || nowMs - Date.parse(rec.createdAt) >= lagMs;
  // The real server sends any request_body object to UPS as it is; UPS does the checking.
  const body = isObj(args.request_body) ? args.request_body : {};
  if (!isObj(body.LabelRecoveryRequest)) throw invalidRequest('Missing or invalid LabelRecoveryRequest');
  const request = body.LabelRecoveryRequest;
  const format = labelFormat(request.LabelSpecification);
  let results: { rec: ShipmentRecord; input: LabelInput }[];
  if (request.TrackingNumber) {
    const tracking = text(request.TrackingNumber);
    const rec = ctx.store.findByTracking(tracking);
    results =
      rec && visible(rec)
        ? labelInputs(rec)
            .filter((i) => i.trackingNumber === tracking)
            .map((input) => ({ rec, input }))
        : [];
  } else if (isObj(request.ReferenceValues)) {
    const values = request.ReferenceValues;
    const ref = isObj(values.ReferenceNumber) ? text(values.ReferenceNumber.Value) : '';
    const shipperNumber = text(values.ShipperNumber);
    if (!ref || !shipperNumber) {
      throw invalidRequest('ReferenceValues needs both ReferenceNumber.Value and ShipperNumber');
    }
    // One shipment, as UPS answers: the oldest live one with that reference, else the oldest voided
    // (of those label recovery already shows).
    const found = ctx.store.findByReference(ref, shipperNumber.toUpperCase()).filter(visible);
    const rec = found.find((r) => !r.voidedAt) ?? found[0];
    results = rec ? labelInputs(rec).map((input) => ({ rec, input })) : [];
  } else {
    throw invalidRequest('LabelRecoveryRequest needs TrackingNumber or ReferenceValues');
  }
  if (results.length === 0)
    throw upsHttpError(400, UPS_CODES.labelNotFound, 'No label found for the request');
  return {
    LabelRecoveryResponse: {
      Response: SUCCESS,
      ShipmentIdentificationNumber: results[0]!.rec.shipmentId,
      LabelResults: results.map(({ input }) => {
        const { GraphicImage, HTMLImage } = labelImage(input, format);
        return {
          TrackingNumber: input.trackingNumber,
          LabelImage: {
            LabelImageFormat: { Code: format },
            GraphicImage,
            ...(HTMLImage ? { HTMLImage } : {}),
          },
        };
      }),
    },
  };
}
