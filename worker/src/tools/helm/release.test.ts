import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApiserver, type FakeApiserver } from '../../testing/fake-apiserver.js';
import { connectInMemory, testConfig, testDeps } from '../../testing/harness.js';
import { maskHelmValues, maskKnownValues } from './mask-values.js';
import { decodeRelease } from './release.js';

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64');
const encode = (release: unknown) => b64(gzipSync(Buffer.from(JSON.stringify(release))).toString('base64'));

function release(name: string, version: number, status: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    namespace: 'apps',
    version,
    info: { status, last_deployed: new Date().toISOString(), notes: 'Log in with password hunter2-secret or token: abc123xyz' },
    chart: { metadata: { name, version: '1.0.0', appVersion: '2.0.0' }, values: { admin: { password: 'chart-default-pw' } } },
    config: { db: { passwords: ['first-pw-111', 'second-pw-222'], host: 'db' }, auth: { enabled: true, users: [{ name: 'u', pw: 'nested-pw-333' }] }, rootPassword: 'hunter2-secret' },
    manifest: `apiVersion: v1\nkind: Secret\nmetadata:\n  name: gen\nstringData:\n  pw: generated-pw-444\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  echo: generated-pw-444\n`,
    ...extra,
  };
}

const SECRETS = [
  ['web', 1, 'superseded'],
  ['web', 2, 'deployed'],
  ['broken', 1, 'failed'],
  ['moving', 3, 'pending-upgrade'],
  ['gone', 1, 'uninstalled'],
].map(([name, v, status]) => ({
  metadata: { name: `sh.helm.release.v1.${name}.v${v}`, namespace: 'apps', labels: { owner: 'helm', name: String(name), version: String(v), status: String(status) } },
  data: { release: encode(release(String(name), Number(v), String(status))) },
}));

let api: FakeApiserver;
beforeAll(async () => {
  api = await startFakeApiserver((req) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/v1/namespaces/apps/secrets') {
      const metadataOnly = String(req.headers.accept).startsWith('application/json;as=PartialObjectMetadataList');
      const name = /name=([^,]+)/.exec(url.searchParams.get('labelSelector') ?? '')?.[1];
      const items = SECRETS.filter((s) => !name || s.metadata.labels.name === name).map((s) => (metadataOnly ? { metadata: s.metadata } : s));
      return { status: 200, body: { kind: metadataOnly ? 'PartialObjectMetadataList' : 'SecretList', metadata: {}, items } };
    }
    const one = SECRETS.find((s) => url.pathname === `/api/v1/namespaces/apps/secrets/${s.metadata.name}`);
    if (one) return { status: 200, body: one };
    return undefined;
  });
});
afterAll(() => api.close());

