/**
 * Before anyone approves (docs/design.md §3, step 2): the address pre-flight (UPS Address Validation per row)
 * and rate shopping (UPS Shop per row). The options, the outcomes the ledger keeps, the summaries the preview
 * shows, and the two pure decisions: how an answer of UPS becomes an outcome, and which service a row takes.
 * Pure (zod only): the workflow, the activities, the client and the CLI use the same.
 */
import { z } from 'zod';

export const ADDRESS_CHECKS = ['off', 'warn', 'require'] as const;
/** `off`: no pre-flight; `warn`: outcomes are warnings; `require`: ambiguous and not-found rows are invalid. */
export type AddressCheck = (typeof ADDRESS_CHECKS)[number];

/** The longest transit limit a batch may ask for, in business days. */
export const MAX_TRANSIT_DAYS = 30;

/** `template`: the template's service; `cheapest`: the cheapest UPS service, within `maxTransitDays` if set. */
export const ServiceChoiceSchema = z.union([
  z.literal('template'),
  z.literal('cheapest'),
  z
    .object({
      cheapest: z.object({ maxTransitDays: z.number().int().min(1).max(MAX_TRANSIT_DAYS) }).strict(),
    })
    .strict(),
]);
export type ServiceChoice = z.output<typeof ServiceChoiceSchema>;

/** The transit limit of a service choice (undefined: none, or not shopping). */
export function maxTransitDaysOf(choice: ServiceChoice): number | undefined {
  return typeof choice === 'object' ? choice.cheapest.maxTransitDays : undefined;
}

export function isShopping(choice: ServiceChoice): boolean {
  return choice !== 'template';
}

// ---------------------------------------------------------------- address outcomes

export const ADDRESS_OUTCOMES = ['valid', 'corrected', 'ambiguous', 'not_found', 'unchecked'] as const;
/** `unchecked`: UPS gave no answer for the row (its error is kept); the row ships as it is. */
export type AddressOutcome = (typeof ADDRESS_OUTCOMES)[number];

export interface PostalAddress {
  addressLines: string[];
  city: string;
  state: string;
  postalCode: string;
  countryCode: string;
}

/** What UPS Address Validation answered, as the UPS client reads it. */
export interface AddressAnswer {
  /** UPS said ambiguous (AmbiguousAddressIndicator), whatever the number of candidates. */
  ambiguous: boolean;
  classification: 'commercial' | 'residential' | 'unknown';
  candidates: PostalAddress[];
}

/** One row's outcome as the ledger keeps it (`batch_rows.address_check`). Row data: never in history. */
export interface AddressCheckResult {
  outcome: AddressOutcome;
  classification?: 'commercial' | 'residential' | 'unknown';
  /** corrected: the one candidate; ambiguous: the first few. */
  candidates?: PostalAddress[];
  /** corrected with `useCorrectedAddress`: the row ships the candidate. */
  applied?: boolean;
  /** With `applied`: the row's own address, which its request no longer holds. */
  original?: PostalAddress;
  /** unchecked: why. */
  error?: string;
}

/** Candidates kept per ambiguous row (the real ups-mcp asks UPS for at most 3; another server may send more). */
export const MAX_KEPT_CANDIDATES = 5;

/**
 * The outcome of one answer: no candidate → not_found; several → ambiguous; one that is the row's address
 * (compared the way a postal clerk would: case, punctuation, spacing and the ZIP+4 extension do not count)
 * → valid; one that differs → corrected.
 */
export function addressOutcome(asked: PostalAddress, answer: AddressAnswer): AddressCheckResult {
  const { candidates } = answer;
  if (candidates.length === 0) return { outcome: 'not_found' };
  if (answer.ambiguous || candidates.length > 1)
    return { outcome: 'ambiguous', candidates: candidates.slice(0, MAX_KEPT_CANDIDATES) };
  const [only] = candidates as [PostalAddress];
  const classification = answer.classification;
  return sameAddress(asked, only)
    ? { outcome: 'valid', classification }
    : { outcome: 'corrected', classification, candidates: [only] };
}

const squash = (s: string) =>
  s
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, ' ')
    .trim();

