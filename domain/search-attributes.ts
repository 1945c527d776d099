import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Search attributes of a batch workflow (docs/design.md §6), upserted on phase changes only. */
export const SHIP_BATCH_PHASE = defineSearchAttributeKey('ShipBatchPhase', SearchAttributeType.KEYWORD);
export const SHIP_BATCH_MODE = defineSearchAttributeKey('ShipBatchMode', SearchAttributeType.KEYWORD);
export const SHIP_BATCH_ROWS = defineSearchAttributeKey('ShipBatchRows', SearchAttributeType.INT);
/** Of a tracking workflow (`trackBatch`): `tracking`, `exceptions` (a package needs someone), `done`, `expired`. */
export const SHIP_BATCH_TRACKING = defineSearchAttributeKey('ShipBatchTracking', SearchAttributeType.KEYWORD);

/** Name → type, as `temporal server start-dev --search-attribute NAME=TYPE` and the operator API take them. */
export const SEARCH_ATTRIBUTES = {
  ShipBatchPhase: 'Keyword',
  ShipBatchMode: 'Keyword',
  ShipBatchRows: 'Int',
  ShipBatchTracking: 'Keyword',
} as const;
