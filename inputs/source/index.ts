/** The source side of a batch: safe filter, source introspection and paged reads, the record of imported tables. */
export { FilterError, validateFilter, quoteLiteral, FILTER_LIMITS, type ValidatedFilter } from './filter';
export {
  SourceError,
  IDENTIFIER,
  quoteIdent,
  checkIdentifier,
  parseTableName,
  quoteTable,
  findRelation,
  requireRelation,
  requireColumn,
  type Relation,
  type TableName,
} from './identifiers';
export {
  describeSource,
  checkSourceFilter,
  readSourcePage,
  countSource,
  writeBackTracking,
  writeBackColumn,
  isDefinitiveWriteBackError,
  sourceTypes,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  MAX_PAGE_SIZE,
  type Db,
  type SourceDescription,
  type SourcePage,
  type ReadPageOptions,
  type WriteBackOptions,
  type WriteBackColumnOptions,
} from './source';
