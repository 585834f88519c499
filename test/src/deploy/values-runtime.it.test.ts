// Every shipped value set works at run time, not only at render time: the gateway.yaml and worker.yaml the
// chart renders for each set are started as the real processes (gateway/dist, worker/dist) on the stack,
// and every org cluster the set defines serves a tool call as the signed-in user — bearer clusters with the
// exchanged token, impersonation clusters through the rendered ServiceAccount, ClusterRole and binding
// applied to the stack's apiserver. What is replaced is only what points at a real installation: URLs and
// ports, CA files, Secret values, the Keycloak realm and its audience for bearer clusters. Audiences and
// issuers of identity assertions, prefixes, policies, pools and modes are used as rendered, so a value
// set whose workers expect another audience than the gateway signs for fails here.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { sdkClient } from '../gateway-mcp/harness.js';
import { freePort } from '../stack/component.js';
import { loadStackEnv, repoRoot, type StackEnv } from '../stack/env.js';
import { launchBrowser } from '../support/browser-login.js';
import { browserAuthorization, exchangeCode } from '../support/oauth-flow.js';
import { objects, render, VALUE_SETS, type K8sObject, type ValueSet } from './chart.js';
import { ensureHelm } from './helm-binary.js';

type Json = Record<string, unknown>;
interface OrgCluster { name: string; workers: string[]; identity?: string; audience?: string; exchangeScopes?: string[]; default?: boolean }
interface Org { name: string; mode?: string; clusters: OrgCluster[]; oauth?: Json & { keycloak?: Json; registration?: Json }; exchange?: Json; resourceServer?: Json }


async function waitFor(what: string, probe: () => Promise<boolean>, proc: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await probe().catch(() => false))) {
    if (proc.exitCode !== null) throw new Error(`${what}: exited ${proc.exitCode}: ${stderr()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function start(main: string, config: unknown, dir: string, name: string): { proc: ChildProcess; stderr: () => string } {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(config), { mode: 0o600 });
  let stderr = '';
  const proc = spawn(process.execPath, [path.join(repoRoot, main), '--config', file], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  proc.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  return { proc, stderr: () => stderr };
}

async function kubectl(env: StackEnv, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', ['--kubeconfig', env.KUBECONFIG_ADMIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(' ')}: ${err}`))));
    child.stdin.end(input ?? '');
  });
}

const procs: ChildProcess[] = [];
const applied: K8sObject[] = [];
let env: StackEnv;
let helm: string;
let browser: Browser;

beforeAll(async () => {
  env = loadStackEnv();
  helm = await ensureHelm();
  browser = await launchBrowser();
}, 1_200_000);

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  await browser?.close();
  if (applied.length) await kubectl(env, ['delete', '--ignore-not-found', '-f', '-'], applied.map((o) => JSON.stringify(o)).join('\n')).catch(() => undefined);
});

