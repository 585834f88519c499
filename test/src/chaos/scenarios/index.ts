// Every chaos scenario, in the order npm run chaos runs them. One file per scenario.
import type { Scenario } from '../scenario.js';
import { refreshStorm } from './refresh-storm.js';
import { workerKill } from './worker-kill.js';

export const scenarios: Scenario[] = [workerKill, refreshStorm];
