/**
 * The `start` command's definition: its flags (parsed and checked by commander: a bad value is exit 2 naming
 * the flag, before anything is read or started), help and examples. What it does is batch-commands.ts's
 * `startCommand`.
 */
import { MAX_TRANSIT_DAYS } from '../../domain/preflight';
import { columnArg, durationArg, pickupArg, timeZoneArg } from './after-label';
import { startCommand, type StartFlags } from './batch-commands';
import type { CommandKit } from './command-kit';
import { intArg, modeArg } from './inputs';
import { addressCheckArg, CLI_ADDRESS_CHECK, serviceArg } from './preflight';

export function addStartCommand({ program, io, act, json, example }: CommandKit): void {
  example(
    json(
      program
        .command('start')
        .description('validate and start a batch over a PostgreSQL table (prints {batchId, runId})')
        .requiredOption('--table <table>', 'source table or view (schema.table allowed)')
        .option('--key-column <column>', 'unique key column of the source', 'id')
        .option('--filter <expr>', 'SQL boolean expression over the source columns (checked, read-only)')
        .requiredOption('--template <file>', 'nunjucks template rendering the UPS Shipment (JSON)')
        .requiredOption('--shipper <file>', 'JSON file of the UPS Shipper')
        .option('--mode <mode>', 'confirm (wait for approval) or auto', modeArg, 'confirm')
        .option('--name <name>', 'batch name (also gives the id batch-<name>)')
        .option('--id <id>', 'batch id (batch-…)')
        .option(
          '--preview-rows <n>',
          'rows rated in detail in the preview',
          intArg('--preview-rows', 0, 1000),
        )
        .option('--rate-all', 'rate every row (exact total)')
        .option('--concurrency <n>', 'rows in flight at once', intArg('--concurrency', 1, 256))
        .option(
          '--address-check <check>',
          'UPS Address Validation of every row before the preview: off, warn (outcomes shown in the preview) or require (ambiguous and unknown addresses become invalid rows)',
          addressCheckArg,
          CLI_ADDRESS_CHECK,
        )
        .option(
          '--use-corrected-address',
          "a row UPS corrected (one candidate that differs) ships UPS's address instead of its own (needs an address check)",
        )
        .option(
          '--service <service>',
          "template (the template's service) or cheapest (each row rated with every UPS service, the cheapest ships)",
          serviceArg,
          'template',
        )
        .option(
          '--max-transit-days <n>',
          `with --service cheapest: only services that deliver within n business days (1-${MAX_TRANSIT_DAYS}); rows no service reaches in time become invalid`,
          intArg('--max-transit-days', 1, MAX_TRANSIT_DAYS),
        )
        .option(
          '--track-for <duration>',
          'how long the packages are followed after the batch closes, e.g. 30d (default 14d; 0s: not at all; at most 365d)',
          durationArg('--track-for', 'trackFor'),
        )
        .option(
          '--track-every <duration>',
          'how often a package in transit is looked at, e.g. 2h (default 4h; at least 1s)',
          durationArg('--track-every', 'trackEvery'),
        )
        .option(
          '--pickup <window>',
          'one UPS pickup once shipping ends: HH:MM-HH:MM (ready to close, at least 60 minutes), @YYYY-MM-DD for a date (default: the day shipping ends); its charge is in the preview',
          pickupArg,
        )
        .option(
          '--pickup-time-zone <tz>',
          "the pickup place's IANA time zone, e.g. America/Chicago (default: this machine's)",
          timeZoneArg,
        )
        .option(
          '--write-back <column>',
          "write each shipped row's tracking number into this text column of the source table when the batch closes",
          columnArg('--write-back'),
        )
        .option(
          '--write-back-status <column>',
          "with --write-back: write each row's delivery status into this column as tracking learns it",
          columnArg('--write-back-status'),
        )
        .option('--wait', 'follow the batch until it closes (progress bar)'),
    ).action(act((f: StartFlags) => startCommand(f, io))),
    'shipbatch start --table orders --template examples/template.njk --shipper examples/shipper.json --name spring',
    'shipbatch start --table orders --filter "state = \'TX\'" --template t.njk --shipper s.json --mode auto --wait',
    'shipbatch start --table orders --template t.njk --shipper s.json --address-check require --service cheapest --max-transit-days 2',
    'shipbatch start --table orders --template t.njk --shipper s.json --pickup 09:00-17:00@2026-12-08 --track-for 30d --write-back tracking --write-back-status delivery',
  );
}