/** Starts what the value set renders; returns the gateway's base URL and the org clusters to call. */
async function startRendered(set: ValueSet): Promise<{ base: string; orgs: Org[] }> {
  const release = `rt${randomBytes(3).toString('hex')}`;
  const docs = await render(helm, VALUE_SETS[set], { release });
  const dir = mkdtempSync(path.join(tmpdir(), `kmg-rt-${set}-`));
  const [port, opsPort] = [await freePort(), await freePort()];
  const base = `http://127.0.0.1:${port}`;
  const issuer = env.KEYCLOAK_ISSUER.replace(/\/$/, '');

  // The Secret's values: an encryption key, the stack's Keycloak client secret, the stack's Redis.
  const gwText = docs.find((o) => o.kind === 'ConfigMap' && o.data?.['gateway.yaml'])!.data!['gateway.yaml']!;
  const secrets: Record<string, string> = { KMG_ENCRYPTION_KEY: randomBytes(32).toString('base64'), KMG_REDIS_URL: env.REDIS_URL };
  const gw = parse(gwText.replace(/\$\{([A-Z0-9_]+)\}/g, (_m, n: string) => secrets[n] ?? (n.endsWith('_CLIENT_SECRET') ? env.GATEWAY_CLIENT_SECRET : `missing-${n}`))) as Json & { orgs: Org[] };
  const renderedPublicUrl = gw.publicUrl as string;
  gw.publicUrl = base;
  gw.listen = { host: '127.0.0.1', port };
  gw.logLevel = 'warn';
  gw.storage = { redis: { url: env.REDIS_URL, keyPrefix: `kmg-${release}:` } };
  gw.ops = { ...(gw.ops as Json), metrics: { port: opsPort } };
  if (gw.identityAssertion) {
    const keyFile = path.join(dir, 'identity-signing-key.pem');
    writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    (gw.identityAssertion as Json).signingKeyFile = keyFile;
  }

  // Pools: which rendered worker Service each org cluster points at.
  const workerCms = docs.filter((o) => o.kind === 'ConfigMap' && o.data?.['worker.yaml']);
  const workerUrl = new Map<string, string>();
  for (const cm of workerCms) workerUrl.set(cm.metadata.name, `http://127.0.0.1:${await freePort()}/mcp`);
  for (const org of gw.orgs) {
    if (org.oauth?.keycloak) {
      org.oauth.keycloak = { ...org.oauth.keycloak, issuer: env.KEYCLOAK_ISSUER, clientId: env.GATEWAY_CLIENT_ID, clientSecret: env.GATEWAY_CLIENT_SECRET, caFile: env.STACK_CA_FILE };
      // The browser's loopback redirect must be registrable under the set's registration policy.
      const reg = org.oauth.registration as { allowedRedirectHosts?: string[] } | undefined;
      if (reg?.allowedRedirectHosts) reg.allowedRedirectHosts = [...reg.allowedRedirectHosts, '127.0.0.1'];
    }
    if (org.exchange) org.exchange = { ...org.exchange, tokenEndpoint: `${issuer}/protocol/openid-connect/token`, clientId: env.GATEWAY_CLIENT_ID, clientSecret: env.GATEWAY_CLIENT_SECRET, caFile: env.STACK_CA_FILE };
    for (const c of org.clusters) {
      c.workers = c.workers.map((w) => workerUrl.get(new URL(w).hostname.split('.')[0]!)!);
      // Bearer tokens come from the stack's realm, which grants its own apiserver audience.
      if ((c.identity ?? 'bearer') === 'bearer') Object.assign(c, { audience: env.KUBE_AUDIENCE, exchangeScopes: [env.KUBE_AUDIENCE_SCOPE] });
    }
  }

  // Impersonating pools: the rendered ServiceAccount, ClusterRole and binding, applied to the stack; its token.
  const rbac = docs.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding' || (o.kind === 'ServiceAccount' && o.automountServiceAccountToken === true));
  if (rbac.length) {
    await kubectl(env, ['apply', '-f', '-'], rbac.map((o) => JSON.stringify(o)).join('\n'));
    applied.push(...rbac);
  }

  for (const cm of workerCms) {
    const w = objects(cm.data!['worker.yaml']!)[0] as unknown as Json & { clusters: Json[]; assertion?: Json; allowedHosts: string[] };
    const url = new URL(workerUrl.get(cm.metadata.name)!);
    w.host = '127.0.0.1';
    w.port = Number(url.port);
    w.allowedHosts = [...w.allowedHosts, url.host];
    w.logLevel = 'warn';
    w.ops = { ...(w.ops as Json), metrics: { port: await freePort() } };
    for (const c of w.clusters) {
      delete c.caData;
      Object.assign(c, { server: env.KUBE_APISERVER_URL, caFile: env.KUBE_CA_FILE });
      if (c.identity === 'impersonation') {
        const token = (await kubectl(env, ['-n', 'default', 'create', 'token', cm.metadata.name, '--duration', '1h'])).trim();
        const tokenFile = path.join(dir, `${cm.metadata.name}.token`);
        writeFileSync(tokenFile, token, { mode: 0o600 });
        c.serviceAccountTokenFile = tokenFile;
      }
    }
    if (w.assertion) {
      // Where this gateway is reachable; the issuer is the public URL it stands for (as rendered: publicUrl).
      expect(w.assertion.issuer, `${set}: worker assertion issuer`).toBe(renderedPublicUrl.replace(/\/$/, ''));
      w.assertion.issuer = base;
      w.assertion.jwksUrl = `${base}${new URL(w.assertion.jwksUrl as string).pathname}`;
    }
    const p = start('worker/dist/main.js', w, dir, cm.metadata.name);
    procs.push(p.proc);
    await waitFor(`${set} worker ${cm.metadata.name}`, async () => (await fetch(`${url.origin}/healthz`)).ok, p.proc, p.stderr);
  }

  const g = start('gateway/dist/main.js', gw, dir, 'gateway');
  procs.push(g.proc);
  await waitFor(`${set} gateway`, async () => (await fetch(`http://127.0.0.1:${opsPort}/readyz`)).status === 200, g.proc, g.stderr);
  return { base, orgs: gw.orgs };
}

