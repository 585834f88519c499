// What a chaos scenario is and what it reports. Each file in scenarios/ exports one; run.ts (npm run chaos) runs
// them at full size and chaos.it.test.ts runs the short versions in npm test.

export interface ScenarioResult {
  name: string;
  /** The pass condition in words. */
  target: string;
  attempted: number;
  succeeded: number;
  failedByKind: Record<string, number>;
  sessionsLost: number;
  familiesRevoked: number;
  /** Milliseconds from the fault (or the faulty part's return) until clients were served again; null = not applicable. */
  recoverMs: number | null;
  /** 200s answered under stale or missing auth: must be 0. */
  unauthenticated200: number;
  met: boolean;
  notes: string[];
}

export interface ScenarioOptions {
  /** The npm test version: fewer clients, seconds not minutes. */
  short: boolean;
  clients: number;
  /** Soak length (scenario 7). */
  soakMs?: number;
  /** Progress lines (stderr). */
  report: (line: string) => void;
}

export interface Scenario {
  name: string;
  target: string;
  run(opts: ScenarioOptions): Promise<ScenarioResult>;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` is true; throws naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
