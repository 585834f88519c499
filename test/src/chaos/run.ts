// `npm run chaos [-- --only name] [--clients N] [--soak-minutes M]`: uses the running stack (or brings it up),
// runs each scenario at full size, prints one table and writes bench/chaos.md.
import { parseArgs } from 'node:util';
import { readStackEnvRaw } from '../stack/env.js';
import { isHealthy, up } from '../stack/stack.js';
import { table, writeChaosMd } from './report.js';
import type { ScenarioResult } from './scenario.js';
import { scenarios } from './scenarios/index.js';

const report = (line: string) => process.stderr.write(`[chaos] ${line}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string', multiple: true }, clients: { type: 'string', default: '50' }, 'soak-minutes': { type: 'string', default: '30' } } });
  const clients = Number(values.clients);
  const soakMinutes = Number(values['soak-minutes']);
  if (!(clients > 0) || !(soakMinutes > 0)) throw new Error('--clients and --soak-minutes must be positive numbers');
  const chosen = values.only?.length ? scenarios.filter((s) => values.only!.some((o) => s.name.includes(o))) : scenarios;
  if (!chosen.length) throw new Error(`no scenario matches ${values.only?.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`);
  // Scenarios start their own Redis, gateways and workers and use only the stack's Keycloak and apiserver, so a
  // running stack is used as it is (restarting its workers or gateways would disturb whoever else uses them).
  if (!readStackEnvRaw()) {
    report('bringing the stack up');
    await up();
  } else if (!(await isHealthy())) report('the stack reports a component unhealthy; using it as it is (its Keycloak and apiserver are what the scenarios need)');
  const results: ScenarioResult[] = [];
  for (const s of chosen) {
    report(`${s.name}: running`);
    try {
      results.push(await s.run({ short: false, clients, soakMs: soakMinutes * 60_000, report: (l) => report(`${s.name}: ${l}`) }));
    } catch (err) {
      report(`${s.name}: failed to run: ${String(err)}`);
      results.push({ name: s.name, target: s.target, attempted: 0, succeeded: 0, failedByKind: {}, sessionsLost: 0, familiesRevoked: 0, recoverMs: null, unauthenticated200: 0, met: false, notes: [`did not run to the end: ${String(err)}`] });
    }
    // Written after each scenario, so an interrupted run keeps what it measured.
    writeChaosMd(results.slice(-1), { clients, 'soak minutes': soakMinutes });
  }
  process.stdout.write(`${table(results)}\n`);
  report('wrote bench/chaos.md and bench/chaos.json');
  if (results.some((r) => !r.met)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
