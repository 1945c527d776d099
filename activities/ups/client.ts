/**
 * The one UPS client the activities use: typed operations over a UPS MCP server (real or sandbox),
 * results normalised (normalize.ts), failures classified (errors.ts). One instance per worker process.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ShipbatchConfig } from '../../temporal.config';
import type { ShipmentRequestBody } from '../../domain/shipment-schema';
import { sandboxTarget, UpsMcpConnection, type UpsServerTarget } from './connection';
import { classifyToolError, classifyUpsFailure, UpsError } from './errors';
import {
  normalizeAddressValidation,
  normalizeLabelRecoveryResponse,
  normalizeRateResponse,
  normalizeShipmentResponse,
  normalizeTrackResponse,
  normalizeVoidResponse,
  type AddressValidation,
  type RateQuote,
  type RecoveredLabels,
  type ShipmentResult,
  type TrackingStatus,
  type VoidResult,
} from './normalize';
import { rateRequestFromShipmentRequest } from './rate-request';

export type UpsToolNames = ShipbatchConfig['ups']['tools'];

export interface UpsClientOptions {
  tools: UpsToolNames;
  callTimeoutMs: number;
  /** Calls started per second across this client (0 = unlimited). */
  callsPerSecond?: number;
}

export interface AddressInput {
  addressLines: string[];
  city: string;
  state: string;
  postalCode: string;
  countryCode: string;
}

/** Spaces call starts evenly so one worker never exceeds its UPS call rate. */
class CallPacer {
  private next = 0;
  constructor(private readonly perSecond: number) {}
  async wait(): Promise<void> {
    if (!(this.perSecond > 0)) return;
    const now = Date.now();
    const at = Math.max(now, this.next);
    this.next = at + 1000 / this.perSecond;
    if (at > now) await sleep(at - now);
  }
}

export class UpsClient {
  private readonly pacer: CallPacer;

  constructor(
    readonly connection: UpsMcpConnection,
    private readonly opts: UpsClientOptions,
  ) {
    this.pacer = new CallPacer(opts.callsPerSecond ?? 0);
  }

