/**
 * What `batch_preview` checks before it starts anything, as `shipbatch start` does: the table is one agents
 * may use (see ./sources) and has the key column, the filter passes the allow-list parser against the table's
 * columns (no row is read), the template compiles; the batch options its other arguments set are checked with the
 * domain's schemas. A batch that would only fail in its first activity is never started, and the error names
 * the tool's argument.
 */
import type pg from 'pg';
import type { TableName } from '../inputs/source/identifiers';
import { durationToMs, type BatchOptions } from '../domain/batch';
import { PickupOptionSchema } from '../domain/pickup';
import type { AddressCheck } from '../domain/preflight';
import type { Shipper } from '../domain/shipment-schema';
import { ToolError } from './errors';
import { allowedSource } from './sources';

/**
 * Throws a {@link ToolError} naming `source_table`, `filter_clause` or `mapping_template`. Returns the
 * table as the batch must name it: the allowed relation, schema-qualified.
 */
export async function checkPreviewInputs(
  pool: pg.Pool,
  args: {
    table: string;
    filter?: string;
    template: string;
    shipper: Shipper;
    /** The tables agents may use; undefined: the imported ones. */
    tables: readonly TableName[] | undefined;
  },
): Promise<string> {
  const table = await allowedSource(pool, args.table, args.tables);
  // Loaded on demand: the parser and the isolate are native modules only this tool needs.
  const { checkSourceFilter, describeSource, FilterError, SourceError } =
    await import('../inputs/source/index');
  try {
    await describeSource(pool, table, 'id');
  } catch (err) {
    if (err instanceof SourceError) throw new ToolError(`source_table: ${err.message}`);
    throw err;
  }
  if (args.filter !== undefined) {
    try {
      await checkSourceFilter(pool, { table, filter: args.filter });
    } catch (err) {
      if (err instanceof FilterError || err instanceof SourceError) {
        throw new ToolError(
          `filter_clause: ${err.message} (a filter is a boolean expression over the table's columns, e.g. state = 'TX' AND weight_oz < 100)`,
        );
      }
      throw err;
    }
  }
  const { openBatchRenderer } = await import('../inputs/template/index');
  const opened = await openBatchRenderer({
    templateSource: args.template,
    shipper: args.shipper,
    batch: { id: 'batch-check', name: 'check', labelFormat: 'GIF' },
  });
  if (!opened.ok) throw new ToolError(`mapping_template: does not compile: ${opened.error}`);
  opened.renderer.dispose();
  return table;
}

/** The pre-flight arguments of `batch_preview`, each already checked on its own by the tool's schema. */
export interface PreflightArgs {
  address_check?: AddressCheck;
  use_corrected_address?: boolean;
  service?: 'template' | 'cheapest';
  max_transit_days?: number;
}

/**
 * The batch options of the pre-flight arguments, checked together (as `shipbatch start` checks its flags):
 * `max_transit_days` only with `service: "cheapest"`, `use_corrected_address` only with an address check.
 * Throws a {@link ToolError} naming the argument; omitted arguments leave the batch's defaults (no address
 * check, the template's service).
 */
export function preflightOptionsOf(
  args: PreflightArgs,
): Partial<Pick<BatchOptions, 'addressCheck' | 'useCorrectedAddress' | 'service'>> {
  const service = args.service ?? 'template';
  if (args.max_transit_days !== undefined && service !== 'cheapest') {
    throw new ToolError(
      `max_transit_days: applies only with service "cheapest" (service is "${service}"); add service: "cheapest" or leave max_transit_days out`,
    );
  }
  if (args.use_corrected_address && (args.address_check ?? 'off') === 'off') {
    throw new ToolError(
      'use_corrected_address: needs an address check; add address_check: "warn" or "require", or leave use_corrected_address out',
    );
  }
  return {
    ...(args.address_check !== undefined ? { addressCheck: args.address_check } : {}),
    ...(args.use_corrected_address !== undefined ? { useCorrectedAddress: args.use_corrected_address } : {}),
    ...(args.service === 'cheapest'
      ? {
          service:
            args.max_transit_days !== undefined
              ? { cheapest: { maxTransitDays: args.max_transit_days } }
              : ('cheapest' as const),
        }
      : args.service === 'template'
        ? { service: 'template' as const }
        : {}),
  };
}

/** The after-the-label arguments of `batch_preview`, each already checked on its own by the tool's schema. */
export interface AfterLabelArgs {
  pickup?: {
    ready_time: string;
    close_time: string;
    date?: string | undefined;
    time_zone?: string | undefined;
  };
  track_for?: string;
  track_every?: string;
}

/** The pickup option's fields as `batch_preview` names them. */
const PICKUP_ARGS: Record<string, string> = {
  readyTime: 'ready_time',
  closeTime: 'close_time',
  date: 'date',
  timeZone: 'time_zone',
};
const pickupWords = (text: string) =>
  text.replace(/\b(readyTime|closeTime|timeZone)\b/g, (w) => PICKUP_ARGS[w]!);

/**
 * The batch options of the after-the-label arguments (only those given: the others keep the batch's defaults,
 * tracking for 14 days every 4 hours and no pickup), checked together as `shipbatch start` checks its flags:
 * `pickup` with the domain's PickupOptionSchema (a window of at least an hour) and only with a shipper phone
 * UPS can call, `track_every` only with tracking (`track_for` not 0s). Throws a {@link ToolError} naming the
 * argument (`pickup.close_time: …`).
 */
export function afterLabelOptionsOf(
  args: AfterLabelArgs,
  shipper: Shipper,
): Partial<Pick<BatchOptions, 'trackFor' | 'trackEvery' | 'pickup'>> {
  if (args.track_every !== undefined && args.track_for !== undefined && durationToMs(args.track_for) === 0) {
    throw new ToolError(
      `track_every: applies only with tracking (track_for is "${args.track_for}": no tracking); give track_for a duration such as 14d or leave track_every out`,
    );
  }
  let pickup: BatchOptions['pickup'];
  if (args.pickup !== undefined) {
    const { ready_time, close_time, date, time_zone } = args.pickup;
    const r = PickupOptionSchema.safeParse({
      readyTime: ready_time,
      closeTime: close_time,
      ...(date !== undefined ? { date } : {}),
      ...(time_zone !== undefined ? { timeZone: time_zone } : {}),
    });
    if (!r.success) {
      throw new ToolError(
        r.error.issues
          .map(
            (i) =>
              `${['pickup', ...i.path.map((k) => PICKUP_ARGS[String(k)] ?? String(k))].join('.')}: ${pickupWords(i.message)}`,
          )
          .join('; '),
      );
    }
    if (!shipper.Phone?.Number) {
      throw new ToolError(
        'pickup: needs shipper_info.Phone.Number (UPS calls the shipper about the pickup); add it to shipper_info or leave pickup out',
      );
    }
    pickup = r.data;
  }
  return {
    ...(args.track_for !== undefined ? { trackFor: args.track_for } : {}),
    ...(args.track_every !== undefined ? { trackEvery: args.track_every } : {}),
    ...(pickup !== undefined ? { pickup } : {}),
  };
}
