/**
 * CPU seconds spent by each part of the stack (this process = the worker, the sandbox's session processes,
 * the Temporal server, PostgreSQL), read from /proc for this process and its descendants. CPU per row is the
 * figure that locates a bottleneck on a shared 2-core machine: unlike wall time it hardly depends on what else
 * runs. Linux only; elsewhere every figure is 0.
 */
import { readdirSync, readFileSync } from 'node:fs';

export type Component = 'worker' | 'sandbox' | 'temporal' | 'postgres' | 'other';
export type CpuSeconds = Record<Component, number>;

const TICKS_PER_S = 100; // USER_HZ on Linux

function stat(pid: number): { ppid: number; cpuS: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start after its closing parenthesis.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpuS: (Number(f[11]) + Number(f[12])) / TICKS_PER_S };
  } catch {
    return undefined;
  }
}

function componentOf(pid: number): Component {
  if (pid === process.pid) return 'worker';
  let cmd: string;
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return 'other';
  }
  if (cmd.includes('ups-sandbox')) return 'sandbox';
  if (/\btemporal\b.*\bserver\b/.test(cmd)) return 'temporal';
  if (cmd.includes('postgres')) return 'postgres';
  return 'other';
}

/** CPU seconds so far of this process and every live descendant, by component. */
export function cpuByComponent(): CpuSeconds {
  const out: CpuSeconds = { worker: 0, sandbox: 0, temporal: 0, postgres: 0, other: 0 };
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return out;
  }
  const parent = new Map<number, { ppid: number; cpuS: number }>();
  for (const pid of pids) {
    const s = stat(pid);
    if (s) parent.set(pid, s);
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === process.pid) return true;
      p = parent.get(p)?.ppid ?? 0;
    }
    return false;
  };
  for (const [pid, s] of parent) {
    if (isDescendant(pid)) out[componentOf(pid)] += s.cpuS;
  }
  return out;
}

/** `after - before`, per component. */
export function cpuSince(before: CpuSeconds, after: CpuSeconds = cpuByComponent()): CpuSeconds {
  const out = { ...after };
  for (const k of Object.keys(out) as Component[]) out[k] = after[k] - before[k];
  return out;
}
