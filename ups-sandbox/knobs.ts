/**
 * Test and benchmark knobs of the sandbox: latency distribution, injected faults, void window.
 * Read from `UPS_SANDBOX_KNOBS` (inline JSON) and/or the JSON file named by `UPS_SANDBOX_KNOBS_FILE`
 * (file values win). The file is re-read whenever it changes, so a test can turn faults on and off
 * while the sandbox keeps running. See ups-sandbox/README.md for the format.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const probability = z.number().min(0).max(1);

const LatencySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }),
  z.object({ kind: z.literal('fixed'), ms: z.number().min(0) }),
  z.object({ kind: z.literal('uniform'), minMs: z.number().min(0), maxMs: z.number().min(0) }),
  /** Log-normal: most calls near the median, a long tail reaching p99. */
  z.object({ kind: z.literal('longtail'), medianMs: z.number().positive(), p99Ms: z.number().positive() }),
]);
export type Latency = z.infer<typeof LatencySchema>;

export const FAULT_KINDS = [
  'rate_limit', // HTTP 429, UPS 10429, with Retry-After
  'unavailable', // HTTP 503, UPS 190001
  'busy', // HTTP 503, UPS 190002
  'server_error', // HTTP 500 with no UPS body
  'auth_error', // HTTP 401, UPS 250002 (bad or expired credentials)
  'invalid_request', // HTTP 400, UPS 10002: UPS refuses the request itself (about the call, not UPS being down)
  'request_error', // REQUEST_ERROR (read timeout between server and UPS); nothing is created
  'hang', // never answers (the caller's timeout fires); nothing is created
  // create_shipment and schedule_pickup only — the shipment (pickup) IS made, then the answer is lost:
  'hang_after_create', // no answer at all
  'timeout_after_create', // REQUEST_ERROR read timeout
  // Not a failure: the call is served normally, only after a delay (rule `ms`, else knob `slowMs`).
  // For create_shipment the shipment is recorded only after the delay (still being made at UPS).
  'slow',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** The tools that make something at UPS (a shipment, a pickup) before answering: where after-create faults strike. */
export const RECORDING_TOOLS: ReadonlySet<string> = new Set(['create_shipment', 'schedule_pickup']);

/** Faults that strike after create_shipment (schedule_pickup) has recorded the shipment (pickup). */
export const AFTER_CREATE_FAULTS: ReadonlySet<FaultKind> = new Set([
  'hang_after_create',
  'timeout_after_create',
]);

/** A deterministic fault: the first `times` matching calls (per sandbox process) fail with `fault`. */
const RuleSchema = z
  .object({
    fault: z.enum(FAULT_KINDS),
    tool: z.string().optional(),
    reference: z.string().optional(),
    times: z.number().int().positive().optional(),
    /** Count `times` per reference: e.g. every row's first create_shipment fails. */
    perReference: z.boolean().optional(),
    /** `slow` only: the delay in ms (default: the knob `slowMs`). */
    ms: z.number().int().min(0).optional(),
  })
  .refine((rule) => rule.ms === undefined || rule.fault === 'slow', {
    path: ['ms'],
    message: 'ms applies only to the fault "slow"',
  });
export type FaultRule = z.infer<typeof RuleSchema>;

/**
 * One Address Validation candidate of the knob `addressCandidates`, in UPS's limits (Candidate
 * AddressKeyFormat: up to 3 address lines of 100 characters, city and state of 30); its country is the
 * request's.
 */
const AddressCandidateSchema = z
  .object({
    addressLines: z.array(z.string().trim().min(1).max(100)).min(1).max(3),
    city: z.string().trim().min(1).max(30),
    state: z.string().trim().min(1).max(30),
    /** 5 digits or ZIP+4. */
    postalCode: z.string().regex(/^\d{5}(-\d{4})?$/, 'a 5-digit ZIP or ZIP+4'),
    /** Default: by the sandbox's business-word rule on the lines. */
    classification: z.enum(['residential', 'commercial']).optional(),
  })
  .strict();
export type AddressCandidate = z.infer<typeof AddressCandidateSchema>;

/** What becomes of a package after its label (track_package): delivered, or one of the exception outcomes. */
export const TRACKING_FATES = ['delivered', 'exception', 'damaged', 'delayed', 'returned'] as const;
export type TrackingFate = (typeof TRACKING_FATES)[number];

/**
 * Exceptions and returns, deterministic: a package named by tracking number (else by one of its shipment's
 * references) gets that fate; any other gets one by `rates`, drawn from a hash of its tracking number (the
 * same package, the same fate, in every process).
 */
const TrackingExceptionsSchema = z
  .object({
    rates: z
      .partialRecord(z.enum(['exception', 'damaged', 'delayed', 'returned']), probability)
      .refine((r) => Object.values(r).reduce((a, b) => a + (b ?? 0), 0) <= 1, {
        message: 'the rates add up to more than 1',
      })
      .default({}),
    trackingNumbers: z.record(z.string(), z.enum(TRACKING_FATES)).default({}),
    references: z.record(z.string(), z.enum(TRACKING_FATES)).default({}),
  })
  .strict();
export type TrackingExceptions = z.infer<typeof TrackingExceptionsSchema>;

export const KnobsSchema = z
  .object({
    /**
     * Calls answered at once by one sandbox process; the rest wait in arrival order. 1 (the default)
     * is how the real server behaves: its handlers block on the UPS request.
     */
    concurrency: z.number().int().min(1).max(1024).default(1),
    latency: LatencySchema.default({ kind: 'none' }),
    /** Per-call probability of each fault kind. */
    faultRates: z.partialRecord(z.enum(FAULT_KINDS), probability).default({}),
    /** Tools the random faults apply to (default: every tool). */
    faultTools: z.array(z.string()).optional(),
    /** Seconds announced in a 429's Retry-After. */
    retryAfterSeconds: z.number().int().min(0).default(1),
    rules: z.array(RuleSchema).default([]),
    /** ShipTo postal codes (5-digit prefix) rejected as invalid addresses (UPS 120802). */
    rejectPostalCodes: z.array(z.string()).default([]),
    /**
     * Address Validation's answer per ShipTo ZIP (5 digits, the call's `zipPrimary`): no candidates,
     * one (valid — a corrected address when it differs from the input) or several (ambiguous).
     * `rejectPostalCodes` wins.
     */
    addressCandidates: z
      .record(z.string(), z.array(AddressCandidateSchema))
      .superRefine((byZip, ctx) => {
        for (const zip of Object.keys(byZip).filter((k) => !/^\d{5}$/.test(k)))
          ctx.addIssue({ code: 'custom', path: [zip], message: 'not a 5-digit ZIP' });
      })
      .default({}),
    /** How long after creation a shipment can still be voided. */
    voidWindowHours: z
      .number()
      .positive()
      .default(24 * 14),
    /** How long a hang lasts at most before the sandbox gives up on its own. */
    hangMs: z.number().int().positive().default(3_600_000),
    /** Use negotiated rates (an account with negotiated rates). */
    negotiatedRates: z.boolean().default(true),
    /** Delay of a `slow` fault whose rule sets no `ms` (and of `slow` in faultRates). */
    slowMs: z.number().int().min(0).default(10_000),
    /**
     * UPS lags: a shipment is recorded at once, but recover_label (by reference or tracking number)
     * answers "not found" until this many ms have passed since its creation. 0: visible at once.
     */
    recoverVisibleAfterMs: z.number().min(0).default(0),
    /**
     * track_package's clock: simulated seconds per real second, counted for each shipment from its
     * creation (1: real time; 86400: a day a second).
     */
    trackingClockSpeed: z.number().positive().max(1e9).default(1),
    /** Exceptions and returns of tracked packages (none by default: every package is delivered). */
    trackingExceptions: TrackingExceptionsSchema.default({ rates: {}, trackingNumbers: {}, references: {} }),
  })
  .strict();
export type Knobs = z.infer<typeof KnobsSchema>;

/** Parse knobs JSON; a bad value is an error naming the source and the field. */
export function parseKnobs(source: string, text: string | undefined): Partial<z.input<typeof KnobsSchema>> {
  if (!text?.trim()) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const res = KnobsSchema.partial().safeParse(raw);
  if (!res.success) {
    const why = res.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${source}: ${why}`);
  }
  return raw as Partial<z.input<typeof KnobsSchema>>;
}

/** The knobs in force, re-read from the knobs file when it changes. */
export class KnobSource {
  private cached: Knobs;
  private fileContent: string | undefined | null = null;
  private readonly base: Partial<z.input<typeof KnobsSchema>>;

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly warn: (message: string) => void = (m) => process.stderr.write(`ups-sandbox: ${m}\n`),
  ) {
    this.base = parseKnobs('UPS_SANDBOX_KNOBS', env.UPS_SANDBOX_KNOBS);
    this.cached = KnobsSchema.parse(this.base);
    this.current();
  }

  current(): Knobs {
    const file = this.env.UPS_SANDBOX_KNOBS_FILE;
    if (!file) return this.cached;
    // The file is small: compare its text on every call (timestamps can be too coarse to notice a
    // quick rewrite of the same size).
    let content: string | undefined;
    try {
      content = readFileSync(file, 'utf8');
    } catch {
      content = undefined; // no file (yet): the inline knobs alone
    }
    // An empty file is one being rewritten right now: keep the knobs in force (write {} to clear).
    if (content === this.fileContent || content?.trim() === '') return this.cached;
    try {
      const fromFile = content === undefined ? {} : parseKnobs(file, content);
      this.cached = KnobsSchema.parse({ ...this.base, ...fromFile });
      this.fileContent = content;
    } catch (err) {
      // Keep the previous knobs: a half-written file must not crash a running server.
      this.warn(`ignoring knobs file: ${(err as Error).message}`);
    }
    return this.cached;
  }
}

/** A delay drawn from the latency distribution, in ms. */
export function drawLatencyMs(latency: Latency, random: () => number = Math.random): number {
  switch (latency.kind) {
    case 'none':
      return 0;
    case 'fixed':
      return latency.ms;
    case 'uniform':
      return latency.minMs + random() * Math.max(0, latency.maxMs - latency.minMs);
    case 'longtail': {
      // log-normal with the given median; sigma such that the 99th percentile lands on p99Ms
      const sigma = Math.max(0, Math.log(latency.p99Ms / latency.medianMs) / 2.326);
      const u1 = Math.max(random(), 1e-12);
      const u2 = random();
      const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      return latency.medianMs * Math.exp(sigma * normal);
    }
  }
}

/** Counts how often each rule fired, shared by every process that uses the same counter. */
export interface RuleCounter {
  /** Take one of the `times` firings of rule `key`; false when all are taken. */
  claim(key: string, times: number): boolean;
}

/**
 * Rule counts kept as files in a directory (one per firing, created exclusively), so all the
 * sandbox processes of a pool sharing a data dir fire a `times: 1` rule once in total, not once each.
 */
export class FileRuleCounter implements RuleCounter {
  /** Firings this process knows are taken, per key (they only ever grow). */
  private readonly taken = new Map<string, number>();
  private made = false;

  constructor(readonly dir: string) {}

  claim(key: string, times: number): boolean {
    if (!this.made) {
      mkdirSync(this.dir, { recursive: true });
      this.made = true;
    }
    const base = createHash('sha256').update(key).digest('hex').slice(0, 32);
    for (let k = this.taken.get(key) ?? 0; k < times; k++) {
      this.taken.set(key, k + 1);
      try {
        closeSync(openSync(path.join(this.dir, `${base}-${k}`), 'wx'));
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    return false;
  }
}

/** The fault chosen for one call, with the delay a `slow` rule sets (if it sets one). */
export interface FaultChoice {
  kind: FaultKind;
  /** `slow` only: the rule's `ms`; absent: the knob `slowMs`. */
  ms?: number;
}

/** How long a `slow` fault delays its call: the rule's `ms`, else the knob `slowMs`. */
export function slowDelayMs(choice: FaultChoice, knobs: Knobs): number {
  return choice.ms ?? knobs.slowMs;
}

/**
 * Decides, call by call, which fault (if any) to inject. Rule counters are per process, or shared
 * through `counter`.
 */
export class FaultPicker {
  private readonly used = new Map<string, number>();

  constructor(
    private readonly random: () => number = Math.random,
    private readonly counter?: RuleCounter,
  ) {}

  pick(knobs: Knobs, tool: string, reference: string | undefined): FaultKind | undefined {
    return this.choose(knobs, tool, reference)?.kind;
  }

  /** Like {@link pick}, with the rule's delay of a `slow` fault. */
  choose(knobs: Knobs, tool: string, reference: string | undefined): FaultChoice | undefined {
    for (const [i, rule] of knobs.rules.entries()) {
      if (rule.tool && rule.tool !== tool) continue;
      if (rule.reference && rule.reference !== reference) continue;
      const key = `${i}:${JSON.stringify(rule)}:${rule.perReference ? (reference ?? '') : ''}`;
      const chosen: FaultChoice =
        rule.ms === undefined ? { kind: rule.fault } : { kind: rule.fault, ms: rule.ms };
      if (this.counter && rule.times !== undefined) {
        if (!this.counter.claim(key, rule.times)) continue;
        return chosen;
      }
      const n = this.used.get(key) ?? 0;
      if (rule.times !== undefined && n >= rule.times) continue;
      this.used.set(key, n + 1);
      return chosen;
    }
    if (knobs.faultTools && !knobs.faultTools.includes(tool)) return undefined;
    for (const kind of FAULT_KINDS) {
      const p = knobs.faultRates[kind] ?? 0;
      if (AFTER_CREATE_FAULTS.has(kind) && !RECORDING_TOOLS.has(tool)) continue;
      if (p > 0 && this.random() < p) return { kind };
    }
    return undefined;
  }
}
