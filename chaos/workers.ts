/**
 * The worker processes of one scenario, supervised as a service manager would: a worker the runner kills
 * is started again by the runner; one that exits on its own (a crash) is counted and restarted after a
 * second, so a defect shows as a figure instead of a stalled batch.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { processExited, startWorkerProcess } from './worker-process';

/** What makes one worker slot: its name, its knobs file and any configuration of its own. */
export interface WorkerSpec {
  name: string;
  /** Sandbox knobs file of this worker (re-read live by its sandbox processes). */
  knobsFile: string;
  env?: Record<string, string>;
}

interface Slot {
  spec: WorkerSpec;
  child: ChildProcess;
  startedAt: number;
  /** Set when the runner stops this process: its exit is not a crash. */
  planned: boolean;
  /** The process said it polls its task queue. */
  polling: boolean;
  generation: number;
}

export interface FleetFigures {
  kills: number;
  terms: number;
  restarts: number;
  /** Exits nobody asked for. */
  crashes: number;
  /** SIGTERMed workers that did not exit 0 (a deploy that was not clean). */
  uncleanStops: number;
}

/** Every live worker process of every fleet: killed if the runner itself exits without stopping them. */
const everyChild = new Set<ChildProcess>();
process.on('exit', killEveryWorker);

/** SIGKILL every worker process still alive (the runner is being interrupted). */
export function killEveryWorker(): void {
  for (const child of everyChild) child.kill('SIGKILL');
}

export class WorkerFleet {
  private readonly slots: Slot[] = [];
  private closed = false;
  readonly figures: FleetFigures = { kills: 0, terms: 0, restarts: 0, crashes: 0, uncleanStops: 0 };
  /** One line per crash: which worker, how it exited, where its log is. */
  readonly crashLog: string[] = [];

  constructor(
    private readonly opts: {
      taskQueue: string;
      sandboxDir: string;
      logDir: string;
      env: Record<string, string>;
      knobs: object;
      maxActivities: number;
    },
  ) {}

  get size(): number {
    return this.slots.length;
  }

  logFile(i: number): string {
    return path.join(this.opts.logDir, `worker-${this.slots[i]!.spec.name}.log`);
  }

  /** Add a worker slot and start its process. */
  add(spec: WorkerSpec): number {
    const i = this.slots.length;
    this.slots.push({
      spec,
      child: undefined as unknown as ChildProcess,
      startedAt: 0,
      planned: false,
      polling: false,
      generation: 0,
    });
    this.spawn(i);
    return i;
  }

  /** Slots whose process polls its task queue (at work: a fair victim). */
  polling(): number[] {
    return this.slots.flatMap((s, i) => (s.polling && s.child.exitCode === null ? [i] : []));
  }

  /** SIGKILL slot `i`'s process and start a new one at once. */
  async kill(i: number): Promise<void> {
    const slot = this.slots[i]!;
    slot.planned = true;
    slot.child.kill('SIGKILL');
    await processExited(slot.child);
    this.figures.kills++;
    this.restart(i);
  }

  /**
   * A deploy of slot `i`: its replacement starts, the old process gets SIGTERM and finishes its calls in
   * flight. Resolves with the old process's exit code once it is gone.
   */
  async deploy(i: number): Promise<number | null> {
    const slot = this.slots[i]!;
    const old = slot.child;
    slot.planned = true;
    old.kill('SIGTERM');
    this.figures.terms++;
    this.restart(i);
    await processExited(old);
    if (old.exitCode !== 0) this.figures.uncleanStops++;
    return old.exitCode;
  }

  /** Stop every worker (SIGTERM, SIGKILL after `graceMs`). */
  async stopAll(graceMs = 30_000): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.slots.map(async (s) => {
        s.planned = true;
        s.child.kill('SIGTERM');
        const timer = setTimeout(() => s.child.kill('SIGKILL'), graceMs);
        await processExited(s.child);
        clearTimeout(timer);
      }),
    );
  }

  private restart(i: number): void {
    this.figures.restarts++;
    this.spawn(i);
  }

  private spawn(i: number): void {
    const slot = this.slots[i]!;
    const generation = slot.generation + 1;
    const child = startWorkerProcess(`${slot.spec.name}#${generation}`, {
      taskQueue: this.opts.taskQueue,
      sandboxDir: this.opts.sandboxDir,
      knobs: this.opts.knobs,
      maxActivities: this.opts.maxActivities,
      env: { ...this.opts.env, UPS_SANDBOX_KNOBS_FILE: slot.spec.knobsFile, ...slot.spec.env },
      logFile: this.logFile(i),
    });
    Object.assign(slot, { child, startedAt: Date.now(), planned: false, polling: false, generation });
    child.stderr?.on('data', (d: Buffer) => {
      if (slot.child === child && d.toString().includes('polling task queue')) slot.polling = true;
    });
    everyChild.add(child);
    child.once('exit', (code, signal) => {
      everyChild.delete(child);
      if (slot.child !== child || slot.planned || this.closed) return;
      this.figures.crashes++;
      this.crashLog.push(
        `worker ${slot.spec.name}#${generation} exited by itself (${signal ?? code}); log ${this.logFile(i)}`,
      );
      setTimeout(() => {
        if (!this.closed && slot.child === child) this.restart(i);
      }, 1000);
    });
  }
}
