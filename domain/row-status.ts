/** Ledger states of one batch row (docs/design.md §4). The SQL check constraint in db/migrations mirrors this list. */
export const ROW_STATUSES = [
  'pending',
  'invalid',
  'in_flight',
  'shipped',
  'failed',
  'needs_review',
  'cancelled',
  'voided',
] as const;

export type RowStatus = (typeof ROW_STATUSES)[number];

/** Batch phases (docs/design.md §3), in the order a batch normally moves through them. */
export const BATCH_PHASES = [
  'loading',
  'previewing',
  'awaiting_approval',
  'executing',
  /** UPS does not answer or refuses the credentials: dispatch paused, probing until UPS answers. */
  'waiting_for_ups',
  'awaiting_action',
  'completed',
  'completed_with_errors',
  'cancelled',
  'rejected',
  'expired',
] as const;

export type BatchPhase = (typeof BATCH_PHASES)[number];
