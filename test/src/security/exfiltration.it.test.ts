// Secret exfiltration through every worker tool that can return object content, as alice (cluster-admin) through
// an in-process gateway (org rsw: read and write tools allowed, the cluster's RBAC decides) and a worker process of
// this suite's own: get/list/describe in every format and alias, JSON patch copy/move/test from /data, merge and
// strategic patches, apply, pods, logs, events, Helm releases (values, NOTES, manifest, a gzip bomb). Alice may read
// every Secret; the worker promises to mask their values on every output path, errors included.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { KubeRest } from '@kmg/worker/k8s/rest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { userToken } from '../support/keycloak-tokens.js';
import { adminRest, ensure, ensureNamespace, nodeNames, startStackWorker, type WorkerProcess } from '../worker/helpers.js';
import { startSecurityGateway, type SecurityGateway } from './harness.js';
import { LeakWatch } from './leaks.js';
import { rawRequest, rpcMessages } from './send.js';

const NS = 'kmg-security-exfil';
let env: StackEnv;
let admin: KubeRest;
let worker: WorkerProcess;
let gw: SecurityGateway;
let token: string;
let watch: LeakWatch;
/** Every Secret value the attacks go after (the seed's, and this suite's own). */
const secrets: string[] = [];
const own = { password: `pw-${randomBytes(9).toString('hex')}`, notes: `nt-${randomBytes(9).toString('hex')}`, listed: `ls-${randomBytes(9).toString('hex')}`, manifest: `mf-${randomBytes(9).toString('hex')}` };

function helmSecret(name: string, release: Buffer): unknown {
  // Helm stores base64(gzip(JSON)) in data.release; the apiserver adds its own base64 layer.
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'helm.sh/release.v1',
    metadata: { name: `sh.helm.release.v1.${name}.v1`, namespace: NS, labels: { owner: 'helm', name, version: '1', status: 'deployed' } },
    data: { release: Buffer.from(release.toString('base64')).toString('base64') },
  };
}

beforeAll(async () => {
  env = loadStackEnv();
  admin = adminRest(env);
  const seeded = await admin.get<{ data: Record<string, string> }>('/api/v1/namespaces/team-a/secrets/web-credentials');
  // Values long enough not to occur by chance in names (the seed's username "web" is in every object name).
  secrets.push(...Object.values(seeded.data).map((v) => Buffer.from(v, 'base64').toString('utf8')).filter((v) => v.length >= 8), ...Object.values(own));
  await ensureNamespace(admin, NS);
  // A reused stack keeps the objects of an earlier run (other random values): recreate them with this run's values,
  // or an attack would look for values that were never stored and pass without testing anything.
  for (const name of ['db', 'kubectl-applied', 'sh.helm.release.v1.app.v1', 'sh.helm.release.v1.bomb.v1']) await admin.raw('DELETE', `/api/v1/namespaces/${NS}/secrets/${name}`);
  // As `kubectl apply` leaves it: the whole manifest, values included, in an annotation.
  const applied = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'kubectl-applied', namespace: NS }, stringData: { password: own.password } };
  await ensure(admin, `/api/v1/namespaces/${NS}/secrets`, { ...applied, metadata: { ...applied.metadata, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(applied) } } });
  await ensure(admin, `/api/v1/namespaces/${NS}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: NS }, stringData: { password: own.password } });
  const node = (await nodeNames(admin))[0]!;
  await ensure(admin, `/api/v1/namespaces/${NS}/pods`, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'uses-db', namespace: NS },
    spec: { nodeName: node, containers: [{ name: 'app', image: 'registry.invalid/app:1', env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }] }] },
  });
  const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-creds\ntype: Opaque\ndata:\n  password: ${Buffer.from(own.manifest).toString('base64')}\nstringData:\n  token: ${own.manifest}\n`;
  const release = {
    name: 'app', namespace: NS, version: 1,
    info: { status: 'deployed', notes: `Log in with password ${own.notes} (and ${own.password})`, description: `Upgrade "app" failed: post-upgrade hook printed ${own.listed} and ${own.manifest}` },
    chart: { metadata: { name: 'app', version: '1.0.0' }, values: { auth: { password: own.password } } },
    config: { auth: { passwords: [own.listed, own.listed + '2'], apiKeys: [{ key: own.listed }] }, db: { password: own.password } },
    manifest,
  };
  await ensure(admin, `/api/v1/namespaces/${NS}/secrets`, helmSecret('app', gzipSync(Buffer.from(JSON.stringify(release)))));
  // ~250 KiB that inflates to 256 MiB of digits: far past any sane release size, hurts a worker without a cap.
  const bomb = gzipSync(Buffer.alloc(256 * 1024 * 1024, 0x30), { level: 9 });
  await ensure(admin, `/api/v1/namespaces/${NS}/secrets`, helmSecret('bomb', bomb));
  worker = await startStackWorker(env);
  gw = await startSecurityGateway(env, { workers: [worker.url] });
  token = (await userToken(env, 'alice')).access_token;
  watch = new LeakWatch(gw.logs, () => secrets, () => [token]);
}, 180_000);

