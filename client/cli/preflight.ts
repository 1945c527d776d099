/**
 * The pre-flight in the CLI (docs/design.md §3, step 2): the `start` flags that ask for it (`--address-check`,
 * `--use-corrected-address`, `--service`, `--max-transit-days`) checked together and turned into batch options,
 * and its human output: the address check and rate shopping sections of `preview` (the progress of
 * `status` and `watch` is output.ts's `preflightProgressText`). Pure (tested without a stack); row data shown here passes through {@link clean}.
 */
import { InvalidArgumentError } from 'commander';
import type { BatchOptions } from '../../domain/batch';
import {
  ADDRESS_CHECKS,
  formatAddress,
  MAX_TRANSIT_DAYS,
  type AddressCheck,
  type AddressCheckResult,
  type AddressCheckSummary,
  type PostalAddress,
  type RateShoppingSummary,
} from '../../domain/preflight';
import { serviceName } from '../../domain/shipment-schema';
import type { PreviewRow } from '../../domain/batch';
import { BatchInputError } from '../errors';
import { clean, formatMoney } from './output';

/** The address check `start` asks for when no flag says: the issue's default for the CLI. */
export const CLI_ADDRESS_CHECK: AddressCheck = 'warn';

export const SERVICE_FLAG_CHOICES = ['template', 'cheapest'] as const;

/** The `start` flags of the pre-flight, as commander parsed them. */
export interface PreflightFlags {
  addressCheck?: AddressCheck;
  useCorrectedAddress?: boolean;
  service?: (typeof SERVICE_FLAG_CHOICES)[number];
  maxTransitDays?: number;
}

/** `--address-check`: off, warn or require (any case). */
export function addressCheckArg(value: string): AddressCheck {
  const v = value.trim().toLowerCase();
  if (!(ADDRESS_CHECKS as readonly string[]).includes(v))
    throw new InvalidArgumentError(
      `--address-check must be one of ${ADDRESS_CHECKS.join(', ')}, got ${JSON.stringify(value)}`,
    );
  return v as AddressCheck;
}

/** `--service`: template or cheapest (any case). */
export function serviceArg(value: string): (typeof SERVICE_FLAG_CHOICES)[number] {
  const v = value.trim().toLowerCase();
  if (!(SERVICE_FLAG_CHOICES as readonly string[]).includes(v))
    throw new InvalidArgumentError(
      `--service must be one of ${SERVICE_FLAG_CHOICES.join(', ')}, got ${JSON.stringify(value)}`,
    );
  return v as (typeof SERVICE_FLAG_CHOICES)[number];
}

/**
 * The batch options of the pre-flight flags, the flags checked together first (a BatchInputError naming the
 * flag, before anything is read or started): `--max-transit-days` only with `--service cheapest`,
 * `--use-corrected-address` only with an address check.
 */
export function preflightOptions(
  f: PreflightFlags,
): Pick<BatchOptions, 'addressCheck' | 'useCorrectedAddress' | 'service'> {
  const addressCheck = f.addressCheck ?? CLI_ADDRESS_CHECK;
  const service = f.service ?? 'template';
  if (f.maxTransitDays !== undefined && service !== 'cheapest') {
    throw new BatchInputError(
      `--max-transit-days ${f.maxTransitDays} applies only with --service cheapest (the service is ${service})`,
      { fix: 'add --service cheapest, or leave out --max-transit-days' },
    );
  }
  if (f.maxTransitDays !== undefined && !(f.maxTransitDays >= 1 && f.maxTransitDays <= MAX_TRANSIT_DAYS)) {
    throw new BatchInputError(`--max-transit-days must be between 1 and ${MAX_TRANSIT_DAYS}`);
  }
  if (f.useCorrectedAddress && addressCheck === 'off') {
    throw new BatchInputError('--use-corrected-address needs an address check (--address-check is off)', {
      fix: 'use --address-check warn or require, or leave out --use-corrected-address',
    });
  }
  return {
    addressCheck,
    useCorrectedAddress: f.useCorrectedAddress ?? false,
    service:
      service === 'template'
        ? 'template'
        : f.maxTransitDays !== undefined
          ? { cheapest: { maxTransitDays: f.maxTransitDays } }
          : 'cheapest',
  };
}

// ---------------------------------------------------------------- preview

