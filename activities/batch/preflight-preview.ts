/**
 * The pre-flight in the preview's detailed rows: the address outcome (with UPS's candidate, row data kept in
 * the ledger's preview only), the template's service and price next to the chosen one, and warnings that
 * say what the operator should look at (no row data in them: the workflow's copy of the preview keeps them).
 */
import type { PreviewRow } from '../../domain/batch';
import { formatAddress, type AddressCheckResult, type ServiceChoiceResult } from '../../domain/preflight';
import { serviceName } from '../../domain/shipment-schema';

/** The preview row's `address`, `templateService` and `templateCostCents`. */
export function preflightColumns(
  address: AddressCheckResult | undefined,
  choice: ServiceChoiceResult | undefined,
): Pick<PreviewRow, 'address' | 'templateService' | 'templateCostCents'> {
  const out: Pick<PreviewRow, 'address' | 'templateService' | 'templateCostCents'> = {};
  if (address) {
    const first = address.candidates?.[0];
    out.address = {
      outcome: address.outcome,
      ...(address.classification === 'residential' ? { residential: true } : {}),
      ...(address.classification === 'commercial' ? { residential: false } : {}),
      ...(first ? { candidate: formatAddress(first) } : {}),
      ...(address.applied ? { applied: true } : {}),
    };
  }
  if (choice?.code && choice.code !== choice.templateCode) {
    out.templateService = serviceName(choice.templateCode);
    if (choice.templateCents !== undefined) out.templateCostCents = choice.templateCents;
  }
  return out;
}

/** Warnings of a row's pre-flight: outcomes that need a look, never the address itself. */
export function preflightWarnings(
  address: AddressCheckResult | undefined,
  choice: ServiceChoiceResult | undefined,
): string[] {
  const out: string[] = [];
  switch (address?.outcome) {
    case 'not_found':
      out.push('address: UPS found no such address');
      break;
    case 'ambiguous':
      out.push(`address: UPS found ${address.candidates?.length ?? 'several'} possible addresses`);
      break;
    case 'corrected':
      out.push(
        address.applied ? "address: ships UPS's corrected address" : 'address: UPS suggests a correction',
      );
      break;
    case 'unchecked':
      out.push('address: not checked by UPS');
      break;
    default:
      break;
  }
  if (choice && !choice.code && choice.error) out.push('service: not shopped (UPS gave no rates for it)');
  return out;
}
