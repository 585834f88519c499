// Vitest globalSetup for the integration project: reuse a healthy shared stack, otherwise bring one up
// and tear down at the end exactly what this run started. Exports the stack env to process.env before
// the test workers fork, including NODE_EXTRA_CA_CERTS so they trust the stack's CA (Keycloak, apiserver).
import { loadStackEnv, readStackEnvRaw } from './env.js';
import { components } from './components/index.js';
import { isHealthy, up, down } from './stack.js';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  const report = (line: string) => process.stderr.write(`[stack] ${line}\n`);
  let startedHere = false;
  if (readStackEnvRaw() && (await isHealthy())) {
    report('reusing the running stack (.stack/env)');
  } else {
    report('stack not up or not healthy: bringing it up (first run builds and caches; see .stack/logs)');
    const result = await up({ report });
    // Only tear down a stack this run created from nothing; if we merely repaired parts, leave it up.
    startedHere = result.started.length > 0 && result.started.length === countComponents();
  }
  loadStackEnv(); // fail early with a clear message when the env is incomplete
  const raw = readStackEnvRaw() ?? {};
  for (const [k, v] of Object.entries(raw)) process.env[k] = v;
  if (raw.STACK_CA_FILE) process.env.NODE_EXTRA_CA_CERTS = raw.STACK_CA_FILE;
  if (!startedHere) return undefined;
  return async () => {
    report('tearing down the stack this run started');
    await down({ report });
  };
}

function countComponents(): number {
  return components.length;
}