/** A listed row of the address check: the address it ships to now, and what UPS answered (ledger data). */
export interface AddressRow {
  rowNo: number;
  /** The ShipTo address of the row's request (UPS's candidate once applied). */
  address: PostalAddress;
  check: AddressCheckResult;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The preview table's Address cell: `valid, residential`, `corrected, applied`, `not found`. */
export function addressCell(a: PreviewRow['address']): string {
  if (!a) return '';
  const parts = [a.outcome.replace('_', ' ')];
  if (a.residential === true) parts.push('residential');
  if (a.residential === false) parts.push('commercial');
  if (a.applied) parts.push("ships UPS's");
  return parts.join(', ');
}

/** The preview table's Template cell: the template's service and price when rate shopping changed it. */
export function templateCell(r: PreviewRow, currency: string): string {
  if (!r.templateService) return '';
  return r.templateCostCents !== undefined
    ? `${r.templateService} ${formatMoney(r.templateCostCents, currency)}`
    : r.templateService;
}

const OUTCOME_LISTS: { key: keyof AddressCheckSummary['rows']; title: string }[] = [
  { key: 'corrected', title: 'corrected' },
  { key: 'ambiguous', title: 'ambiguous' },
  { key: 'notFound', title: 'not found' },
  { key: 'unchecked', title: 'unchecked' },
];

/**
 * The address check section: counts per outcome, then the first rows of each outcome that needs a look,
 * a corrected row with UPS's candidate under the row's address.
 */
export function addressCheckLines(
  s: AddressCheckSummary,
  rows: readonly AddressRow[],
  batchId: string,
): string[] {
  const out = [
    `Address check (${s.mode}): ${s.checked} checked — ${s.valid} valid, ${s.corrected} corrected, ` +
      `${s.ambiguous} ambiguous, ${s.notFound} not found, ${s.unchecked} unchecked; ` +
      `${s.residential} residential; ${s.invalidated} invalidated` +
      (s.correctedApplied ? `; ${s.correctedApplied} ship UPS's correction` : ''),
  ];
  const byRow = new Map(rows.map((r) => [r.rowNo, r]));
  const counts = {
    corrected: s.corrected,
    ambiguous: s.ambiguous,
    notFound: s.notFound,
    unchecked: s.unchecked,
  };
  for (const { key, title } of OUTCOME_LISTS) {
    const listed = s.rows[key];
    if (listed.length === 0) continue;
    out.push(`  ${title} (${counts[key]}):`);
    for (const rowNo of listed) out.push(...addressRowLines(rowNo, byRow.get(rowNo)));
    if (counts[key] > listed.length)
      out.push(`    … ${counts[key] - listed.length} more (shipbatch rows ${batchId})`);
  }
  return out;
}

function addressRowLines(rowNo: number, r: AddressRow | undefined): string[] {
  const label = `    row ${rowNo}:`;
  if (!r) return [label];
  const c = r.check;
  const address = clean(formatAddress(r.address));
  const first = c.candidates?.[0];
  switch (c.outcome) {
    case 'corrected':
      if (!first) return [`${label} ${address}`];
      return c.applied
        ? [
            `${label} ${c.original ? clean(formatAddress(c.original)) : "(the row's address)"}`,
            `${' '.repeat(label.length - 4)}ships UPS's ${clean(formatAddress(first))}`,
          ]
        : [`${label} ${address}`, `${' '.repeat(label.length - 4)}UPS: ${clean(formatAddress(first))}`];
    case 'ambiguous':
      return [
        `${label} ${address} — ${plural(c.candidates?.length ?? 0, 'candidate')}` +
          (first ? `, e.g. ${clean(formatAddress(first))}` : ''),
      ];
    case 'unchecked':
      return [`${label} ${address}${c.error ? ` (${clean(c.error)})` : ''}`];
    default:
      return [`${label} ${address}`];
  }
}

/** The rate shopping section: rows changed, per service counts, the batch's saving. */
export function rateShoppingLines(s: RateShoppingSummary): string[] {
  const services = Object.entries(s.services)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([code, n]) => `${serviceName(code)} ${n}`)
    .join(', ');
  const out = [
    `Rate shopping (cheapest${s.maxTransitDays !== undefined ? ` within ${plural(s.maxTransitDays, 'business day')}` : ''}): ` +
      `${s.shopped} shopped, ${s.changed} changed from the template's service` +
      (s.noService ? `, ${s.noService} with no service in time (invalid)` : '') +
      (s.notShopped ? `, ${s.notShopped} not shopped (keep the template's service)` : ''),
  ];
  if (services) out.push(`  services: ${services}`);
  // A transit limit may take rows to a faster, dearer service than the template's: then it costs more.
  out.push(
    (s.savingsCents >= 0
      ? `  saving:   ${formatMoney(s.savingsCents, s.currency)} `
      : `  costs     ${formatMoney(-s.savingsCents, s.currency)} more `) +
      `(${formatMoney(s.templateCents, s.currency)} with the template's services, ${formatMoney(s.chosenCents, s.currency)} chosen)`,
  );
  if (s.rows.noService.length) out.push(`  no service in time: rows ${s.rows.noService.join(', ')}`);
  if (s.rows.notShopped.length) out.push(`  not shopped: rows ${s.rows.notShopped.join(', ')}`);
  return out;
}
