// Attacks on a non-destructive worker's per-call judgement (scale, patch, apply are offered, but a call that
// removes a field or scales to 0 is refused after a server-side dry run): writes shaped so that the dry run of
// each piece against the live object looks harmless while the whole call destroys. Each attack asserts the
// refusal and that the object is untouched.
import type { Client } from '@modelcontextprotocol/client';
import type { KubeRest } from '@kmg/worker/k8s/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { kubeToken } from '../support/keycloak-tokens.js';
import { adminRest, ensureNamespace, mcpClient, startStackWorker, textOf, type WorkerProcess } from '../worker/helpers.js';

const NS = 'kmg-security-nd';
const DEP = `/apis/apps/v1/namespaces/${NS}/deployments/guarded`;

let env: StackEnv;
let admin: KubeRest;
let nd: WorkerProcess;
let alice: Client;

type Dep = { metadata: { labels: Record<string, string> }; spec: { replicas: number; template: { spec: { containers: Array<{ name: string }> } } } };

function deployment(labels: Record<string, string>, containers = ['app']): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'guarded', namespace: NS, labels: { app: 'guarded', ...labels } },
    spec: { replicas: 2, selector: { matchLabels: { app: 'guarded' } }, template: { metadata: { labels: { app: 'guarded' } }, spec: { containers: containers.map((name) => ({ name, image: 'registry.invalid/app:1' })) } } },
  };
}

async function call(name: string, args: Record<string, unknown>) {
  const res = await alice.callTool({ name, arguments: args });
  return { isError: res.isError === true, text: textOf(res) };
}

beforeAll(async () => {
  env = loadStackEnv();
  admin = adminRest(env);
  await ensureNamespace(admin, NS);
  await admin.raw('DELETE', DEP, { query: { gracePeriodSeconds: 0 } });
  // Another team's pipeline owns the label and the container: alice has never applied this object.
  const created = await admin.raw('PATCH', DEP, { body: deployment({ tier: 'front' }), contentType: 'application/apply-patch+yaml', query: { fieldManager: 'team-ci', force: true } });
  expect(created.status).toBe(201);
  nd = await startStackWorker(env, { WORKER_NON_DESTRUCTIVE: 'true' });
  alice = await mcpClient(nd.url, await kubeToken(env, 'alice'));
}, 120_000);

afterAll(async () => {
  await alice?.close();
  await nd?.stop();
});

describe('apply on a non-destructive cluster', () => {
  it('refuses one object twice in a manifest: the first takes fields over (force), the second drops them', async () => {
    // Judged one by one against the live object, each looks harmless: the first changes a value, the second
    // leaves out fields alice does not own yet. Applied in order, the label and the container are gone.
    const manifest = [deployment({ tier: 'back' }, ['app']), deployment({}, ['other'])].map((d) => JSON.stringify(d)).join('\n---\n');
    const r = await call('resources_create_or_update', { manifest, force: true });
    expect(r.isError, r.text).toBe(true);
    expect(r.text).toContain('non-destructive');
    expect(r.text).toContain('deployment/guarded');
    expect(r.text).toContain('[1/2]');
    expect(r.text).toContain('[2/2]');
    const dep = await admin.get<Dep>(DEP);
    expect(dep.metadata.labels.tier).toBe('front');
    expect(dep.spec.template.spec.containers.map((c) => c.name)).toEqual(['app']);
  });

  it('still applies one object once, changing values', async () => {
    const r = await call('resources_create_or_update', { manifest: JSON.stringify(deployment({ tier: 'front', owner: 'sre' })), dryRun: true });
    expect(r.isError, r.text).toBe(false);
  });
});

describe('patch and scale on a non-destructive cluster', () => {
  const patch = (type: string, body: unknown) => call('resources_patch', { kind: 'Deployment', name: 'guarded', namespace: NS, type, patch: body });

  it('refuses a scale to 0 through every patch type and through scale', async () => {
    for (const [type, body] of [
      ['merge', { spec: { replicas: 0 } }],
      ['strategic', { spec: { replicas: 0 } }],
      ['json', [{ op: 'replace', path: '/spec/replicas', value: 0 }]],
      ['json', JSON.stringify([{ op: 'add', path: '/spec/replicas', value: 0 }])],
    ] as const) {
      const r = await patch(type, body);
      expect(r.isError, `${type}: ${r.text}`).toBe(true);
      expect(r.text).toContain('sets spec.replicas to 0');
    }
    const s = await call('resources_scale', { kind: 'deployments', name: 'guarded', namespace: NS, replicas: 0 });
    expect(s.isError, s.text).toBe(true);
    expect((await admin.get<Dep>(DEP)).spec.replicas).toBe(2);
  });

  it('refuses a strategic $patch: delete of a container and a $retainKeys that drops the labels', async () => {
    const del = await patch('strategic', { spec: { template: { spec: { containers: [{ name: 'app', $patch: 'delete' }, { name: 'sidecar', image: 'registry.invalid/s:1' }] } } } });
    expect(del.isError, del.text).toBe(true);
    expect(del.text).toContain('removes spec.template.spec.containers[app]');
    const replace = await patch('strategic', { metadata: { labels: { $patch: 'replace', app: 'guarded' } } });
    expect(replace.isError, replace.text).toBe(true);
    expect(replace.text).toContain('removes metadata.labels.tier');
    const dep = await admin.get<Dep>(DEP);
    expect(dep.metadata.labels.tier).toBe('front');
    expect(dep.spec.template.spec.containers.map((c) => c.name)).toEqual(['app']);
  });
});
