// Secret exfiltration through the write tools and their errors (issue 10, finding 2), against the real
// kube-apiserver: JSON patch copy/move/test reading a Secret's values, apiserver rejections that would echo them,
// and masking on every output path (patch, apply, get, describe, list), as alice (cluster-admin: RBAC lets her
// do all of it, so only the worker stands between the model and the values). The worker under test is started
// from this checkout's build (worker/dist), so the suite tests this code, not whatever the shared stack runs.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { b64, NS, setUpFixtures } from './fixtures.js';
import { adminRest, aliceOnStackWorker, type AliceSession, ensure, textOf } from './helpers.js';

let env: StackEnv;
let session: AliceSession | undefined;
let alice: Client;

/** A Secret of this suite's own, applied kubectl-style so its last-applied annotation repeats the values. */
const OWN = 'masking-it-secret';
const OWN_VALUE = 'own-secret-value-Zq81';
const OWN_TOKEN = 'own-token=with+chars/9';

function needles(): string[] {
  const values = [env.SEED_SECRET_VALUE, 'tok-9f8e7d6c5b4a', OWN_VALUE, OWN_TOKEN];
  return [...values, ...values.map(b64), ...values.map((v) => b64(v).replace(/=+$/, ''))];
}

interface Outcome {
  text: string;
  isError: boolean;
  /** Everything the caller got: text, structuredContent, error message. */
  all: string;
}

async function call(name: string, args: Record<string, unknown>): Promise<Outcome> {
  try {
    const res = await alice.callTool({ name, arguments: args });
    return { text: textOf(res), isError: res.isError === true, all: JSON.stringify(res) };
  } catch (err) {
    return { text: String(err), isError: true, all: String(err) };
  }
}

function expectNoLeak(o: Outcome): void {
  for (const n of needles()) expect(o.all, `leaked ${n}`).not.toContain(n);
}

const patch = (name: string, namespace: string, ops: unknown, extra: Record<string, unknown> = {}) =>
  call('resources_patch', { kind: 'Secret', name, namespace, type: 'json', patch: ops, dryRun: true, ...extra });

beforeAll(async () => {
  env = loadStackEnv();
  const admin = adminRest(env);
  await setUpFixtures(admin);
  const body = {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: OWN, namespace: NS },
    data: { password: b64(OWN_VALUE), token: b64(OWN_TOKEN) },
  };
  await ensure(admin, `/api/v1/namespaces/${NS}/secrets`, {
    ...body,
    metadata: { ...body.metadata, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(body) } },
  });
  session = await aliceOnStackWorker(env);
  alice = session.alice;
});
afterAll(async () => {
  await session?.stop();
});

describe('JSON patches that read a Secret are refused', () => {
  it('refuses copying data/password into an annotation (dry run), and shows nothing of it', async () => {
    // The seeded Secret has no annotations: the first op creates the map so the copy itself would succeed.
    const o = await patch('web-credentials', 'team-a', [{ op: 'add', path: '/metadata/annotations', value: {} }, { op: 'copy', from: '/data/password', path: '/metadata/annotations/x' }]);
    expect(o.isError).toBe(true);
    expect(o.text).toMatch(/operation 1 \(copy\) reads \/data\/password of a Secret: copying or moving Secret values is refused/);
    expectNoLeak(o);
  });

  it('refuses moving data/password into a label, which the apiserver would otherwise accept or reject quoting it', async () => {
    for (const [from, path] of [
      ['/data/password', '/metadata/labels/x'],
      ['/data/api-token', '/metadata/labels/x'],
      ['/data/api-token', '/metadata/annotations/x'],
    ] as const) {
      const parent = path.split('/').slice(0, -1).join('/');
      const o = await patch('web-credentials', 'team-a', [{ op: 'add', path: parent, value: {} }, { op: 'move', from, path }]);
      expect(o.isError, `${from} → ${path}`).toBe(true);
      expect(o.text).toContain('refused');
      expectNoLeak(o);
    }
  });

  it('refuses every spelling of the Secret kind and every pointer form that reaches the values', async () => {
    const kinds: Array<Record<string, unknown>> = [{ kind: 'secret' }, { kind: 'SECRETS' }, { kind: 'Secret', apiVersion: 'v1' }, { kind: 'secrets' }];
    for (const k of kinds) {
      const o = await patch('web-credentials', 'team-a', [{ op: 'copy', from: '/data/password', path: '/metadata/annotations/x' }], k);
      expect(o.isError, JSON.stringify(k)).toBe(true);
      expectNoLeak(o);
    }
    // OWN has annotations (last-applied), so each copy would land if the worker let it through.
    for (const from of ['/data', '', '/', 'x/data/password', '/Data/password', '/stringData', '/metadata', '/metadata/annotations', '/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration']) {
      const o = await patch(OWN, NS, [{ op: 'copy', from, path: '/metadata/annotations/leak' }]);
      expect(o.isError, `from ${JSON.stringify(from)}`).toBe(true);
      expectNoLeak(o);
    }
    // The same, as JSON text with a decoy "from" first (the apiserver reads the last duplicate key).
    const text = await patch(OWN, NS, '[{"op":"copy","from":"/metadata/name","path":"/metadata/annotations/leak","from":"/data/password"}]');
    expect(text.isError).toBe(true);
    expectNoLeak(text);
  });

  it('refuses the test op on data, so it cannot confirm a guess: right and wrong guesses get the same answer', async () => {
    const right = await patch('web-credentials', 'team-a', [{ op: 'test', path: '/data/password', value: b64(env.SEED_SECRET_VALUE) }]);
    const wrong = await patch('web-credentials', 'team-a', [{ op: 'test', path: '/data/password', value: b64('not-the-value') }]);
    expect(right.isError).toBe(true);
    expect(right.text).toMatch(/testing Secret values is refused/);
    expect(right.text).toBe(wrong.text);
    expectNoLeak(right);
  });

  it('still runs JSON patches that only write or read harmless fields, with the result masked', async () => {
    const o = await patch(OWN, NS, [
      { op: 'add', path: '/metadata/labels', value: {} },
      { op: 'copy', from: '/metadata/name', path: '/metadata/labels/copied' },
      { op: 'add', path: '/data/extra', value: b64(OWN_VALUE) },
      { op: 'test', path: '/type', value: 'Opaque' },
    ]);
    expect(o.isError, o.text).toBe(false);
    expect(o.text).toContain(`copied: ${OWN}`);
    expect(o.text).toContain("extra: '***'");
    expectNoLeak(o);
  });
});

