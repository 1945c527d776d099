/** Every scenario, in the order a full run takes them. */
import type { Scenario } from '../scenario';
import { partition } from './partition';
import { pgRestart } from './pg-restart';
import { temporalRestart } from './temporal-restart';
import { upsFaults } from './ups-faults';
import { workerKill } from './worker-kill';
import { workerSigterm } from './worker-sigterm';

export const SCENARIOS: readonly Scenario[] = [
  workerKill,
  workerSigterm,
  temporalRestart,
  pgRestart,
  upsFaults,
  partition,
];
