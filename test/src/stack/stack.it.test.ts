// Proof that the local stack is the real thing: Keycloak tokens, exchanged for the cluster audience,
// are accepted by the kube-apiserver as `oidc:<user>` with `oidc:<group>`, RBAC decides per user, tokens
// that are expired, for another audience or from another issuer get 401, and kwok's pods answer
// logs, exec and port-forward through the apiserver.
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { CoreV1Api, Exec, KubeConfig, PortForward, type V1Status } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, type StackEnv } from './env.js';
import { FAKE_LOG_LINES } from './components/kwok.js';
import { SEED_SECRET_VALUE } from './components/seed.js';
import { request } from './http.js';
import { exchangeForCluster, passwordGrant } from './tokens.js';

let env: StackEnv;

beforeAll(() => {
  env = loadStackEnv();
});

function kubeConfigFor(token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'stack', server: env.KUBE_APISERVER_URL, caFile: env.KUBE_CA_FILE }],
    users: [{ name: 'user', token }],
    contexts: [{ name: 'user@stack', cluster: 'stack', user: 'user' }],
    currentContext: 'user@stack',
  });
  return kc;
}

async function clusterToken(user: 'alice' | 'bob' | 'carol'): Promise<string> {
  const passwords = { alice: env.ALICE_PASSWORD, bob: env.BOB_PASSWORD, carol: env.CAROL_PASSWORD };
  const userToken = await passwordGrant(env, user, passwords[user]);
  return (await exchangeForCluster(env, userToken.access_token)).access_token;
}

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function selfSubjectReview(token: string) {
  const res = await request(`${env.KUBE_APISERVER_URL}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
    caFile: env.KUBE_CA_FILE, method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
  });
  const userInfo = res.status === 201
    ? (JSON.parse(res.text) as { status: { userInfo: { username: string; groups?: string[] } } }).status.userInfo
    : undefined;
  return { status: res.status, userInfo };
}

/** An RS256 JWT signed by a key Keycloak never had. */
function forgedToken(issuer: string): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'forged' })}.${b64({
    iss: issuer, aud: 'kubernetes', sub: 'forged', preferred_username: 'alice', groups: ['k8s-admins'], iat: now, exp: now + 300,
  })}`;
  return `${input}.${sign('sha256', Buffer.from(input), createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }))).toString('base64url')}`;
}

async function firstWebPod(core: CoreV1Api): Promise<string> {
  const pods = await core.listNamespacedPod({ namespace: 'team-a', labelSelector: 'app=web' });
  const name = pods.items[0]?.metadata?.name;
  if (!name) throw new Error('no seeded web pod in team-a');
  return name;
}

describe('test workers and the stack CA', () => {
  it('trust Keycloak and the apiserver through NODE_EXTRA_CA_CERTS set by the global setup', async () => {
    expect(process.env.NODE_EXTRA_CA_CERTS).toBe(env.STACK_CA_FILE);
    const discovery = await fetch(`${env.KEYCLOAK_ISSUER}/.well-known/openid-configuration`);
    expect(((await discovery.json()) as { issuer: string }).issuer).toBe(env.KEYCLOAK_ISSUER);
    expect((await fetch(`${env.KUBE_APISERVER_URL}/livez`)).status).toBe(200);
  });
});

describe('Keycloak tokens at the kube-apiserver', () => {
  it('accepts alice\'s exchanged token as oidc:alice in group oidc:k8s-admins', async () => {
    const token = await clusterToken('alice');
    expect(claims(token).aud).toBe('kubernetes');
    const review = await selfSubjectReview(token);
    expect(review.status).toBe(201);
    expect(review.userInfo?.username).toBe('oidc:alice');
    expect(review.userInfo?.groups).toContain('oidc:k8s-admins');
  });

  it('exchanges a token obtained through the gateway client too (mcp-gateway may exchange for kubernetes)', async () => {
    const userToken = await passwordGrant(env, 'bob', env.BOB_PASSWORD);
    const exchanged = await exchangeForCluster(env, userToken.access_token, { id: env.GATEWAY_CLIENT_ID, secret: env.GATEWAY_CLIENT_SECRET });
    expect(claims(exchanged.access_token)).toMatchObject({ aud: 'kubernetes', azp: env.GATEWAY_CLIENT_ID, preferred_username: 'bob' });
    const review = await selfSubjectReview(exchanged.access_token);
    expect(review.userInfo?.username).toBe('oidc:bob');
    expect(review.userInfo?.groups).toContain('oidc:k8s-viewers');
  });

  it('rejects the un-exchanged user token (audience is not kubernetes) with 401', async () => {
    const userToken = await passwordGrant(env, 'alice', env.ALICE_PASSWORD);
    expect(claims(userToken.access_token).aud).not.toContain('kubernetes');
    expect((await selfSubjectReview(userToken.access_token)).status).toBe(401);
  });

  it('rejects an expired token with 401', async () => {
    // mcp-test-expiring issues cluster-audience tokens that live 2 seconds.
    const res = await request(`${env.KEYCLOAK_ISSUER}/protocol/openid-connect/token`, {
      method: 'POST', caFile: env.STACK_CA_FILE, headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'mcp-test-expiring', client_secret: 'mcp-test-expiring-dev-secret',
        username: 'alice', password: env.ALICE_PASSWORD }).toString(),
    });
    expect(res.status).toBe(200);
    const token = (JSON.parse(res.text) as { access_token: string }).access_token;
    const exp = claims(token).exp as number;
    expect(claims(token).aud).toBe('kubernetes');
    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 1500));
    expect((await selfSubjectReview(token)).status).toBe(401);
  });

  it('rejects a token from another issuer, and one signed with a foreign key for the right issuer, with 401', async () => {
    expect((await selfSubjectReview(forgedToken('https://issuer.invalid/realms/mcp'))).status).toBe(401);
    expect((await selfSubjectReview(forgedToken(env.KEYCLOAK_ISSUER))).status).toBe(401);
  });
});