/** A gateway-issued token for alice: dynamic registration, Keycloak login and consent in the browser, code exchange. */
async function gatewayToken(orgIssuer: string): Promise<string> {
  const a = await browserAuthorization(browser, orgIssuer, { username: 'alice', password: env.ALICE_PASSWORD, consent: 'approve' });
  const t = await exchangeCode(orgIssuer, { clientId: a.clientId, code: a.response.code!, verifier: a.verifier, redirectUri: a.redirect.url });
  expect(t.status).toBe(200);
  return t.body.access_token as string;
}

describe('each value set at run time on the stack', () => {
  it.each(Object.keys(VALUE_SETS) as ValueSet[])('the %s values serve every org cluster as the signed-in user', async (set) => {
    const { base, orgs } = await startRendered(set);
    const calls: string[] = [];
    for (const org of orgs) {
      const token = org.mode === 'resource-server' ? '' : await gatewayToken(`${base}/orgs/${org.name}`);
      const first = org.clusters.find((c) => c.default) ?? org.clusters[0]!;
      for (const c of org.clusters) {
        const url = c === first ? `${base}/orgs/${org.name}/mcp` : `${base}/orgs/${org.name}/mcp/clusters/${c.name}`;
        const { client } = await sdkClient(url, token);
        try {
          // A call before any tools/list: the gateway fetches the tool catalog on its own (for an impersonation
          // cluster with an assertion of its own, since each assertion is good for one request).
          const who = await client.callTool({ name: 'whoami', arguments: {} });
          expect(who.isError, `${set} ${org.name}/${c.name}: ${JSON.stringify(who.content)}`).toBeFalsy();
          // The apiserver saw alice: her OIDC name in bearer mode, the gateway's prefix + name when impersonated.
          expect(JSON.stringify(who.content)).toContain('oidc:alice');
          expect((await client.listTools()).tools.map((t) => t.name)).toContain('whoami');
          calls.push(`${org.name}/${c.name}:${c.identity ?? 'bearer'}`);
        } finally {
          await client.close();
        }
      }
    }
    console.log(`${set}: ${calls.join(', ')}`);
    expect(calls.length).toBe(orgs.reduce((n, o) => n + o.clusters.length, 0));
  });

  it('covered both identity modes across the value sets', async () => {
    const modes = new Set<string>();
    for (const set of Object.keys(VALUE_SETS) as ValueSet[]) {
      const docs = await render(helm, VALUE_SETS[set]);
      const gw = parse(docs.find((o) => o.data?.['gateway.yaml'])!.data!['gateway.yaml']!) as { orgs: Org[] };
      for (const c of gw.orgs.flatMap((o) => o.clusters)) modes.add(c.identity ?? 'bearer');
    }
    expect([...modes].sort()).toEqual(['bearer', 'impersonation']);
  });
});