describe('Helm release secrets', () => {
  it('decodes base64(base64(gzip(JSON))) as Helm stores it', () => {
    const r = { name: 'web', namespace: 'team-a', version: 3, info: { status: 'deployed' }, config: { image: 'nginx' } };
    expect(decodeRelease({ metadata: { name: 'sh.helm.release.v1.web.v3' }, data: { release: encode(r) } })).toEqual(r);
  });

  it('refuses a gzip bomb instead of inflating it', () => {
    const bomb = b64(gzipSync(Buffer.alloc(64 * 1024 * 1024)).toString('base64'));
    expect(() => decodeRelease({ metadata: { name: 'bomb' }, data: { release: bomb } }, 1024 * 1024)).toThrow(/decompresses to more than 1048576 bytes; refused/);
  });

  it('lists like helm list: deployed, failed and pending by default, latest revision only, from metadata', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const before = api.requests.length;
    const res = await client.callTool({ name: 'helm_releases_list', arguments: { namespace: 'apps' } });
    const rows = (res.structuredContent as { rows: Array<Record<string, string>> }).rows;
    expect(rows.map((r) => `${r.name}:${r.revision}:${r.status}`)).toEqual(['broken:1:failed', 'moving:3:pending-upgrade', 'web:2:deployed']);
    expect(rows[2]).toMatchObject({ chart: 'web-1.0.0', appVersion: '2.0.0' });
    const made = api.requests.slice(before);
    // One metadata-only list, then one GET per release shown: superseded and uninstalled revisions are never downloaded.
    expect(made.filter((r) => r.url.startsWith('/api/v1/namespaces/apps/secrets?')).every((r) => String(r.headers.accept).includes('PartialObjectMetadataList'))).toBe(true);
    expect(made.filter((r) => /secrets\/sh\.helm/.test(r.url)).map((r) => r.url.split('/').pop()).sort()).toEqual(['sh.helm.release.v1.broken.v1', 'sh.helm.release.v1.moving.v3', 'sh.helm.release.v1.web.v2']);
    const all = await client.callTool({ name: 'helm_releases_list', arguments: { namespace: 'apps', all: true } });
    expect((all.structuredContent as { rows: Array<{ name: string }> }).rows.map((r) => r.name)).toContain('gone');
    await close();
  });

  it('shows a release\'s revisions like helm history, decoding only the newest max, no values', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const before = api.requests.length;
    const res = await client.callTool({ name: 'helm_history', arguments: { name: 'web', namespace: 'apps' } });
    const text = (res.content as Array<{ text: string }>)[0]!.text;
    expect(text).toMatch(/^# 2 of 2 revisions of Helm release apps\/web, oldest first\nREVISION\s+UPDATED\s+STATUS\s+CHART\s+APP VERSION\s+DESCRIPTION\n1\s+\S+\s+superseded\s+web-1\.0\.0\s+2\.0\.0/);
    expect((res.structuredContent as { rows: Array<Record<string, string>> }).rows.map((r) => `${r.revision}:${r.status}:${r.chart}`)).toEqual(['1:superseded:web-1.0.0', '2:deployed:web-1.0.0']);
    for (const v of ['first-pw-111', 'hunter2-secret', 'chart-default-pw', 'generated-pw-444']) expect(JSON.stringify(res)).not.toContain(v);
    const newest = await client.callTool({ name: 'helm_history', arguments: { name: 'web', namespace: 'apps', max: 1 } });
    expect((newest.structuredContent as { rows: Array<{ revision: string }>; revisions: number }).rows.map((r) => r.revision)).toEqual(['2']);
    expect((newest.structuredContent as { revisions: number }).revisions).toBe(2);
    // Two decodes for the first call, one for max=1; the list calls read metadata only.
    expect(api.requests.slice(before).filter((r) => /secrets\/sh\.helm/.test(r.url)).length).toBe(3);
    const none = await client.callTool({ name: 'helm_history', arguments: { name: 'nope', namespace: 'apps' } });
    expect(none.isError).toBe(true);
    expect((none.content as Array<{ text: string }>)[0]!.text).toMatch(/^NotFound: no Helm release nope in namespace apps .*helm_releases_list/);
    await close();
  });

  it('masks a credential the NOTES print after "password" with no colon, which no values tree holds', () => {
    expect(maskKnownValues('Log in with password nt-4f2a9c (user admin)', new Set())).toBe('Log in with password *** (user admin)');
    expect(maskKnownValues('token: abc123 and secret=xyz789', new Set())).toBe('token: *** and secret=***');
  });

  it('masks values under sensitive keys, also in arrays, and those values where NOTES and the manifest repeat them', async () => {
    const { client, close } = await connectInMemory(testDeps(testConfig(api.url)));
    const res = await client.callTool({ name: 'helm_release_get', arguments: { name: 'web', namespace: 'apps', show: ['values', 'notes', 'manifest', 'chartValues'] } });
    const text = JSON.stringify(res);
    for (const v of ['first-pw-111', 'second-pw-222', 'nested-pw-333', 'hunter2-secret', 'abc123xyz', 'chart-default-pw', 'generated-pw-444']) expect(text).not.toContain(v);
    expect(text).toContain('host: db');
    expect(text).toContain('enabled: true');
    expect(text).toContain('revisions:\\n- 1\\n- 2');
    await close();
  });

  it('masks scalars under a sensitive key at any depth, keeps booleans and other keys', () => {
    const { masked, hidden } = maskHelmValues({ tokens: ['t-1', 't-2'], tls: { cert: 'PEM', enabled: true }, name: 'x' });
    expect(masked).toEqual({ tokens: ['***', '***'], tls: { cert: '***', enabled: true }, name: 'x' });
    // Values under 4 characters would mask ordinary words, so free text keeps them.
    expect(maskKnownValues('the t-1 and longer-value', new Set([...hidden, 'longer-value']))).toBe('the t-1 and ***');
  });
});