/** Equal as addresses: lines, city, state, the 5-digit ZIP (or the postal code) and country. */
export function sameAddress(a: PostalAddress, b: PostalAddress): boolean {
  const lines = (x: PostalAddress) => squash(x.addressLines.filter((l) => l.trim() !== '').join(' '));
  const postal = (x: PostalAddress) => squash(x.postalCode).split(' ')[0] ?? '';
  return (
    lines(a) === lines(b) &&
    squash(a.city) === squash(b.city) &&
    squash(a.state) === squash(b.state) &&
    postal(a) === postal(b) &&
    squash(a.countryCode) === squash(b.countryCode)
  );
}

/** One line for an address: `100 MAIN ST, ATLANTA, GA 30301`. */
export function formatAddress(a: PostalAddress): string {
  const lines = a.addressLines.filter((l) => l.trim() !== '').join(', ');
  return `${lines}, ${a.city}, ${[a.state, a.postalCode].filter(Boolean).join(' ')}`;
}

// ---------------------------------------------------------------- rate shopping

/** One service UPS quoted for a row. */
export interface ServiceQuote {
  serviceCode: string;
  cents: number;
  currency: string;
  /** Business days in transit, when UPS said. */
  days?: number;
}

/** One row's shopping result as the ledger keeps it (`batch_rows.service_choice`). */
export interface ServiceChoiceResult {
  /** The chosen service (absent when none met the limit). */
  code?: string;
  cents?: number;
  currency?: string;
  days?: number;
  /** The template's service and its price in the same answer (absent when UPS did not quote it). */
  templateCode: string;
  templateCents?: number;
  /** Why the row could not be shopped (UPS error) or no service met the limit. */
  error?: string;
}

/**
 * The cheapest quote that arrives within `maxTransitDays` (a quote without days cannot promise and is left
 * out when there is a limit); ties go to the faster service, then the lower code, so the choice is stable.
 */
export function cheapestService(
  quotes: readonly ServiceQuote[],
  maxTransitDays: number | undefined,
): ServiceQuote | undefined {
  const eligible = quotes.filter(
    (q) => maxTransitDays === undefined || (q.days !== undefined && q.days <= maxTransitDays),
  );
  return [...eligible].sort(
    (a, b) =>
      a.cents - b.cents ||
      (a.days ?? Infinity) - (b.days ?? Infinity) ||
      a.serviceCode.localeCompare(b.serviceCode),
  )[0];
}

// ---------------------------------------------------------------- what the preview and status show

/** Address pre-flight in the preview: counts per outcome and the first row numbers of each. */
export interface AddressCheckSummary {
  mode: AddressCheck;
  checked: number;
  valid: number;
  corrected: number;
  ambiguous: number;
  notFound: number;
  unchecked: number;
  residential: number;
  /** Rows made invalid by `require` (ambiguous + not found). */
  invalidated: number;
  /** Corrected rows that ship the candidate (`useCorrectedAddress`). */
  correctedApplied: number;
  /** First row numbers of each outcome that needs a look. */
  rows: { corrected: number[]; ambiguous: number[]; notFound: number[]; unchecked: number[] };
}

/** Rate shopping in the preview: what changed and what it saves. */
export interface RateShoppingSummary {
  maxTransitDays?: number;
  shopped: number;
  /** Rows whose service changed from the template's. */
  changed: number;
  /** Rows where no service met the limit (invalid). */
  noService: number;
  /** Rows UPS could not shop (they keep the template's service). */
  notShopped: number;
  /** Rows per chosen service code. */
  services: Record<string, number>;
  /** Over the rows where UPS quoted both: the template's service and the chosen one. */
  templateCents: number;
  chosenCents: number;
  savingsCents: number;
  currency: string;
  rows: { noService: number[]; notShopped: number[] };
}

/** A pre-flight step's progress, for `status` and the Web UI. */
export interface PreflightStepProgress {
  done: number;
  total: number;
}

export interface PreflightProgress {
  addressCheck?: PreflightStepProgress;
  rateShopping?: PreflightStepProgress;
}

/** What one page of a pre-flight step reports to the workflow: counts only. */
export interface PreflightPage {
  /** Rows this page settled. */
  rows: number;
  /** Rows of the step settled so far (ledger) and in all. */
  done: number;
  total: number;
  /** Nothing left to do. */
  finished: boolean;
  /** Not one row answered, only because UPS did not: nothing stored; the batch waits for UPS. */
  upsDown?: { kind: 'auth' | 'unreachable' | 'unavailable' | 'rate_limited'; reason: string };
}
