// `npm start` as a newcomer meets it: a clean clone (git clone of this HEAD; node_modules linked, binaries
// from the shared cache), HOME an empty directory (so no kubeconfig), `npm start`, then the printed MCP URL.
// Each dev user signs in through Chromium by the real OAuth flow (the dev identity provider's form, then the
// gateway's consent page) and acts as itself on the cluster: dev-admin lists pods; dev-viewer's dry-run delete
// is refused by the cluster, naming dev-viewer. SIGTERM leaves no process behind. Then the same with the local
// stack's client-certificate kubeconfig, where npm start impersonates with that certificate.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../stack/env.js';
import { request } from '../stack/http.js';
import { artifactsDir, launchBrowser } from '../support/browser-login.js';
import { cleanClone, type CleanClone } from '../support/clean-clone.js';
import { LoopbackRedirect } from '../support/oauth-client-provider.js';
import { authorizeUrl, exchangeCode, newPkce, registerPublicClient } from '../support/oauth-flow.js';
import { processesUnder } from '../support/processes.js';
import { sdkClient } from './harness.js';

const POD = { namespace: 'team-a', name: 'web-7d9f8b6c5d-x2k4p' };
/** The suite's consent-page screenshot goes to docs/images/ for the quick start with KMG_UPDATE_DOCS_IMAGES=1. */
const CONSENT_SHOT = process.env.KMG_UPDATE_DOCS_IMAGES === '1' ? path.join(repoRoot, 'docs', 'images', 'quick-start-consent.png') : path.join(artifactsDir, 'quick-start-consent.png');

