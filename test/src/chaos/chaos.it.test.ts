// The short versions of the chaos scenarios (npm run chaos runs them at full size with 50 clients): each injects
// its fault under load and must meet its target. Scenario results carry the evidence in their notes.
import { describe, expect, it } from 'vitest';
import type { Scenario, ScenarioResult } from './scenario.js';
import { scenarios } from './scenarios/index.js';

const CLIENTS = 8;

async function runShort(s: Scenario): Promise<ScenarioResult> {
  const lines: string[] = [];
  const r = await s.run({ short: true, clients: CLIENTS, soakMs: 40_000, report: (l) => lines.push(l) });
  // On failure the table row and the notes say what went wrong.
  if (!r.met) console.error(JSON.stringify({ ...r, log: lines.slice(-20) }, null, 2));
  return r;
}

describe.each(scenarios.map((s) => [s.name, s] as const))('chaos %s (short)', (_name, s) => {
  it(`meets its target: ${s.target}`, async () => {
    const r = await runShort(s);
    expect(r.notes.join('\n')).toBeTruthy();
    expect(r.unauthenticated200).toBe(0);
    expect(r.sessionsLost).toBe(0);
    expect(r.familiesRevoked).toBe(0);
    expect(r.attempted).toBeGreaterThan(0);
    expect(r, r.notes.join('\n')).toMatchObject({ met: true });
  }, 240_000);
});