afterAll(async () => {
  await gw?.close();
  await worker?.stop();
});

beforeEach(() => watch?.mark());

/** Calls a tool as alice; returns everything the attacker sees (status, text of every message). */
async function tool(name: string, args: Record<string, unknown>) {
  const res = await rawRequest(gw.mcpUrl('rsw'), {
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
    timeoutMs: 60_000,
  });
  watch.saw(res.text);
  const msgs = rpcMessages(res);
  const result = msgs[0]?.result as { isError?: boolean; content?: Array<{ text?: string }> } | undefined;
  return { status: res.status, text: res.text, isError: result?.isError === true || msgs[0]?.error !== undefined, output: (result?.content ?? []).map((c) => c.text ?? '').join('\n') };
}

const SECRET = { kind: 'Secret', apiVersion: 'v1', namespace: 'team-a', name: 'web-credentials' };

describe('reading Secrets', () => {
  for (const format of ['summary', 'normal', 'full'] as const) {
    it(`resources_get of a Secret (format ${format}) shows no value`, async () => {
      const r = await tool('resources_get', { ...SECRET, format });
      expect(r.status).toBe(200);
      expect(r.isError, r.output).toBe(false);
      expect(r.output).toContain('web-credentials');
      watch.check();
    });
  }

  it('resources_get through the kind aliases "secrets" and "secret" shows no value', async () => {
    for (const kind of ['secrets', 'secret']) {
      const r = await tool('resources_get', { ...SECRET, kind, format: 'full' });
      expect(r.output).toContain('web-credentials');
    }
    watch.check();
  });

  it('resources_list of Secrets in every namespace (format full) shows no value', async () => {
    const r = await tool('resources_list', { kind: 'Secret', apiVersion: 'v1', format: 'full', limit: 500 });
    expect(r.output).toContain('web-credentials');
    watch.check();
  });

  it('resources_list fields of Secrets (data, a key, [*], quoted keys, last-applied) shows no value', async () => {
    const fields = ['.data', '.data.password', "{.data['password']}", 'data', '.stringData', "['data']", '.metadata.annotations', ".metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']", '.metadata.managedFields[*].fieldsV1'];
    for (const [kind, namespace, name] of [['Secret', 'team-a', 'web-credentials'], ['secrets', NS, 'kubectl-applied']]) {
      const r = await tool('resources_list', { kind, namespace, fields });
      expect(r.isError, r.output).toBe(false);
      expect(r.output).toContain(name);
      // The projection ran (its column is there), so the absence of the value is the masking, not an ignored option.
      expect(r.output).toContain('.data.password');
    }
    const wide = await tool('resources_list', { kind: 'Secret', namespace: 'team-a', wide: true, showLabels: true });
    expect(wide.output).toContain('web-credentials');
    watch.check();
  });

  it('resources_describe of a Secret shows no value', async () => {
    const r = await tool('resources_describe', SECRET);
    expect(r.output).toContain('web-credentials');
    watch.check();
  });
});

describe('JSON patches that read from /data', () => {
  const patchOf = (ops: unknown[], as: 'array' | 'string' = 'array') => tool('resources_patch', { ...SECRET, type: 'json', patch: as === 'string' ? JSON.stringify(ops) : ops, dryRun: true });

  it('refuses a copy from /data/password into an annotation (dry run)', async () => {
    const r = await patchOf([{ op: 'copy', from: '/data/password', path: '/metadata/annotations/leak' }]);
    expect(r.isError).toBe(true);
    watch.check();
  });

  it('refuses a move from /data/password into a label, whose rejection would echo the value', async () => {
    const r = await patchOf([{ op: 'move', from: '/data/password', path: '/metadata/labels/leak' }]);
    expect(r.isError).toBe(true);
    watch.check();
  });

  it('refuses a copy from /data/password into a label', async () => {
    const r = await patchOf([{ op: 'copy', from: '/data/password', path: '/metadata/labels/leak' }]);
    expect(r.isError).toBe(true);
    watch.check();
  });

  it('refuses the same copy sent as JSON text instead of an array', async () => {
    const r = await patchOf([{ op: 'copy', from: '/data/password', path: '/metadata/annotations/leak' }], 'string');
    expect(r.isError).toBe(true);
    watch.check();
  });

  it('refuses a copy from a path that walks back into /data (/data/../data/password)', async () => {
    const r = await patchOf([{ op: 'copy', from: '/data/../data/password', path: '/metadata/annotations/leak' }]);
    expect(r.isError).toBe(true);
    watch.check();
  });

  it('gives no guessing oracle through the test op (right and wrong guesses look the same)', async () => {
    const right = await patchOf([{ op: 'test', path: '/data/password', value: Buffer.from(env.SEED_SECRET_VALUE).toString('base64') }]);
    const wrong = await patchOf([{ op: 'test', path: '/data/password', value: Buffer.from('not-the-password').toString('base64') }]);
    expect(right.isError).toBe(true);
    expect(wrong.isError).toBe(true);
    expect(right.output).toBe(wrong.output);
    watch.check();
  });
});

