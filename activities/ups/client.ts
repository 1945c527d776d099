/**
 * The one UPS client the activities use: typed operations over a UPS MCP server (real or sandbox),
 * results normalised (normalize.ts), failures classified (errors.ts). One instance per worker process.
 */
import type { ShipmentRequestBody } from '../../domain/shipment-schema';
import type { ShipbatchConfig } from '../../temporal.config';
import { CallPacer } from './call-pacer';
import { UpsTransportError, type UpsCaller } from './connection';
import { classifyToolError, classifyUpsFailure, LABEL_NOT_FOUND_CODES, UpsError } from './errors';
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
import {
  ratePickupArgs,
  readPendingPickups,
  readPickupCreation,
  readPickupRate,
  schedulePickupArgs,
  type PendingPickup,
  type PickupCharge,
  type PickupRequest,
} from './pickup';
import { rateRequestFromShipmentRequest } from './rate-request';
import { NO_METRICS, type ShipbatchMetrics } from '../metrics';

/** UPS Rating request options: one service or all, optionally with time in transit. */
export type RateRequestOption = 'Rate' | 'Shop' | 'Ratetimeintransit' | 'Shoptimeintransit';

/** The MCP tool name of each UPS operation (configurable: a server may name them differently). */
export type UpsToolNames = ShipbatchConfig['ups']['tools'];

export interface UpsClientOptions {
  tools: UpsToolNames;
  callTimeoutMs: number;
  /** Calls started per second across this client (0 = unlimited). */
  callsPerSecond?: number;
  /** Where each call's outcome and duration are recorded (default: nowhere). */
  metrics?: ShipbatchMetrics;
}

export interface AddressInput {
  addressLines: string[];
  city: string;
  state: string;
  postalCode: string;
  countryCode: string;
}

/**
 * Thrown by a caller's `beforeSend` hook to keep a call from leaving (e.g. the attempt lost its claim on
 * the row): passed through unclassified, because nothing was sent.
 */
export class SendWithheld extends Error {
  constructor(readonly reason: string) {
    super(`not sent: ${reason}`);
  }
}

export class UpsClient {
  private readonly pacer: CallPacer;

  /**
   * @param connection where calls go: a {@link UpsSessionPool} (what {@link createUpsClient} builds)
   *   or a single {@link UpsMcpConnection}
   */
  constructor(
    readonly connection: UpsCaller,
    private readonly opts: UpsClientOptions,
  ) {
    this.pacer = new CallPacer(opts.callsPerSecond ?? 0);
  }

  /**
   * Call a tool by its role; returns the UPS body (structuredContent, else the JSON text) or throws a
   * classified {@link UpsError}.
   */
  private async call(
    tool: string,
    args: Record<string, unknown>,
    signal?: AbortSignal,
    hook?: () => Promise<void>,
  ): Promise<unknown> {
    // Timed from when the request leaves (the session wait and pacing have their own measure); a call that
    // failed before it left, from its start. A call the hook withheld was no call: not counted.
    const started = performance.now();
    let sentAt: number | undefined;
    const done = <T>(outcome: string, value: T): T => {
      (this.opts.metrics ?? NO_METRICS).upsCall(tool, outcome, performance.now() - (sentAt ?? started));
      return value;
    };
    // Classification goes by role: the create tool may be configured under another name. Scheduling a
    // pickup makes something at UPS too: a lost answer is ambiguous (the pickup may exist).
    const creating = tool === this.opts.tools.create || tool === this.opts.tools.schedulePickup;
    // Paced once the call has a session, so starts at the server are spaced, not places in line; the
    // caller's hook runs last, right before the request leaves.
    const beforeSend = async () => {
      await this.pacer.wait(signal).catch((err: unknown) => {
        throw new UpsTransportError(`${tool}: cancelled before it was sent`, false, { cause: err });
      });
      await hook?.();
      sentAt = performance.now();
    };
    let result;
    try {
      result = await this.connection.callTool(tool, args, {
        timeoutMs: this.opts.callTimeoutMs,
        signal,
        beforeSend,
      });
    } catch (err) {
      if (err instanceof SendWithheld) throw err;
      const failure = classifyUpsFailure(tool, err, creating);
      throw done(failure.category, failure);
    }
    const text = (result.content ?? [])
      .map((c) => (c.type === 'text' ? c.text : ''))
      .join('\n')
      .trim();
    if (result.isError) {
      const failure = classifyToolError(tool, text, creating);
      throw done(failure.category, failure);
    }
    if (result.structuredContent) return done('ok', result.structuredContent);
    try {
      return done('ok', JSON.parse(text) as unknown);
    } catch {
      throw done(
        'unknown',
        new UpsError({
          tool,
          message: `${tool} answered with text that is not JSON: ${text.slice(0, 200)}`,
          errorClass: creating ? 'ambiguous' : 'definitive',
          category: 'unknown',
        }),
      );
    }
  }

