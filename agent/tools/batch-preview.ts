/**
 * `batch_preview`: start a batch over an allowed table (its inputs checked first, as `shipbatch start` does) or
 * reuse `job_id`, wait for its cost preview and return it with the next step.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { BatchNotFoundError, type BatchPreview, type ShipbatchClient } from '../../client/index';
import {
  BatchOptionsSchema,
  MAX_FILTER_CHARS,
  MAX_TEMPLATE_CHARS,
  ModeSchema,
  TableNameSchema,
} from '../../domain/batch';
import { MIN_PICKUP_WINDOW_MINUTES, PickupOptionSchema } from '../../domain/pickup';
import { ADDRESS_CHECKS, MAX_TRANSIT_DAYS } from '../../domain/preflight';
import { ShipperSchema } from '../../domain/shipment-schema';
import { afterLabelOptionsOf, checkPreviewInputs, preflightOptionsOf } from '../checks';
import { ToolError } from '../errors';
import { splitTableName, tableText } from '../sources';
import { argumentNames } from './answers';
import { nextStep } from './next-step';
import { BEFORE_PREVIEW, checkMode, JobId, jobIdOf, noWorker, workerState } from './shared';
import { tool, type Settings } from './tool';

const PreviewArgs = z
  .object({
    job_id: JobId.optional().describe(
      'Reuse this batch: if it exists, its preview is returned and the other arguments are ignored; if not, the batch is started under this id. Omit to start a new batch with a generated id.',
    ),
    source_table: z
      .string()
      // `"Orders"` is the table Orders, as `Orders` is: quotes are taken off well-formed names.
      .transform((t) => {
        const name = splitTableName(t);
        return name ? tableText(name) : t;
      })
      .pipe(TableNameSchema)
      .describe(
        'PostgreSQL table holding one order per row (plain identifier, e.g. orders or public.orders; names are case-sensitive); key column `id`. Only the tables this server allows (by default those `shipbatch import` made).',
      ),
    filter_clause: z
      .string()
      .max(MAX_FILTER_CHARS)
      .optional()
      .describe(
        "SQL boolean expression over the table's columns selecting the rows, e.g. state = 'TX' AND weight_oz < 50. Columns, literals, operators, IN, BETWEEN, LIKE, IS NULL only; no subqueries.",
      ),
    mapping_template: z
      .string()
      .min(1, { error: 'mapping_template is empty' })
      .max(MAX_TEMPLATE_CHARS)
      .describe(
        'Nunjucks template rendering one row (variable `row`) into the JSON `Shipment` of a UPS ShipmentRequest (ShipTo, Package, Service…).',
      ),
    shipper_info: ShipperSchema.describe(
      'The UPS Shipper object: Name, ShipperNumber (6 characters), Address {AddressLine[], City, StateProvinceCode, PostalCode, CountryCode}, optional AttentionName and Phone.Number.',
    ),
    mode: ModeSchema.optional().describe(
      '"confirm" (default: the batch waits for batch_execute with approved: true) or "auto" (ships right after the preview, without approval; refused unless the server runs with --allow-auto). Case-insensitive.',
    ),
    address_check: z
      .enum(ADDRESS_CHECKS, { error: 'address_check must be "off", "warn" or "require"' })
      .optional()
      .describe(
        'UPS Address Validation of every row before the preview: "off" (default), "warn" (outcomes valid/corrected/ambiguous/not found shown in the preview, every row ships) or "require" (ambiguous and not-found addresses become invalid rows that do not ship). Residential addresses are rated as residential.',
      ),
    use_corrected_address: z
      .boolean({ error: 'use_corrected_address must be true or false' })
      .optional()
      .describe(
        "With address_check: a row UPS corrected (one candidate that differs from the row's address) ships UPS's address instead of its own. Default false.",
      ),
    service: z
      .enum(['template', 'cheapest'], { error: 'service must be "template" or "cheapest"' })
      .optional()
      .describe(
        '"template" (default: the service the mapping template sets) or "cheapest" (each row rated with every UPS service; the cheapest one ships, and the preview shows the saving).',
      ),
    max_transit_days: z
      .number({ error: `max_transit_days must be a whole number from 1 to ${MAX_TRANSIT_DAYS}` })
      .int({ error: `max_transit_days must be a whole number from 1 to ${MAX_TRANSIT_DAYS}` })
      .min(1, { error: `max_transit_days must be a whole number from 1 to ${MAX_TRANSIT_DAYS}` })
      .max(MAX_TRANSIT_DAYS, {
        error: `max_transit_days must be a whole number from 1 to ${MAX_TRANSIT_DAYS}`,
      })
      .optional()
      .describe(
        'Only with service "cheapest": the cheapest service that delivers within this many business days; rows no service reaches in time become invalid.',
      ),
    pickup: z
      .object({
        ready_time: PickupOptionSchema.shape.readyTime.describe(
          "When the packages are ready, HH:MM (24 h, the pickup place's time), e.g. 09:00.",
        ),
        close_time: PickupOptionSchema.shape.closeTime.describe(
          `When the pickup place closes, HH:MM (24 h), at least ${MIN_PICKUP_WINDOW_MINUTES} minutes after ready_time, e.g. 17:00.`,
        ),
        date: PickupOptionSchema.shape.date.describe(
          'The pickup day, YYYY-MM-DD. Default: the day shipping ends (the next weekday once close_time is less than an hour away).',
        ),
        time_zone: PickupOptionSchema.shape.timeZone.describe(
          "The pickup place's IANA time zone, e.g. America/Chicago (UPS reads the times there). Default: UTC.",
        ),
      })
      .strict()
      .optional()
      .describe(
        "One UPS on-call pickup at the shipper's address (shipper_info needs Phone.Number) for the packages shipped, scheduled once shipping ends; the preview shows UPS's charge (not in the total). Omit for no pickup.",
      ),
    track_for: BatchOptionsSchema.shape.trackFor
      .unwrap()
      .optional()
      .describe(
        'How long the shipped packages are followed through UPS Tracking after the batch closes: a duration such as 14d (default), 30d or 12h, at most 365d; "0s" for no tracking.',
      ),
    track_every: BatchOptionsSchema.shape.trackEvery
      .unwrap()
      .optional()
      .describe(
        'How often a package in transit is looked at: a duration such as 4h (default), 30m or 1d, at least 1s (out for delivery: four times as often). Only with tracking (track_for not "0s").',
      ),
  })
  .strict();

/** The `batch_preview` tool. */
export const batchPreviewTool = tool({
  name: 'batch_preview',
  // Destructive: in auto mode (when the server allows it) the batch ships right after the preview.
  annotations: {
    title: 'Preview a shipment batch',
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
  },
  description:
    "Start a UPS shipment batch over the rows of an allowed table (or reuse job_id) and return its cost preview: rows total/valid/invalid, the first rows rated in detail, the total estimate and previewHash; with address_check, addressCheck (counts per outcome, the first rows of each, and per detailed row its outcome and UPS's candidate); with service \"cheapest\", rateShopping (services chosen, rows changed, savingsCents) and per detailed row the template's service and price; with pickup, pickup (date, readyTime, closeTime and UPS's charge costCents/currency, not in the total, or error: why UPS gave none; the pickup is still asked for after shipping). Nothing ships in confirm mode until batch_execute with approved: true; auto mode ships at once and is refused unless the server allows it. When UPS rated no row (down, or the credentials refused) the answer has preview: null, phase waiting_for_ups, the upsOutage and the next step.",
  schema: PreviewArgs,
  run: batchPreview,
});