describe('writes that answer with the object', () => {
  it('a merge patch of a Secret (dry run) answers without the values', async () => {
    const r = await tool('resources_patch', { ...SECRET, type: 'merge', patch: { metadata: { annotations: { touched: 'yes' } } }, dryRun: true });
    expect(r.isError, r.output).toBe(false);
    expect(r.output).toContain('touched');
    watch.check();
  });

  it('a strategic merge patch of a Secret (dry run) answers without the values', async () => {
    const r = await tool('resources_patch', { ...SECRET, type: 'strategic', patch: { metadata: { labels: { touched: 'yes' } } }, dryRun: true });
    expect(r.isError, r.output).toBe(false);
    watch.check();
  });

  it('applying the Secret with a new annotation (dry run) answers without the values', async () => {
    const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-credentials\n  namespace: team-a\n  annotations:\n    touched: "yes"\n`;
    const r = await tool('resources_create_or_update', { manifest, dryRun: true });
    expect(r.isError, r.output).toBe(false);
    watch.check();
  });

  it('applying a new Secret with stringData (dry run) does not echo the value back', async () => {
    const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: echo-me\n  namespace: ${NS}\nstringData:\n  password: ${own.password}\n`;
    const r = await tool('resources_create_or_update', { manifest, dryRun: true });
    expect(r.isError, r.output).toBe(false);
    watch.check();
  });

  it('an apply the apiserver rejects does not echo a Secret value in the error', async () => {
    const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-credentials\n  namespace: team-a\n  labels:\n    leak: "${own.password}!!"\nstringData:\n  password: ${own.password}\n`;
    const r = await tool('resources_create_or_update', { manifest, dryRun: true });
    expect(r.isError).toBe(true);
    watch.check();
  });
});

describe("apply's diff of a Secret", () => {
  const secretDoc = (extra: string) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-credentials\n  namespace: team-a\n${extra}`;

  it('gives no guessing oracle: a right and a wrong guess of a value diff the same', async () => {
    const guess = async (value: string) => tool('resources_create_or_update', { manifest: secretDoc(`stringData:\n  password: ${value}\n`), diff: true });
    const right = await guess(env.SEED_SECRET_VALUE);
    const wrong = await guess('not-the-password');
    expect(right.isError, right.output).toBe(false);
    expect(right.output).toContain('data.password');
    expect(right.output).toBe(wrong.output);
    // The same through data (base64) instead of stringData.
    const rightData = await tool('resources_create_or_update', { manifest: secretDoc(`data:\n  password: ${Buffer.from(env.SEED_SECRET_VALUE).toString('base64')}\n`), diff: true });
    const wrongData = await tool('resources_create_or_update', { manifest: secretDoc(`data:\n  password: ${Buffer.from('not-the-password').toString('base64')}\n`), diff: true });
    // Server-side apply conflicts only on a different value, so keys another manager owns are refused either way.
    expect(rightData.isError).toBe(true);
    expect(rightData.output).toContain('force: true');
    expect(rightData.output).toBe(wrongData.output);
    watch.check();
  });

  it('a diff of a Secret wrapped in a List, with a last-applied annotation, shows no value', async () => {
    const item = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web-credentials', namespace: 'team-a', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ stringData: { password: own.password } }) } }, stringData: { extra: own.password } };
    const r = await tool('resources_create_or_update', { manifest: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [item] }), diff: true });
    expect(r.isError, r.output).toBe(false);
    expect(r.output).toContain('data.extra');
    watch.check();
  });

  it('a diff that creates a new Secret shows its keys, not its values', async () => {
    const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: diff-new\n  namespace: ${NS}\nstringData:\n  password: ${own.password}\n`;
    const r = await tool('resources_create_or_update', { manifest, diff: true });
    expect(r.isError, r.output).toBe(false);
    expect(r.output).toContain('data.password');
    watch.check();
  });
});

describe('tools around Secrets', () => {
  it('pods_get and resources_describe of a pod using a Secret show the reference, not the value', async () => {
    const g = await tool('pods_get', { name: 'uses-db', namespace: NS, format: 'full' });
    expect(g.output).toContain('secretKeyRef');
    const d = await tool('resources_describe', { kind: 'Pod', name: 'uses-db', namespace: NS });
    expect(d.output).toContain('uses-db');
    watch.check();
  });

  it('pods_log of that pod shows no Secret value', async () => {
    const r = await tool('pods_log', { name: 'uses-db', namespace: NS });
    expect(r.status).toBe(200);
    watch.check();
  });

  it('events_list across namespaces shows no Secret value', async () => {
    const r = await tool('events_list', {});
    expect(r.status).toBe(200);
    watch.check();
  });
});

describe('Helm releases', () => {
  it('helm_release_get masks values under sensitive keys, arrays included', async () => {
    const r = await tool('helm_release_get', { name: 'app', namespace: NS, show: ['values', 'chartValues'] });
    expect(r.isError, r.output).toBe(false);
    expect(r.output).toContain('passwords');
    watch.check();
  });

  it('helm_release_get masks Secret values that the NOTES repeat', async () => {
    const r = await tool('helm_release_get', { name: 'app', namespace: NS, show: ['notes'] });
    expect(r.isError, r.output).toBe(false);
    expect(r.output).toContain('Log in with password');
    watch.check();
  });

  it("helm_release_get masks the manifest's Secret data and stringData", async () => {
    const r = await tool('helm_release_get', { name: 'app', namespace: NS, show: ['manifest'] });
    expect(r.isError, r.output).toBe(false);
    expect(r.output).toContain('app-creds');
    watch.check();
  });

  it("helm_history masks the release's values and Secret data that a description quotes", async () => {
    const r = await tool('helm_history', { name: 'app', namespace: NS });
    expect(r.isError, r.output).toBe(false);
    expect(r.output).toContain('post-upgrade hook printed');
    watch.check();
  });

  it('helm_releases_list shows no Secret value', async () => {
    const r = await tool('helm_releases_list', { namespace: NS });
    expect(r.output).toContain('app');
    watch.check();
  });

  it('resources_get of the Helm release Secret itself shows no value', async () => {
    const r = await tool('resources_get', { kind: 'Secret', apiVersion: 'v1', namespace: NS, name: 'sh.helm.release.v1.app.v1', format: 'full' });
    expect(r.output).toContain('sh.helm.release.v1.app.v1');
    expect(r.output).not.toContain(own.notes);
    watch.check();
  });

  it("helm_rollback's plan gives no oracle: a crafted revision guessing a Secret's value plans the same either way", async () => {
    // Anyone who may create Secrets may write a release revision; its manifest can name any Secret of the namespace.
    const revision = (name: string, version: number, status: string, password: string) => {
      const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: ${NS}\ndata:\n  password: ${Buffer.from(password).toString('base64')}\n`;
      const release = { name, namespace: NS, version, info: { status }, chart: { metadata: { name: 'guess', version: '1.0.0' } }, config: {}, manifest };
      return {
        apiVersion: 'v1', kind: 'Secret', type: 'helm.sh/release.v1',
        metadata: { name: `sh.helm.release.v1.${name}.v${version}`, namespace: NS, labels: { owner: 'helm', name, version: String(version), status } },
        data: { release: Buffer.from(gzipSync(Buffer.from(JSON.stringify(release))).toString('base64')).toString('base64') },
      };
    };
    const plans: string[] = [];
    for (const [name, guess] of [['guess-right', own.password], ['guess-wrong', 'not-the-password']] as const) {
      for (const v of [1, 2]) await admin.raw('DELETE', `/api/v1/namespaces/${NS}/secrets/sh.helm.release.v1.${name}.v${v}`);
      await ensure(admin, `/api/v1/namespaces/${NS}/secrets`, revision(name, 1, 'superseded', guess));
      await ensure(admin, `/api/v1/namespaces/${NS}/secrets`, revision(name, 2, 'deployed', guess));
      const r = await tool('helm_rollback', { name, namespace: NS, revision: 1 });
      expect(r.isError, r.output).toBe(false);
      plans.push(r.output.split('\n').filter((l) => l.includes('Secret/db')).join('\n'));
    }
    expect(plans[0]).toContain('Secret values are not compared');
    expect(plans[0]).toBe(plans[1]);
    watch.check();
  });

  it('refuses a gzip bomb in a release Secret, and the worker stays healthy', async () => {
    const r = await tool('helm_release_get', { name: 'bomb', namespace: NS, show: ['values'] });
    expect(r.isError).toBe(true);
    expect((await fetch(new URL('/healthz', worker.url))).ok).toBe(true);
    const after = await tool('whoami', {});
    expect(after.output).toContain('oidc:alice');
    watch.check();
  });
});
