// Every tool once as alice against the real stack (Keycloak-issued token, real kube-apiserver, kwok),
// RBAC as bob and carol, and Secret masking on every output path.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { kubeToken } from '../support/keycloak-tokens.js';
import { FAKE_LOG_LINES } from '../stack/components/kwok.js';
import { NS, SECRET_NEEDLES, setUpFixtures, type Fixtures } from './fixtures.js';
import { adminRest, ensure, mcpClient, podManifest, textOf, workerUrls } from './helpers.js';

let env: StackEnv;
let alice: Client;
let fx: Fixtures;
const outputs: string[] = [];

async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  const res = await client.callTool({ name, arguments: args });
  outputs.push(JSON.stringify(res));
  return { res, text: textOf(res) };
}

beforeAll(async () => {
  env = loadStackEnv();
  fx = await setUpFixtures(adminRest(env));
  alice = await mcpClient(workerUrls(env)[0]!, await kubeToken(env, 'alice'));
});
afterAll(async () => {
  await alice?.close();
});

describe('every tool as alice (cluster-admin through oidc:k8s-admins)', () => {
  it('clusters_list names the stack cluster', async () => {
    const { res } = await call(alice, 'clusters_list');
    expect(res.structuredContent).toMatchObject({ clusters: [{ name: 'stack', default: true, identity: 'bearer', mode: 'read-write' }] });
  });

  it('whoami reports the Keycloak user with the oidc: prefix', async () => {
    const { res } = await call(alice, 'whoami');
    expect(res.structuredContent).toMatchObject({ username: 'oidc:alice' });
    expect((res.structuredContent as { groups: string[] }).groups).toContain('oidc:k8s-admins');
  });

  it('can_i answers from a SelfSubjectAccessReview', async () => {
    const { res, text } = await call(alice, 'can_i', { verb: 'delete', resource: 'pods', namespace: NS });
    expect(res.structuredContent).toMatchObject({ allowed: true });
    expect(text).toMatch(/^yes/);
  });

  it('namespaces_list, nodes_list and api_resources_list show the cluster', async () => {
    expect((await call(alice, 'namespaces_list', { limit: 500 })).text).toContain(NS);
    expect((await call(alice, 'nodes_list')).text).toContain(fx.node);
    const apis = (await call(alice, 'api_resources_list', { group: 'apps' })).text;
    expect(apis).toMatch(/deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
  });

  it('nodes_top says clearly when the metrics API is absent', async () => {
    const { res, text } = await call(alice, 'nodes_top');
    if (res.isError) expect(text).toContain('has no metrics API');
    else expect(text).toMatch(/NAME\s+CPU\s+CPU%\s+MEMORY/);
  });

  it('resources_list, resources_get and resources_describe read any kind', async () => {
    expect((await call(alice, 'resources_list', { kind: 'deploy', namespace: NS })).text).toMatch(/NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s/);
    const cm = await call(alice, 'resources_get', { kind: 'ConfigMap', name: 'it-config', namespace: NS });
    expect(cm.text).toContain('color: blue');
    expect(cm.text).not.toContain('managedFields');
    const described = await call(alice, 'resources_describe', { kind: 'pod', name: fx.runnerPod, namespace: NS });
    expect(described.text).toContain('integration probe warning for it-runner');
    expect(described.text).toContain(`uid: ${fx.runnerUid}`);
  });

  it('resources_create_or_update applies server-side, with dryRun first', async () => {
    // Left over from an interrupted run: the dry run must be tried against an absent object.
    await adminRest(env).raw('DELETE', `/api/v1/namespaces/${NS}/configmaps/it-applied`);
    const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: it-applied\n  namespace: ${NS}\ndata:\n  a: "1"\n`;
    const dry = await call(alice, 'resources_create_or_update', { manifest, dryRun: true });
    expect(dry.text).toContain('configmap/it-applied in kmg-worker-it would be created (dry run, nothing persisted)');
    expect((await call(alice, 'resources_get', { kind: 'cm', name: 'it-applied', namespace: NS })).res.isError).toBe(true);
    const applied = await call(alice, 'resources_create_or_update', { manifest });
    expect(applied.res.isError).toBeFalsy();
    expect((await call(alice, 'resources_get', { kind: 'cm', name: 'it-applied', namespace: NS })).text).toContain("a: '1'");
  });

  it('resources_patch merges, resources_delete removes', async () => {
    const patched = await call(alice, 'resources_patch', { kind: 'configmap', name: 'it-applied', namespace: NS, patch: { data: { b: '2' } } });
    expect(patched.text).toContain("b: '2'");
    const deleted = await call(alice, 'resources_delete', { kind: 'configmap', name: 'it-applied', namespace: NS });
    expect(deleted.res.structuredContent).toMatchObject({ deleted: true, kind: 'ConfigMap', name: 'it-applied' });
  });

  it('resources_scale changes replicas and rollout tools report and restart', async () => {
    await call(alice, 'resources_scale', { kind: 'Deployment', name: 'web', namespace: NS, replicas: 1 });
    const scaled = await call(alice, 'resources_scale', { kind: 'Deployment', name: 'web', namespace: NS, replicas: 2 });
    expect(scaled.res.structuredContent).toMatchObject({ previous: 1, replicas: 2, dryRun: false });
    const status = await call(alice, 'rollout_status', { name: 'web', namespace: NS });
    expect((status.res.structuredContent as { message: string }).message).toContain('"web"');
    const restarted = await call(alice, 'rollout_restart', { name: 'web', namespace: NS });
    expect(restarted.text).toMatch(/deployment\/web in kmg-worker-it restarted at/);
  });

  it('events_list filters by object and type', async () => {
    const { text } = await call(alice, 'events_list', { namespace: NS, type: 'Warning', objectName: fx.runnerPod });
    expect(text).toContain('ItProbe');
  });

  it('pods_list and pods_get show the running pod', async () => {
    expect((await call(alice, 'pods_list', { namespace: NS, labelSelector: 'app=it-runner' })).text).toMatch(/it-runner\s+1\/1\s+Running/);
    expect((await call(alice, 'pods_get', { name: fx.runnerPod, namespace: NS })).text).toContain(`nodeName: ${fx.node}`);
  });

  it('pods_log tails the log and greps server-side', async () => {
    const all = await call(alice, 'pods_log', { name: fx.runnerPod, namespace: NS, tail: 2 });
    expect(all.res.isError).toBeFalsy();
    expect(all.text.split('\n')).toEqual(FAKE_LOG_LINES.slice(-2));
    const grepped = await call(alice, 'pods_log', { name: fx.runnerPod, namespace: NS, grep: 'error|warn', ignoreCase: true });
    expect(grepped.text.split('\n')).toEqual(['# /error|warn/i matched 2 of all 5 lines; showing the last 200 at most', ...FAKE_LOG_LINES.filter((l) => /ERROR|WARN/.test(l))]);
    const none = await call(alice, 'pods_log', { name: fx.runnerPod, namespace: NS, grep: 'zz-no-such-line-zz' });
    expect(none.text).toContain('matched 0 of all 5 lines');
  });

  it('pods_exec runs a command through kwok', async () => {
    const { res, text } = await call(alice, 'pods_exec', { name: fx.runnerPod, namespace: NS, command: ['echo', 'hello-from-exec'] });
    expect(res.isError).toBeFalsy();
    expect(text).toContain('hello-from-exec');
    expect(res.structuredContent).toMatchObject({ exitCode: 0, timedOut: false });
  });

  it('pods_port_forward returns one HTTP response through the forward', async () => {
    const { res, text } = await call(alice, 'pods_port_forward', { name: fx.runnerPod, namespace: NS, port: 8080, path: '/it-probe' });
    expect(res.isError, text).toBeFalsy();
    // The stack's kwok forwards to `cat`, an echo: the request comes back as a non-HTTP answer.
    // Against a real HTTP server the tool returns the parsed response instead.
    expect(text).toMatch(/^HTTP \d{3}|GET \/it-probe HTTP\/1\.1/);
    expect((res.structuredContent as { bytes: number }).bytes).toBeGreaterThan(0);
  });

  it('pods_delete deletes a pod (dry run first)', async () => {
    await ensure(adminRest(env), `/api/v1/namespaces/${NS}/pods`, podManifest('it-doomed', NS, fx.node));
    const dry = await call(alice, 'pods_delete', { name: 'it-doomed', namespace: NS, dryRun: true });
    expect(dry.text).toContain('would be deleted (dry run');
    const done = await call(alice, 'pods_delete', { name: 'it-doomed', namespace: NS, gracePeriodSeconds: 0 });
    expect(done.res.structuredContent).toMatchObject({ deleted: true, name: 'it-doomed', namespace: NS });
  });

  it('cluster_health reports apiserver, nodes, pods and warnings', async () => {
    const { res, text } = await call(alice, 'cluster_health');
    expect(res.structuredContent).toMatchObject({ apiserverReady: true });
    expect(text).toMatch(/nodes: \d+\/\d+ Ready/);
    expect(text).toMatch(/unhealthy pods: .*pods read \(Succeeded excluded\)/);
    // The fixture's Warning event is recent, so the last hour's warnings show it, newest first.
    expect((res.structuredContent as { warnings: number }).warnings).toBeGreaterThan(0);
    expect(text).toMatch(/warning events of the last hour, newest first \(\d+ distinct; read all \d+ events\):\nNAMESPACE\s+LAST SEEN\s+TYPE\s+REASON/);
  });

  it('helm tools decode releases from their secrets', async () => {
    expect((await call(alice, 'helm_releases_list', { namespace: NS })).text).toMatch(/demo\s+kmg-worker-it\s+1\s+deployed\s+demo-1\.2\.3\s+4\.5\.6/);
    const got = await call(alice, 'helm_release_get', { name: 'demo', namespace: NS, show: ['values', 'manifest', 'notes', 'chartValues'] });
    expect(got.text).toContain('host: db.internal');
    expect(got.text).toContain("password: '***'");
    expect(got.text).toContain('Thanks for installing demo.');
    expect(got.text).toContain('kind: ConfigMap');
  });
});

describe('Secret masking on every output path', () => {
  it('never shows a Secret value in get, list, describe, apply or patch results', async () => {
    for (const format of ['normal', 'full']) {
      await call(alice, 'resources_get', { kind: 'Secret', name: 'it-secret', namespace: NS, format });
      await call(alice, 'resources_list', { kind: 'secrets', namespace: NS, format });
      await call(alice, 'resources_list', { kind: 'secrets', format, limit: 500 });
    }
    await call(alice, 'resources_list', { kind: 'secrets', namespace: NS });
    await call(alice, 'resources_describe', { kind: 'secret', name: 'it-secret', namespace: NS });
    const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: it-applied-secret\n  namespace: ${NS}\nstringData:\n  token: ${SECRET_NEEDLES[0]}\n`;
    const applied = await call(alice, 'resources_create_or_update', { manifest, dryRun: true });
    expect(applied.text).toContain("token: '***'");
    await call(alice, 'resources_patch', { kind: 'secret', name: 'it-secret', namespace: NS, patch: { metadata: { labels: { touched: 'yes' } } }, dryRun: true });
    await call(alice, 'helm_release_get', { name: 'demo', namespace: NS, show: ['values', 'manifest', 'chartValues'] });
    await call(alice, 'events_list', { namespace: NS, format: 'full' });
    const everything = outputs.join('\n');
    for (const needle of SECRET_NEEDLES) expect(everything).not.toContain(needle);
    // The keys stay visible.
    expect(everything).toContain("password: '***'");
  });
});

describe('RBAC is the cluster\'s', () => {
  it("refuses bob's delete with a clear Forbidden naming him", async () => {
    const bob = await mcpClient(workerUrls(env)[0]!, await kubeToken(env, 'bob'));
    const { res, text } = await call(bob, 'pods_delete', { name: fx.runnerPod, namespace: NS });
    expect(res.isError).toBe(true);
    expect(text).toMatch(/^Forbidden: pods "it-runner" is forbidden: User "oidc:bob" cannot delete resource "pods" in API group "" in the namespace "kmg-worker-it"/);
    await bob.close();
  });

  it('shows carol (no groups) nothing', async () => {
    const carol = await mcpClient(workerUrls(env)[0]!, await kubeToken(env, 'carol'));
    for (const [tool, args] of [
      ['pods_list', {}],
      ['pods_list', { namespace: NS }],
      ['namespaces_list', {}],
      ['resources_list', { kind: 'secrets', namespace: NS }],
      ['helm_releases_list', {}],
      ['resources_get', { kind: 'configmap', name: 'it-config', namespace: NS }],
    ] as const) {
      const { res, text } = await call(carol, tool, args);
      expect(res.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(text).toMatch(/^Forbidden: .*"oidc:carol"/);
    }
    await carol.close();
  });
});
