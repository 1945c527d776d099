import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Search attributes of a batch workflow (docs/design.md §6), upserted on phase changes only. */
export const SHIP_BATCH_PHASE = defineSearchAttributeKey('ShipBatchPhase', SearchAttributeType.KEYWORD);
export const SHIP_BATCH_MODE = defineSearchAttributeKey('ShipBatchMode', SearchAttributeType.KEYWORD);
export const SHIP_BATCH_ROWS = defineSearchAttributeKey('ShipBatchRows', SearchAttributeType.INT);

/** Name → type, as `temporal server start-dev --search-attribute NAME=TYPE` and the operator API take them. */
export const SEARCH_ATTRIBUTES = {
  ShipBatchPhase: 'Keyword',
  ShipBatchMode: 'Keyword',
  ShipBatchRows: 'Int',
} as const;
