/**
 * The real server's canonical form of a RateRequest / ShipmentRequest and the defaults it fills in
 * (RequestOption, charge Type, ShipperNumber and BillShipper account from UPS_ACCOUNT_NUMBER).
 */
import { isObj, type JsonObject } from '../json';
import { ToolFailure } from '../errors';
import { noGetAttribute, pyTypeName } from '../python';
import { fieldExists, setField, StructuralConflict } from './dot-path';
import type { RequestRoot } from './fields';

type Obj = JsonObject;

/** `obj.get(key, fallback)` on something that must be a dict, failing like Python when it is not. */
export function pyGet(obj: unknown, key: string, fallback: unknown): unknown {
  if (!isObj(obj)) throw new ToolFailure(noGetAttribute(obj));
  return Object.hasOwn(obj, key) ? obj[key] : fallback;
}

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

/** The payer objects a ShipmentCharge may hold (one at most). */
export const PAYERS = ['BillShipper', 'BillReceiver', 'BillThirdParty'] as const;

/** The first ShipmentCharge as the real server reads it (missing nodes read as empty). */
export function firstCharge(body: Obj, root: RequestRoot): Obj {
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