  /**
   * Call a tool by its role; returns the UPS body (structuredContent, else the JSON text) or throws a
   * classified {@link UpsError}.
   */
  private async call(tool: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
    await this.pacer.wait();
    let result;
    try {
      result = await this.connection.callTool(tool, args, { timeoutMs: this.opts.callTimeoutMs, signal });
    } catch (err) {
      throw classifyUpsFailure(tool, err);
    }
    const text = (result.content ?? [])
      .map((c) => (c.type === 'text' ? c.text : ''))
      .join('\n')
      .trim();
    if (result.isError) throw classifyToolError(tool, text);
    if (result.structuredContent) return result.structuredContent;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new UpsError({
        tool,
        message: `${tool} answered with text that is not JSON: ${text.slice(0, 200)}`,
        errorClass: tool === this.opts.tools.create ? 'ambiguous' : 'definitive',
        category: 'unknown',
      });
    }
  }

  /** Quote one service (`Rate`) or every service (`Shop`) for a raw RateRequest body. */
  async rate(
    requestBody: Record<string, unknown>,
    requestoption: 'Rate' | 'Shop' = 'Rate',
    signal?: AbortSignal,
  ): Promise<RateQuote[]> {
    const body = await this.call(this.opts.tools.rate, { requestoption, request_body: requestBody }, signal);
    return normalizeRateResponse(body);
  }

  /** Quote the service of a ShipmentRequest, i.e. what shipping it would cost. */
  async rateShipmentRequest(request: ShipmentRequestBody, signal?: AbortSignal): Promise<RateQuote> {
    const quotes = await this.rate(rateRequestFromShipmentRequest(request), 'Rate', signal);
    return quotes[0]!;
  }

  /** Create the shipment; errors are classified (ambiguous = may exist at UPS). */
  async createShipment(request: ShipmentRequestBody, signal?: AbortSignal): Promise<ShipmentResult> {
    const tool = this.opts.tools.create;
    const body = await this.call(tool, { request_body: request }, signal);
    try {
      return normalizeShipmentResponse(body);
    } catch (err) {
      // UPS answered success but we cannot read it: the shipment exists, so this is ambiguous.
      throw new UpsError({
        tool,
        message: (err as Error).message,
        errorClass: 'ambiguous',
        category: 'unknown',
        cause: err,
      });
    }
  }

  async voidShipment(
    shipmentId: string,
    trackingNumbers?: string[],
    signal?: AbortSignal,
  ): Promise<VoidResult> {
    const args: Record<string, unknown> = { shipmentidentificationnumber: shipmentId };
    if (trackingNumbers?.length)
      args.trackingnumber = trackingNumbers.length === 1 ? trackingNumbers[0] : trackingNumbers;
    return normalizeVoidResponse(await this.call(this.opts.tools.void, args, signal));
  }

  /**
   * Find a shipment's labels by its reference number. Resolves `undefined` when UPS has no shipment
   * with that reference; throws when the lookup itself failed (then nobody knows).
   */
  async recoverByReference(
    reference: string,
    shipperNumber: string,
    format: 'GIF' | 'ZPL' = 'GIF',
    signal?: AbortSignal,
  ): Promise<RecoveredLabels | undefined> {
    return this.recover(
      { ReferenceValues: { ReferenceNumber: { Value: reference }, ShipperNumber: shipperNumber } },
      format,
      signal,
    );
  }

  async recoverByTracking(
    trackingNumber: string,
    format: 'GIF' | 'ZPL' = 'GIF',
    signal?: AbortSignal,
  ): Promise<RecoveredLabels | undefined> {
    return this.recover({ TrackingNumber: trackingNumber }, format, signal);
  }

  private async recover(
    lookup: Record<string, unknown>,
    format: 'GIF' | 'ZPL',
    signal?: AbortSignal,
  ): Promise<RecoveredLabels | undefined> {
    const request_body = {
      LabelRecoveryRequest: {
        Request: { RequestOption: 'Non_Validate' },
        LabelSpecification: {
          LabelImageFormat: { Code: format },
          LabelStockSize: { Height: '6', Width: '4' },
        },
        ...lookup,
      },
    };
    try {
      return normalizeLabelRecoveryResponse(
        await this.call(this.opts.tools.recoverLabel, { request_body }, signal),
      );
    } catch (err) {
      if (err instanceof UpsError && err.category === 'not_found') return undefined;
      throw err;
    }
  }

  async validateAddress(address: AddressInput, signal?: AbortSignal): Promise<AddressValidation> {
    const [zip, ext] = address.postalCode.split('-');
    const args = {
      addressLine1: address.addressLines[0] ?? '',
      addressLine2: address.addressLines[1] ?? '',
      politicalDivision2: address.city,
      politicalDivision1: address.state,
      zipPrimary: zip ?? '',
      zipExtended: ext ?? '',
      countryCode: address.countryCode,
    };
    return normalizeAddressValidation(await this.call(this.opts.tools.validateAddress, args, signal));
  }

  async track(trackingNumber: string, signal?: AbortSignal): Promise<TrackingStatus> {
    return normalizeTrackResponse(
      await this.call(this.opts.tools.track, { inquiryNumber: trackingNumber }, signal),
    );
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

/** Where the configured UPS MCP server is (sandbox by default). */
export function upsServerTarget(ups: ShipbatchConfig['ups']): UpsServerTarget {
  switch (ups.transport) {
    case 'http':
      return { transport: 'http', url: ups.url! };
    case 'stdio':
      return { transport: 'stdio', command: ups.command!, args: ups.args, env: ups.env };
    case 'sandbox':
      return sandboxTarget({
        ...ups.env,
        UPS_SANDBOX_DATA_DIR: ups.sandboxDataDir,
        ...(ups.shipperNumber ? { UPS_ACCOUNT_NUMBER: ups.shipperNumber } : {}),
        ...pick(process.env, ['UPS_SANDBOX_KNOBS', 'UPS_SANDBOX_KNOBS_FILE']),
      });
  }
}

function pick(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((n) => (env[n] ? [[n, env[n]]] : [])));
}

/** The worker's UPS client, from configuration. */
export function createUpsClient(
  ups: ShipbatchConfig['ups'],
  onServerLog?: (line: string) => void,
): UpsClient {
  return new UpsClient(new UpsMcpConnection(upsServerTarget(ups), onServerLog), {
    tools: ups.tools,
    callTimeoutMs: ups.callTimeoutMs,
    callsPerSecond: ups.callsPerSecond,
  });
}