describe('RBAC decides per user', () => {
  it('lets bob (k8s-viewers -> view) list pods in team-a but not delete them', async () => {
    const core = kubeConfigFor(await clusterToken('bob')).makeApiClient(CoreV1Api);
    const pod = await firstWebPod(core);
    // dryRun: authorization is checked first, and nothing is deleted should RBAC ever be wrong.
    await expect(core.deleteNamespacedPod({ name: pod, namespace: 'team-a', dryRun: 'All' })).rejects.toMatchObject({ code: 403 });
  });

  it('forbids carol (no groups) from listing pods', async () => {
    const core = kubeConfigFor(await clusterToken('carol')).makeApiClient(CoreV1Api);
    await expect(core.listNamespacedPod({ namespace: 'team-a' })).rejects.toMatchObject({ code: 403 });
  });

  it('lets alice (k8s-admins -> cluster-admin) read the seeded secret', async () => {
    const core = kubeConfigFor(await clusterToken('alice')).makeApiClient(CoreV1Api);
    const secret = await core.readNamespacedSecret({ name: 'web-credentials', namespace: 'team-a' });
    expect(Buffer.from(secret.data?.password ?? '', 'base64').toString()).toBe(SEED_SECRET_VALUE);
  });
});

describe('kwok pods through the apiserver', () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let pod: string;

  beforeAll(async () => {
    kc = kubeConfigFor(await clusterToken('alice'));
    core = kc.makeApiClient(CoreV1Api);
    pod = await firstWebPod(core);
  });

  it('runs the seeded pods on the two fake nodes', async () => {
    const pods = await core.listPodForAllNamespaces({ labelSelector: 'pod-template-hash=7d9f8b6c5d' });
    expect(pods.items.length).toBeGreaterThanOrEqual(3);
    expect(pods.items.map((p) => p.status?.phase)).toEqual(pods.items.map(() => 'Running'));
    expect(new Set(pods.items.map((p) => p.spec?.nodeName))).toEqual(new Set(['kwok-node-0', 'kwok-node-1']));
  });

  it('returns container logs', async () => {
    const log = await core.readNamespacedPodLog({ name: pod, namespace: 'team-a', container: 'app' });
    for (const line of FAKE_LOG_LINES) expect(log).toContain(line);
  });

  it('runs exec commands and returns their output', async () => {
    const chunks: Buffer[] = [];
    const stdout = new Writable({ write(c: Buffer, _e, cb) { chunks.push(c); cb(); } });
    const status = await new Promise<V1Status>((resolve, reject) => {
      new Exec(kc).exec('team-a', pod, 'app', ['sh', '-c', 'cat hello.txt; echo "stack=$KWOK_STACK"'], stdout, null, null, false, resolve)
        .catch(reject);
    });
    expect(status.status).toBe('Success');
    expect(Buffer.concat(chunks).toString()).toBe('hello from a kwok container\nstack=true\n');
  });

  it('port-forwards to the pod (an echo behind the forward)', async () => {
    const input = new PassThrough();
    const received: Buffer[] = [];
    const output = new Writable({ write(c: Buffer, _e, cb) { received.push(c); cb(); } });
    const ws = await new PortForward(kc).portForward('team-a', pod, [8080], output, null, input);
    const socket = typeof ws === 'function' ? ws() : ws;
    try {
      input.write('ping over port-forward\n');
      const deadline = Date.now() + 10_000;
      while (!Buffer.concat(received).toString().includes('ping over port-forward') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(Buffer.concat(received).toString()).toContain('ping over port-forward');
    } finally {
      input.end();
      socket?.close();
    }
  });
});

describe('metrics.k8s.io through the aggregation layer (metrics-server scraping kwok)', () => {
  const asAdmin = async (path: string) => request(`${env.KUBE_APISERVER_URL}${path}`, {
    caFile: env.KUBE_CA_FILE, headers: { authorization: `Bearer ${await clusterToken('alice')}` },
  });

  it('has APIService v1beta1.metrics.k8s.io Available, serving pods and nodes', async () => {
    const res = await asAdmin('/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io');
    expect(res.status).toBe(200);
    const conditions = (JSON.parse(res.text) as { status: { conditions: Array<{ type: string; status: string }> } }).status.conditions;
    expect(conditions).toContainEqual(expect.objectContaining({ type: 'Available', status: 'True' }));
    const discovery = await asAdmin('/apis/metrics.k8s.io/v1beta1');
    expect(discovery.status).toBe(200);
    const names = (JSON.parse(discovery.text) as { resources: Array<{ name: string }> }).resources.map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['pods', 'nodes']));
  });

  it('passes the caller\'s identity to metrics-server, whose authorization is the cluster\'s RBAC', async () => {
    const get = async (user: 'bob' | 'carol') => request(`${env.KUBE_APISERVER_URL}/apis/metrics.k8s.io/v1beta1/namespaces/team-a/pods`, {
      caFile: env.KUBE_CA_FILE, headers: { authorization: `Bearer ${await clusterToken(user)}` },
    });
    const bob = await get('bob');
    expect(bob.status).toBe(200);
    expect(JSON.parse(bob.text)).toMatchObject({ kind: 'PodMetricsList' });
    const carol = await get('carol');
    expect(carol.status).toBe(403);
    expect(carol.text).toContain('User \\"oidc:carol\\" cannot list resource \\"pods\\" in API group \\"metrics.k8s.io\\"');
    expect(carol.text).not.toContain('usage');
  });
});