  /** Quote one service (`Rate`) or every service (`Shop`) for a raw RateRequest body. */
  async rate(
    requestBody: Record<string, unknown>,
    requestoption: RateRequestOption = 'Rate',
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

  /**
   * Create the shipment; errors are classified (ambiguous = may exist at UPS). `beforeSend` runs once a
   * session is free, right before the request leaves; a {@link SendWithheld} from it sends nothing.
   */
  async createShipment(
    request: ShipmentRequestBody,
    signal?: AbortSignal,
    beforeSend?: () => Promise<void>,
  ): Promise<ShipmentResult> {
    const tool = this.opts.tools.create;
    const body = await this.call(tool, { request_body: request }, signal, beforeSend);
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
   * Find a shipment's labels by its reference number. Resolves `undefined` only when UPS answers that
   * it has no shipment with that reference ({@link LABEL_NOT_FOUND_CODES}); throws when the lookup
   * itself failed (then nobody knows whether it shipped).
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
      if (err instanceof UpsError && err.upsCode !== undefined && LABEL_NOT_FOUND_CODES.has(err.upsCode)) {
        return undefined;
      }
      throw err;
    }
  }

  /**
   * UPS Address Validation (street level) of one address. `transId`, when given, is sent as the call's
   * transaction id (a row's reference: the call log can tell which row was asked).
   */
  async validateAddress(
    address: AddressInput,
    signal?: AbortSignal,
    transId?: string,
  ): Promise<AddressValidation> {
    const [zip, ext] = address.postalCode.split('-');
    const args = {
      ...(transId ? { trans_id: transId } : {}),
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

  /** The charge of an on-call pickup (rate_pickup). */
  async ratePickup(pickup: PickupRequest, signal?: AbortSignal): Promise<PickupCharge> {
    return this.unreadable(this.opts.tools.ratePickup, 'definitive', async () =>
      readPickupRate(await this.call(this.opts.tools.ratePickup, ratePickupArgs(pickup), signal)),
    );
  }

  /**
   * Schedule an on-call pickup (schedule_pickup). A failure after the request may have left is
   * ambiguous: the pickup may exist, so look at {@link pendingPickups} before asking again.
   */
  async schedulePickup(
    pickup: PickupRequest,
    signal?: AbortSignal,
    beforeSend?: () => Promise<void>,
  ): Promise<{ prn: string; charge?: PickupCharge }> {
    const tool = this.opts.tools.schedulePickup;
    return this.unreadable(tool, 'ambiguous', async () =>
      readPickupCreation(await this.call(tool, schedulePickupArgs(pickup), signal, beforeSend)),
    );
  }

  /** An account's pending on-call pickups (get_pickup_status). */
  async pendingPickups(accountNumber: string, signal?: AbortSignal): Promise<PendingPickup[]> {
    const tool = this.opts.tools.pickupStatus;
    return this.unreadable(tool, 'definitive', async () =>
      readPendingPickups(
        await this.call(tool, { pickup_type: 'oncall', account_number: accountNumber }, signal),
      ),
    );
  }

  /** Cancel an on-call pickup by its PRN (cancel_pickup). */
  async cancelPickup(prn: string, signal?: AbortSignal): Promise<void> {
    await this.call(this.opts.tools.cancelPickup, { cancel_by: 'prn', prn }, signal);
  }

  /** An answer that cannot be read becomes a classified UpsError (`errorClass` says what it may mean). */
  private async unreadable<T>(
    tool: string,
    errorClass: 'definitive' | 'ambiguous',
    read: () => Promise<T>,
  ): Promise<T> {
    try {
      return await read();
    } catch (err) {
      if (err instanceof UpsError || err instanceof SendWithheld) throw err;
      throw new UpsError({
        tool,
        message: (err as Error).message,
        errorClass,
        category: 'unknown',
        cause: err,
      });
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
