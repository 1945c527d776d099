/**
 * Pre-flight, step 1 (docs/design.md §3, step 2): every pending row's ShipTo through UPS Address Validation,
 * a page per activity. The outcome goes into the ledger; the row's request gains UPS's classification
 * (residential or commercial: what the row is rated and billed as), ships the corrected address when the
 * batch asks for it, or becomes invalid under `require`.
 */
import type pg from 'pg';
import {
  addressOutcome,
  formatAddress,
  type AddressCheckResult,
  type PostalAddress,
  type PreflightPage,
} from '../../domain/preflight';
import type { RowError } from '../../domain/row-error';
import { AddressSchema, type ShipmentRequestBody } from '../../domain/shipment-schema';
import { storeAddressChecks, type SettledPreflightRow } from '../../db/ledger/preflight';
import type { UpsClient } from '../ups/client';
import { UpsError, upsOutageOf } from '../ups/errors';
import { runPreflightPage } from './preflight-page';

/** Countries UPS Address Validation (street level) covers. */
const XAV_COUNTRIES = new Set(['US', 'PR']);

export interface AddressCheckArgs {
  batchId: string;
  addressCheck: 'warn' | 'require';
  useCorrectedAddress: boolean;
  concurrency: number;
}

/** Check the next page of rows; the page's outcomes are stored before it returns. */
export function checkAddressPage(
  pool: pg.Pool,
  ups: UpsClient,
  args: AddressCheckArgs,
): Promise<PreflightPage> {
  return runPreflightPage(
    pool,
    { batchId: args.batchId, step: 'address', concurrency: args.concurrency },
    async (row, signal) => {
      const request = row.request as ShipmentRequestBody;
      const asked = shipToAddress(request);
      if (!XAV_COUNTRIES.has(asked.countryCode)) {
        return settledRow(row.rowNo, request, asked, args, {
          outcome: 'unchecked',
          error: `UPS Address Validation covers US and Puerto Rico addresses only (${asked.countryCode})`,
        });
      }
      try {
        const answer = await ups.validateAddress(asked, signal, row.reference);
        return settledRow(row.rowNo, request, asked, args, addressOutcome(asked, answer));
      } catch (err) {
        // UPS down: the row is asked again later. Any other refusal or an answer that cannot be read is
        // the row's: it ships as it is.
        if (signal.aborted || (err instanceof UpsError && upsOutageOf(err))) throw err;
        return settledRow(row.rowNo, request, asked, args, {
          outcome: 'unchecked',
          error: (err as Error).message,
        });
      }
    },
    (settled) => storeAddressChecks(pool, args.batchId, settled),
  );
}

/** The ShipTo address of a stored request, as UPS Address Validation takes it. */
export function shipToAddress(request: ShipmentRequestBody): PostalAddress {
  const a = request.ShipmentRequest.Shipment.ShipTo.Address;
  return {
    addressLines: a.AddressLine,
    city: a.City,
    state: a.StateProvinceCode ?? '',
    postalCode: a.PostalCode ?? '',
    countryCode: a.CountryCode,
  };
}

/**
 * What the ledger stores for one answered row: the outcome, the request it ships from now on (when that
 * changes) and, under `require`, the errors that make it invalid.
 */
export function settledRow(
  rowNo: number,
  request: ShipmentRequestBody,
  asked: PostalAddress,
  args: Pick<AddressCheckArgs, 'addressCheck' | 'useCorrectedAddress'>,
  result: AddressCheckResult,
): SettledPreflightRow<AddressCheckResult> {
  if (result.outcome === 'ambiguous' || result.outcome === 'not_found') {
    return {
      rowNo,
      outcome: result,
      ...(args.addressCheck === 'require' ? { errors: [addressError(rowNo, asked, result)] } : {}),
    };
  }
  let changed = withClassification(request, result.classification);
  let outcome = result;
  const candidate = result.outcome === 'corrected' ? result.candidates?.[0] : undefined;
  if (candidate && args.useCorrectedAddress) {
    const corrected = withAddress(changed ?? request, candidate);
    if (corrected) {
      changed = corrected;
      outcome = { ...result, applied: true, original: asked };
    }
  }
  return { rowNo, outcome, ...(changed ? { request: changed } : {}) };
}

function addressError(rowNo: number, asked: PostalAddress, result: AddressCheckResult): RowError {
  const found = result.outcome === 'not_found';
  return {
    rowNo,
    path: 'ShipTo.Address',
    rule: found ? 'address_not_found' : 'address_ambiguous',
    value: formatAddress(asked),
    message: found
      ? 'UPS Address Validation found no such address (address check "require")'
      : `UPS Address Validation found ${result.candidates?.length ?? 'several'} possible addresses; the row must name one (address check "require")`,
    code: found ? 'E-3001' : 'E-3002',
  };
}

/**
 * The request with UPS's classification: residential adds ShipTo's ResidentialAddressIndicator, commercial
 * removes one the template set; undefined when nothing changes.
 */
function withClassification(
  request: ShipmentRequestBody,
  classification: AddressCheckResult['classification'],
): ShipmentRequestBody | undefined {
  const address = request.ShipmentRequest.Shipment.ShipTo.Address as Record<string, unknown>;
  const has = 'ResidentialAddressIndicator' in address;
  if (
    (classification === 'residential') === has ||
    classification === undefined ||
    classification === 'unknown'
  )
    return undefined;
  const out = structuredClone(request);
  const target = out.ShipmentRequest.Shipment.ShipTo.Address as Record<string, unknown>;
  if (classification === 'residential') target.ResidentialAddressIndicator = '';
  else delete target.ResidentialAddressIndicator;
  return out;
}

/** The request shipping to `candidate`; undefined when the candidate is not an address a request may hold. */
function withAddress(
  request: ShipmentRequestBody,
  candidate: PostalAddress,
): ShipmentRequestBody | undefined {
  const out = structuredClone(request);
  const address = out.ShipmentRequest.Shipment.ShipTo.Address as Record<string, unknown>;
  Object.assign(address, {
    AddressLine: candidate.addressLines,
    City: candidate.city,
    StateProvinceCode: candidate.state,
    PostalCode: candidate.postalCode,
    CountryCode: candidate.countryCode || (address.CountryCode as string),
  });
  // UPS's answer is input too: a candidate that breaks the request's own rules is not applied.
  return AddressSchema.safeParse(address).success ? out : undefined;
}