describe('apiserver errors about Secrets never echo their text', () => {
  it('withholds a rejection that quotes the request, naming only the field', async () => {
    const marker = 'Quoted Value With Spaces';
    const o = await call('resources_patch', { kind: 'Secret', name: OWN, namespace: NS, patch: { metadata: { labels: { bad: marker } } }, dryRun: true });
    expect(o.isError).toBe(true);
    expect(o.text).toMatch(/^Invalid: the apiserver refused the request \(HTTP 422\) about metadata\.labels/);
    expect(o.all).not.toContain(marker);
    expectNoLeak(o);
  });

  it('withholds the same rejection through resources_create_or_update', async () => {
    const marker = 'Another Quoted Value';
    const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${OWN}\n  namespace: ${NS}\n  labels:\n    bad: "${marker}"\ndata:\n  password: ${b64(OWN_VALUE)}\n`;
    const o = await call('resources_create_or_update', { manifest, dryRun: true });
    expect(o.isError).toBe(true);
    expect(o.all).not.toContain(marker);
    expectNoLeak(o);
  });

  it('keeps the RBAC and not-found messages, which name only the request', async () => {
    const o = await call('resources_get', { kind: 'secret', name: 'no-such-secret', namespace: NS });
    // The apiserver's not-found text (it names only the request), then the worker's own hint on where it looked.
    expect(o.text).toMatch(/^NotFound: secrets "no-such-secret" not found \(looked in namespace kmg-worker-it of cluster stack\)\. To find it: /);
    expectNoLeak(o);
  });
});

describe('Secret values are masked on every output path', () => {
  it('masks merge, strategic and JSON patch results, apply results, get, describe and list', async () => {
    const outcomes = [
      await call('resources_patch', { kind: 'secret', name: 'web-credentials', namespace: 'team-a', patch: { metadata: { labels: { touched: 'yes' } } }, dryRun: true }),
      await call('resources_patch', { kind: 'secret', name: OWN, namespace: NS, type: 'strategic', patch: { metadata: { annotations: { note: 'x' } } }, dryRun: true }),
      await call('resources_patch', { kind: 'secret', name: OWN, namespace: NS, type: 'json', patch: [{ op: 'replace', path: '/data/password', value: b64(OWN_VALUE) }], dryRun: true }),
      await call('resources_create_or_update', {
        manifest: `apiVersion: v1\nkind: Secret\nmetadata:\n  name: masking-it-applied\n  namespace: ${NS}\nstringData:\n  token: ${OWN_TOKEN}\n`,
        dryRun: true,
      }),
      await call('resources_get', { kind: 'Secret', name: OWN, namespace: NS, format: 'full' }),
      await call('resources_get', { kind: 'Secret', name: 'web-credentials', namespace: 'team-a' }),
      await call('resources_describe', { kind: 'secret', name: OWN, namespace: NS }),
      await call('resources_list', { kind: 'secrets', namespace: NS, format: 'full' }),
      await call('resources_list', { kind: 'secrets', namespace: 'team-a', format: 'normal' }),
    ];
    for (const o of outcomes) {
      expect(o.isError, o.text).toBe(false);
      expectNoLeak(o);
    }
    expect(outcomes[0]!.text).toContain("password: '***'");
    expect(outcomes[4]!.text).toContain("kubectl.kubernetes.io/last-applied-configuration: '***'");
  });
});