class NpmStart {
  output = '';
  readonly spawnedAt = Date.now();
  private constructor(readonly proc: ChildProcess) {
    proc.stdout!.on('data', (c: Buffer) => (this.output += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (this.output += c.toString()));
  }

  static async start(dir: string, env: NodeJS.ProcessEnv): Promise<NpmStart> {
    const run = new NpmStart(spawn('npm', ['start'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] }));
    const deadline = Date.now() + 540_000;
    while (!/MCP URL:\s+\S+/.test(run.output)) {
      if (run.proc.exitCode !== null) throw new Error(`npm start exited ${run.proc.exitCode}:\n${run.output}`);
      if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${run.output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    run.upAfterSeconds = (Date.now() - run.spawnedAt) / 1000;
    return run;
  }

  upAfterSeconds = 0;

  get mcpUrl(): string {
    return /MCP URL:\s+(\S+)/.exec(this.output)![1]!;
  }

  get issuer(): string {
    return this.mcpUrl.replace(/\/mcp$/, '');
  }

  /** SIGTERM to npm (as a process manager or `kill` sends it); resolves with the seconds until npm exited. */
  async stop(): Promise<number> {
    if (this.proc.exitCode !== null) return 0;
    const t = Date.now();
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await exited;
    return (Date.now() - t) / 1000;
  }
}

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** The real OAuth flow in Chromium: register, authorize, the dev IdP's form, the gateway's consent page, code exchange. */
async function signIn(context: BrowserContext, issuer: string, username: string, screenshot?: string): Promise<string> {
  const redirect = await new LoopbackRedirect().start();
  const page = await context.newPage();
  try {
    const clientId = await registerPublicClient(issuer, redirect.url, 'npm start test');
    const pkce = newPkce();
    const state = randomBytes(8).toString('hex');
    const next = redirect.next();
    await page.goto(String(authorizeUrl(issuer, { clientId, redirectUri: redirect.url, challenge: pkce.challenge, state })));
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', username); // the dev users' passwords are their names (test/dev/users.yaml)
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/consent'), { timeout: 30_000 });
    if (screenshot) {
      mkdirSync(path.dirname(screenshot), { recursive: true });
      await page.screenshot({ path: screenshot, fullPage: true });
    }
    await page.getByRole('button', { name: 'Allow' }).click();
    const response = await next;
    expect(response.state).toBe(state);
    const tokens = await exchangeCode(issuer, { clientId, code: response.code!, verifier: pkce.verifier, redirectUri: redirect.url });
    expect(tokens.status).toBe(200);
    return String(tokens.body.access_token);
  } finally {
    await page.close();
    await redirect.close();
  }
}

type Call = { isError?: boolean; text: string; structured?: Record<string, unknown> };
async function callAs(mcpUrl: string, token: string, name: string, args: Record<string, unknown>): Promise<Call> {
  const { client } = await sdkClient(mcpUrl, token);
  try {
    const r = await client.callTool({ name, arguments: args });
    const text = (r.content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n');
    return { isError: r.isError === true, text, ...(r.structuredContent ? { structured: r.structuredContent as Record<string, unknown> } : {}) };
  } finally {
    await client.close();
  }
}

/** Asserts that the cluster sees each dev user by name and that RBAC, not the gateway, decides. */
function actsAsThemselves(get: () => { run: NpmStart; browser: Browser }, screenshot?: string) {
  let adminToken: string;
  let viewerToken: string;
  // One browser for both users, as a developer has: the dev IdP asks who you are on every sign-in.
  let context: BrowserContext;
  afterAll(async () => {
    await context?.close();
  });

  it('signs in dev-admin, who is dev-admin to the cluster and lists the seeded pods', async () => {
    const { run, browser } = get();
    context = await browser.newContext();
    adminToken = await signIn(context, run.issuer, 'dev-admin', screenshot);
    const who = await callAs(run.mcpUrl, adminToken, 'whoami', {});
    expect(who.structured?.username).toBe('dev-admin');
    const pods = await callAs(run.mcpUrl, adminToken, 'pods_list', { namespace: POD.namespace });
    expect(pods.isError).toBe(false);
    expect(pods.text).toContain(POD.name);
    // A dry-run delete is what the viewer is refused below; the admin is allowed it.
    const del = await callAs(run.mcpUrl, adminToken, 'pods_delete', { ...POD, dryRun: true });
    expect(del.isError, del.text).toBe(false);
  });

  it("signs in dev-viewer in the same browser after dev-admin; the cluster refuses its dry-run pods_delete with a Forbidden naming dev-viewer", async () => {
    const { run } = get();
    viewerToken = await signIn(context, run.issuer, 'dev-viewer');
    const who = await callAs(run.mcpUrl, viewerToken, 'whoami', {});
    expect(who.structured?.username).toBe('dev-viewer');
    const del = await callAs(run.mcpUrl, viewerToken, 'pods_delete', { ...POD, dryRun: true });
    expect(del.isError).toBe(true);
    expect(del.text).toMatch(/^Forbidden: /);
    expect(del.text).toContain('User "dev-viewer" cannot delete resource "pods"');
    // ...and the refusal came from the cluster, not from the dev-admin identity or a fallback user.
    expect(del.text).not.toContain('dev-admin');
    expect(del.text).not.toContain('stack-admin');
  });

  it('answers pods_top for dev-viewer with the usage metrics-server reports (view may read metrics.k8s.io)', async () => {
    const { run } = get();
    // metrics-server reports a pod after its first scrapes (10 s apart): poll, bounded.
    let top: Call = { text: '' };
    for (const until = Date.now() + 90_000; Date.now() < until; await new Promise((r) => setTimeout(r, 2000))) {
      top = await callAs(run.mcpUrl, viewerToken, 'pods_top', { namespace: POD.namespace });
      if (!top.isError && top.text.includes(POD.name)) break;
    }
    expect(top.isError, top.text).toBe(false);
    expect(top.text).toMatch(new RegExp(`${POD.name}\\s+\\d+m\\s`));
  });
}

/** Stops npm start with SIGTERM and asserts that nothing of it is left: no process in or naming the clone, the port closed. */
function stopsCleanly(get: () => { run: NpmStart; clone: CleanClone }, label: string, stops: Record<string, number>) {
  it('stops on SIGTERM and leaves no process behind and the port free', async () => {
    const { run, clone } = get();
    const port = Number(new URL(run.mcpUrl).port);
    expect(processesUnder(clone.dir).length).toBeGreaterThanOrEqual(3); // gateway, workers (and the built-in cluster) are there to stop
    stops[label] = await run.stop();
    expect(processesUnder(clone.dir)).toEqual([]);
    expect(await portAcceptsConnections(port)).toBe(false);
    expect(existsSync(path.join(clone.dir, '.dev', 'instance.json'))).toBe(false);
  });
}

const XDG_CACHE_HOME = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
let clone: CleanClone;
let browser: Browser;
const timings: Record<string, number> = {};
const stops: Record<string, number> = {};

function newcomerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // Nothing of the test's own environment (stack variables, NODE_EXTRA_CA_CERTS, KUBECONFIG): a fresh shell.
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: mkdtempSync(path.join(os.tmpdir(), 'kmg-home-')), XDG_CACHE_HOME, PORT: '0', ...extra };
}

beforeAll(async () => {
  clone = cleanClone(repoRoot);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  // Whatever a failed test left running in the clone is ours to stop.
  for (const p of processesUnder(clone?.dir ?? '/nonexistent')) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  clone?.remove();
  process.stderr.write(`[npm start] up after (s): ${JSON.stringify(timings)}; stopped after SIGTERM in (s): ${JSON.stringify(stops)}\n`);
});

describe('npm start from a clean clone, no kubeconfig: the built-in cluster', () => {
  let run: NpmStart;
  beforeAll(async () => {
    run = await NpmStart.start(clone.dir, newcomerEnv());
    timings['built-in: npm start in a clean clone (tsc -b, then start)'] = run.upAfterSeconds;
    timings['built-in: start.js alone (banner)'] = Number(/is up in (\d+\.\d)s/.exec(run.output)![1]);
  }, 600_000);
  afterAll(async () => {
    await run?.stop();
  });

  it('prints per-component progress, then the MCP URL, the cluster served and how to serve your own', () => {
    expect(run.mcpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    for (const c of ['pki', 'etcd', 'kube-apiserver', 'kwok', 'seed', 'workers']) expect(run.output).toMatch(new RegExp(`\\] ${c}: up in \\d+\\.\\ds`));
    expect(run.output).toMatch(/cluster:\s+built-in local cluster at https:\/\/127\.0\.0\.1:\d+ \(kube-apiserver v1\.\d+/);
    expect(run.output).toContain('KUBECONFIG=/path/to/kubeconfig npm start');
    expect(run.output).toContain('each dev user acts as itself');
    expect(run.output).toContain('"mcp-remote"');
    expect(run.output).toContain('"type": "http"');
  });

  it('prints no warning on the way up', () => {
    expect(run.output).not.toMatch(/warn|deprecat|unsupported runtime/i);
  });

  actsAsThemselves(() => ({ run, browser }), CONSENT_SHOT);

  it('took the consent-page screenshot for the quick start', () => {
    expect(readFileSync(CONSENT_SHOT).subarray(1, 4).toString()).toBe('PNG');
  });

  it('says so when a second npm start is run in the same checkout, and leaves the first one running', async () => {
    const second = spawn(process.execPath, [path.join(clone.dir, 'test', 'dist', 'dev', 'start.js')], { cwd: clone.dir, env: newcomerEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    second.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    second.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise((r) => second.once('exit', r));
    expect(code).toBe(1);
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(out).toContain(`npm start is already running in this checkout (pid `);
    expect(out).toContain(`serving ${run.mcpUrl}`);
    const res = await fetch(`${run.issuer}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
  });

  it('prints no warning while serving the users', () => {
    expect(run.output).not.toMatch(/warn|deprecat|unsupported runtime/i);
  });

  stopsCleanly(() => ({ run, clone }), 'built-in', stops);
});

describe("npm start with the local stack's client-certificate kubeconfig", () => {
  const admin = () => ({ caFile: process.env.STACK_CA_FILE!, certFile: process.env.STACK_ADMIN_CERT_FILE!, keyFile: process.env.STACK_ADMIN_KEY_FILE! });
  const bindingUrl = (name: string) => `${process.env.KUBE_APISERVER_URL}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`;
  let run: NpmStart;
  const granted: string[] = [];

  beforeAll(async () => {
    // From an earlier, interrupted run of this suite.
    for (const name of ['kmg-dev-admin', 'kmg-dev-viewer']) await request(bindingUrl(name), { ...admin(), method: 'DELETE' });
    run = await NpmStart.start(clone.dir, newcomerEnv({ KUBECONFIG: process.env.KUBECONFIG_ADMIN! }));
    timings['own cluster: npm start (tsc -b up to date)'] = run.upAfterSeconds;
    timings['own cluster: start.js alone (banner)'] = Number(/is up in (\d+\.\d)s/.exec(run.output)![1]);
  }, 600_000);
  afterAll(async () => {
    await run?.stop();
    for (const name of granted) await request(bindingUrl(name), { ...admin(), method: 'DELETE' });
  });

  it('serves the kubeconfig context and impersonates with its client certificate, naming what to grant', async () => {
    expect(readFileSync(process.env.KUBECONFIG_ADMIN!, 'utf8')).toContain('client-certificate');
    expect(run.output).toMatch(/cluster:\s+https:\/\/127\.0\.0\.1:\d+, context stack-admin of KUBECONFIG/);
    expect(run.output).toContain("workers impersonate it with kubeconfig user stack-admin's credentials");
    expect(run.output).not.toMatch(/warn|deprecat|unsupported runtime/i);
    // The stack grants the dev users nothing: the banner says how, and we do exactly that.
    const grants = [...run.output.matchAll(/kubectl create clusterrolebinding (\S+) --clusterrole=(\S+) --user=(\S+)/g)];
    expect(grants.map((g) => g[3])).toEqual(['dev-admin', 'dev-viewer']);
    for (const [, name, role, user] of grants) {
      const res = await request(`${process.env.KUBE_APISERVER_URL}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings`, {
        ...admin(),
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
        }),
      });
      expect(res.status).toBe(201);
      granted.push(name!);
    }
  });

  actsAsThemselves(() => ({ run, browser }));

  stopsCleanly(() => ({ run, clone }), 'own cluster', stops);
});
