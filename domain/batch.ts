/**
 * The batch contract (docs/design.md §3): the workflow input, the message payloads and the shapes the `status`
 * and `preview` queries return. Pure (zod only): the workflow, the activities, the client and the CLI
 * all validate with these same schemas.
 */
import { z } from 'zod';
import {
  ADDRESS_CHECKS,
  ServiceChoiceSchema,
  type AddressCheckSummary,
  type AddressOutcome,
  type PreflightProgress,
  type RateShoppingSummary,
} from './preflight';
import { PickupOptionSchema, type PickupQuote, type PickupStatus } from './pickup';
import { ShipperSchema } from './shipment-schema';
import type { BatchPhase, RowStatus } from './row-status';

/** A duration as Temporal and the CLI take it: 500ms, 30s, 5m, 2h, 7d. */
export const DurationSchema = z
  .string()
  // abort: the limits refined onto a duration compute its milliseconds, which a malformed one does not have.
  .regex(/^\d{1,9}(ms|s|m|h|d)$/, { error: 'expected a duration such as 30s, 5m, 2h or 7d', abort: true });

/** Milliseconds of a {@link DurationSchema} string. */
export function durationToMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`invalid duration ${JSON.stringify(text)}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
  return Number(m[1]) * unit;
}

/**
 * The longest wait a batch may be told to do (approval, attention): ten years. Far below what a Temporal
 * timer holds, and exact in milliseconds as a JavaScript number (999999999d is neither).
 */
export const MAX_WAIT_DAYS = 3650;
const TimerDurationSchema = DurationSchema.refine((t) => durationToMs(t) <= MAX_WAIT_DAYS * 86_400_000, {
  error: `at most ${MAX_WAIT_DAYS} days (${MAX_WAIT_DAYS}d)`,
});

/** A SQL identifier, optionally schema-qualified (checked again against the catalog before use). */
const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
export const TableNameSchema = z
  .string()
  .refine((t) => t.split('.').length <= 2 && t.split('.').every((p) => IDENT.test(p)), {
    error: 'table must be a plain identifier such as orders or public.orders',
  });
export const ColumnNameSchema = z
  .string()
  .regex(IDENT, { error: 'column must be a plain identifier (letters, digits, _)' });

export const BATCH_MODES = ['confirm', 'auto'] as const;
export type BatchMode = (typeof BATCH_MODES)[number];
/** A mode as users type it: case-insensitive. */
export const ModeSchema = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.enum(BATCH_MODES, { error: 'mode must be "confirm" or "auto"' }));

/** Longest template and filter accepted (the template engine has its own, stricter limits too). */
export const MAX_TEMPLATE_CHARS = 64 * 1024;
export const MAX_FILTER_CHARS = 4 * 1024;

export const BatchOptionsSchema = z
  .object({
    previewRows: z.number().int().min(0).max(1000).default(20),
    rateAll: z.boolean().default(false),
    concurrency: z.number().int().min(1).max(256).default(16),
    approvalTimeout: TimerDurationSchema.default('7d'),
    attentionTimeout: TimerDurationSchema.default('7d'),
    labelFormat: z.enum(['GIF', 'ZPL']).default('GIF'),
    /**
     * Write back to the source table: tracking numbers into `column` when the batch closes and, with
     * `statusColumn`, each row's delivery status as tracking learns it.
     */
    writeBack: z
      .object({ column: ColumnNameSchema, statusColumn: ColumnNameSchema.optional() })
      .strict()
      .refine((w) => w.statusColumn?.toLowerCase() !== w.column.toLowerCase(), {
        error: 'statusColumn must be another column than column',
        path: ['statusColumn'],
      })
      .optional(),
    templateSetsPayer: z.boolean().default(false),
    /** Address pre-flight before the preview (UPS Address Validation per row); the CLI defaults to warn. */
    addressCheck: z
      .enum(ADDRESS_CHECKS, { error: 'addressCheck must be "off", "warn" or "require"' })
      .default('off'),
    /** A corrected address (one candidate that differs) ships the candidate instead of the row's address. */
    useCorrectedAddress: z.boolean().default(false),
    /** The service each row ships with: the template's, or the cheapest (within a transit limit). */
    service: ServiceChoiceSchema.default('template'),
    /** How long the packages are followed after the batch closes (`0s`: not at all; at most 365d). */
    trackFor: DurationSchema.refine((t) => durationToMs(t) <= 365 * 86_400_000, {
      error: 'at most 365 days (365d)',
    }).default('14d'),
    /** How often a package in transit is looked at (out for delivery: four times as often; at least 1s). */
    trackEvery: DurationSchema.refine((t) => durationToMs(t) >= 1000, { error: 'at least 1s' }).default('4h'),
    /** One UPS on-call pickup for the shipped packages, scheduled once shipping ends (its cost in the preview). */
    pickup: PickupOptionSchema.optional(),
    /** Rows dispatched per workflow run before continuing as new (tests force small runs). */
    rowsPerRun: z.number().int().min(1).max(100_000).default(2_000),
    /** Updates one run accepts in the attention phase before continuing as new (Temporal allows 2,000). */
    updatesPerRun: z.number().int().min(1).max(1_500).default(1_000),
  })
  .strict();
export type BatchOptions = z.output<typeof BatchOptionsSchema>;

export const BatchInputSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(80)
      .regex(/^[\w .,:()#/-]+$/, { error: 'name may hold letters, digits, spaces and . , : ( ) # / - _' })
      .optional(),
    source: z
      .object({
        table: TableNameSchema,
        keyColumn: ColumnNameSchema.default('id'),
        filter: z.string().max(MAX_FILTER_CHARS).optional(),
      })
      .strict(),
    template: z.string().min(1, { error: 'template is empty' }).max(MAX_TEMPLATE_CHARS),
    shipper: ShipperSchema,
    mode: ModeSchema.default('confirm'),
    options: BatchOptionsSchema.default(BatchOptionsSchema.parse({})),
  })
  .strict()
  .refine((b) => !b.options.pickup || !!b.shipper.Phone?.Number, {
    error: 'options.pickup needs the shipper’s Phone.Number (UPS calls it for a pickup)',
    path: ['shipper', 'Phone'],
  });
/** What a caller passes to start a batch (defaults may be omitted). */
export type BatchInputArg = z.input<typeof BatchInputSchema>;
/** The validated input, defaults filled in. */
export type BatchInput = z.output<typeof BatchInputSchema>;

/** Batch ids are workflow ids: `batch-<name or short id>`. */
export const BatchIdSchema = z.string().regex(/^batch-[A-Za-z0-9_.-]{1,64}$/, {
  error: 'batch id must look like batch-<letters, digits, . _ ->',
});

// ---------------------------------------------------------------- messages (signals and updates)

export const ApproveSchema = z
  .object({ previewHash: z.string().max(128).optional(), by: z.string().max(120).optional() })
  .strict();
export const RejectSchema = z.object({ reason: z.string().max(500).optional() }).strict();
export const SetModeSchema = z.object({ mode: ModeSchema }).strict();
export const CancelSchema = z
  .object({ reason: z.string().max(500).optional(), voidShipped: z.boolean().default(false) })
  .strict();
export const RESTART_SCOPES = ['failed', 'needs_review', 'all_unshipped'] as const;
export const RestartSchema = z
  .object({
    scope: z.enum(RESTART_SCOPES).default('failed'),
    rows: z.array(z.number().int().positive()).max(10_000).optional(),
  })
  .strict();
export const ResolveSchema = z.discriminatedUnion('outcome', [
  z
    .object({
      row: z.number().int().positive(),
      outcome: z.literal('shipped'),
      trackingNumber: z
        .string()
        .regex(/^[A-Z0-9]{6,35}$/, { error: 'tracking number must be 6–35 letters/digits' }),
    })
    .strict(),
  z.object({ row: z.number().int().positive(), outcome: z.literal('retry') }).strict(),
]);
export const FinishSchema = z.object({}).strict();
/** Resume a batch waiting for UPS (after fixing the credentials): dispatch starts again at once. */
export const ResumeSchema = z.object({ by: z.string().max(200).optional() }).strict();

export type ApproveArgs = z.input<typeof ApproveSchema>;
export type RejectArgs = z.input<typeof RejectSchema>;
export type SetModeArgs = z.input<typeof SetModeSchema>;
export type CancelArgs = z.input<typeof CancelSchema>;
export type RestartArgs = z.input<typeof RestartSchema>;
export type ResolveArgs = z.input<typeof ResolveSchema>;
export type FinishArgs = z.input<typeof FinishSchema>;
export type ResumeArgs = z.input<typeof ResumeSchema>;

/** An operator action the workflow queues for the `applyRowAction` activity (restart or resolve). */
export type PendingAction =
  | { kind: 'restart'; scope: 'failed' | 'needs_review' | 'all_unshipped'; rows?: number[] }
  | { kind: 'resolve'; row: number; outcome: 'shipped'; trackingNumber: string }
  | { kind: 'resolve'; row: number; outcome: 'retry' };

/** One message's problems as one line: `mode: mode must be "confirm" or "auto"`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

// ---------------------------------------------------------------- what the queries return

export interface RowCounts {
  total: number;
  invalid: number;
  pending: number;
  inFlight: number;
  shipped: number;
  failed: number;
  needsReview: number;
  cancelled: number;
  voided: number;
}

/** RowStatus → its field in {@link RowCounts}. */
export const COUNT_FIELD: Readonly<Record<RowStatus, keyof RowCounts>> = {
  pending: 'pending',
  invalid: 'invalid',
  in_flight: 'inFlight',
  shipped: 'shipped',
  failed: 'failed',
  needs_review: 'needsReview',
  cancelled: 'cancelled',
  voided: 'voided',
};

export function emptyCounts(): RowCounts {
  return {
    total: 0,
    invalid: 0,
    pending: 0,
    inFlight: 0,
    shipped: 0,
    failed: 0,
    needsReview: 0,
    cancelled: 0,
    voided: 0,
  };
}

/** Shipments UPS made for a row beyond the row's own (a superseded attempt's): each is voided. */
export interface ExtraShipmentCounts {
  found: number;
  voided: number;
  /** Voids UPS refused: listed by `shipbatch rows` for an operator. */
  notVoided: number;
}

/** The first row numbers that need an operator (failed, needs review): numbers only, no row data. */
export interface ActionRows {
  failed: number[];
  needsReview: number[];
}

/** Why a batch waits for UPS: failures about UPS itself, not about one row. */
export type UpsOutageKind = 'auth' | 'unreachable' | 'unavailable' | 'rate_limited';

export interface UpsOutage {
  kind: UpsOutageKind;
  /** In plain words: "UPS refused the credentials", "UPS unreachable: connection refused"… */
  reason: string;
  /** When the batch started waiting (ISO). */
  since: string;
  /** When UPS is asked next (ISO); absent while a probe runs. */
  nextProbeAt?: string;
  /** Probes made so far in this outage. */
  probes: number;
  /** Refused credentials: an operator fixes them, then sends `resume` (a probe that succeeds resumes too). */
  needsOperator: boolean;
}

export interface RejectedMessage {
  name: string;
  reason: string;
  at: string;
}

export interface BatchStatus {
  batchId: string;
  name: string;
  phase: BatchPhase;
  mode: BatchMode;
  modeLocked: boolean;
  counts: RowCounts;
  estimatedCostCents: number;
  actualCostCents: number;
  currency: string;
  previewHash?: string;
  approval?: { by: string; at: string };
  rejectedMessages: RejectedMessage[];
  /** Why the batch failed to start or stopped early (template does not compile, unknown table…). */
  error?: string;
  /** Present when a row was shipped more than once (each extra one voided, or listed when UPS refused). */
  extraShipments?: ExtraShipmentCounts;
  /** Present while the batch waits for UPS (phase `waiting_for_ups`). */
  upsOutage?: UpsOutage;
  /** Present once an address pre-flight or rate shopping started: rows done of all, per step. */
  preflight?: PreflightProgress;
  /** Present with the option `pickup` once shipping ended: the UPS pickup (PRN) or why there is none. */
  pickup?: PickupStatus;
  updatedAt: string;
}

export interface PreviewRow {
  rowNo: number;
  /** Row data: read from the ledger by the client, never carried in workflow history (empty in the query). */
  recipient: string;
  cityState: string;
  service: string;
  estimatedCostCents: number;
  warnings: string[];
  /** Rate shopping: the template's service and its price (when it differs from `service`). */
  templateService?: string;
  templateCostCents?: number;
  /** Address pre-flight: the outcome, and (row data, ledger only) the candidate or candidates. */
  address?: { outcome: AddressOutcome; residential?: boolean; candidate?: string; applied?: boolean };
}

export interface BatchPreview {
  totalRows: number;
  validRows: number;
  invalidRows: number;
  previewRows: PreviewRow[];
  additionalRows: number;
  totalEstimatedCostCents: number;
  currency: string;
  rowsWithWarnings: number;
  /** Rows UPS gave no rate for (listed with a "not rated" warning, left out of the average). */
  unratedRows?: number;
  /** Present when UPS did not answer at all (nothing rated): the batch waits for UPS, then previews again. */
  upsDown?: { kind: UpsOutageKind; reason: string };
  /** Present with the address pre-flight: counts per outcome, first rows of each. */
  addressCheck?: AddressCheckSummary;
  /** Present with rate shopping: services chosen and the saving. */
  rateShopping?: RateShoppingSummary;
  /** Present with the option `pickup`: the date and window asked for and UPS's charge (not in the total). */
  pickup?: PickupQuote;
  /** Covers the rows, the template, the shipper and the pre-flight's outcomes and chosen services. */
  previewHash: string;
}

export interface BatchResult {
  batchId: string;
  phase: BatchPhase;
  counts: RowCounts;
  totalCostCents: number;
  currency: string;
  /** Present when a row was shipped more than once (each extra one voided, or listed when UPS refused). */
  extraShipments?: ExtraShipmentCounts;
  /** Shipped rows whose cost is a rate quote (shipments found again by reference, or recorded by an operator). */
  estimatedCostRows?: number;
  startedAt: string;
  finishedAt: string;
}

/** Phases after which nothing changes any more. */
export const FINAL_PHASES: ReadonlySet<BatchPhase> = new Set([
  'completed',
  'completed_with_errors',
  'cancelled',
  'rejected',
  'expired',
]);