async function batchPreview(
  client: ShipbatchClient,
  args: z.output<typeof PreviewArgs>,
  opts: Settings,
): Promise<unknown> {
  checkMode(args.mode, opts);
  const options = { ...preflightOptionsOf(args), ...afterLabelOptionsOf(args, args.shipper_info) };
  let id: string | undefined;
  let reused = false;
  if (args.job_id !== undefined) {
    id = jobIdOf(args.job_id);
    reused = await client.describeBatch(id).then(
      () => true,
      (err: unknown) => {
        if (err instanceof BatchNotFoundError) return false;
        throw err;
      },
    );
  }
  if (!reused) {
    // A blank filter means every row, as an omitted one.
    const filter = args.filter_clause?.trim() ? args.filter_clause : undefined;
    const table = await checkPreviewInputs(await client.pool(), {
      table: args.source_table,
      ...(filter !== undefined ? { filter } : {}),
      template: args.mapping_template,
      shipper: args.shipper_info,
      tables: opts.tables,
    });
    const started = await client.startBatch(
      {
        source: { table, ...(filter !== undefined ? { filter } : {}) },
        template: args.mapping_template,
        shipper: args.shipper_info,
        ...(args.mode ? { mode: args.mode } : {}),
        ...(Object.keys(options).length > 0 ? { options } : {}),
      },
      id ? { id } : {},
    );
    id = started.batchId;
  }
  const batchId = id!;
  const worker = await workerState(client, batchId);
  if (!worker.polling) throw noWorker(batchId, worker.taskQueue);
  const deadline = Date.now() + opts.previewWaitMs;
  let status = await client.getBatch(batchId);
  while (BEFORE_PREVIEW.has(status.phase) && Date.now() < deadline) {
    // A batch that failed to load (table dropped meanwhile, filter refused…) stays "loading" in its status.
    const failure = await closedWithout(client, batchId);
    if (failure) throw new ToolError(`batch ${batchId} ${argumentNames(failure)}`);
    await sleep(opts.pollMs);
    status = await client.getBatch(batchId);
  }
  if (BEFORE_PREVIEW.has(status.phase)) {
    throw new ToolError(
      `the preview of batch ${batchId} is not ready after ${Math.round(opts.previewWaitMs / 1000)}s (phase ${status.phase}, ${status.counts.total} rows loaded); call batch_preview again with job_id "${batchId}"`,
    );
  }
  const preview: BatchPreview | null = await client.getPreview(batchId);
  if (!preview && status.phase === 'waiting_for_ups') {
    // UPS rated no row (down, or the credentials refused): no $0.00 estimate; the preview follows.
    return {
      job_id: batchId,
      reused,
      phase: status.phase,
      mode: status.mode,
      preview: null,
      ...(status.upsOutage ? { upsOutage: status.upsOutage } : {}),
      next_step: nextStep(batchId, status),
    };
  }
  if (!preview) {
    throw new ToolError(
      `batch ${batchId} ended ${status.phase} without a preview${status.error ? `: ${argumentNames(status.error)}` : ''}` +
        (status.counts.total === 0 ? ' (no row matched source_table/filter_clause)' : ''),
    );
  }
  return {
    job_id: batchId,
    reused,
    phase: status.phase,
    mode: status.mode,
    ...preview,
    next_step: nextStep(batchId, status),
  };
}

/** Why the batch closed before its preview, or undefined while it runs. */
async function closedWithout(client: ShipbatchClient, id: string): Promise<string | undefined> {
  const d = await client.describeBatch(id);
  if (d.status.name === 'RUNNING') return undefined;
  try {
    await client.temporal.workflow.getHandle(id).result();
    return `ended (${d.status.name}) without a preview`;
  } catch (err) {
    // The innermost cause is the activity's own words (e.g. the filter parser's).
    let e: unknown = err;
    while (e instanceof Error && e.cause instanceof Error) e = e.cause;
    return `failed (${d.status.name}) without a preview: ${e instanceof Error ? e.message : String(e)}`;
  }
}
