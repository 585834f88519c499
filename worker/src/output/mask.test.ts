import { describe, expect, it } from 'vitest';
import { MASK, maskSecrets, maskYamlManifest } from './mask.js';

describe('Secret masking', () => {
  it('masks data and stringData values and keeps the keys', () => {
    const out = maskSecrets({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { a: 'eA==', b: 'eQ==' }, stringData: { c: 'z' } });
    expect(out.data).toEqual({ a: MASK, b: MASK });
    expect(out.stringData).toEqual({ c: MASK });
  });

  it('masks Secrets nested anywhere, e.g. inside a List or an apply result array', () => {
    const out = maskSecrets({ items: [[{ kind: 'Secret', data: { k: 'dg==' } }]] });
    expect(JSON.stringify(out)).not.toContain('dg==');
  });

  it('masks the last-applied annotation of a Secret, which would echo its values', () => {
    const out = maskSecrets({ kind: 'Secret', metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"k":"dg=="}}' } } });
    expect(JSON.stringify(out)).not.toContain('dg==');
  });

  it('leaves ConfigMaps alone', () => {
    const cm = { kind: 'ConfigMap', data: { k: 'v' } };
    expect(maskSecrets(cm)).toEqual(cm);
  });

  it('reveals only what the reveal policy names', () => {
    const s = (name: string) => ({ kind: 'Secret', metadata: { namespace: 'ns', name }, data: { k: 'dg==' } });
    const out = maskSecrets([s('open'), s('closed')], (ns, name) => `${ns}/${name}` === 'ns/open');
    expect(out[0]!.data.k).toBe('dg==');
    expect(out[1]!.data.k).toBe(MASK);
  });

  it('masks Secrets inside a rendered Helm manifest', () => {
    const text = maskYamlManifest('apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  token: c2VjcmV0\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n');
    expect(text).not.toContain('c2VjcmV0');
    expect(text).toContain('kind: ConfigMap');
  });

  it('masks a Secret whose data is not a map (a malformed manifest) entirely', () => {
    const out = maskSecrets([
      { apiVersion: 'v1', kind: 'Secret', data: ['c2VjcmV0'] },
      { apiVersion: 'v1', kind: 'Secret', stringData: 'password=hunter2' },
    ]);
    expect(JSON.stringify(out)).not.toMatch(/c2VjcmV0|hunter2/);
    expect(out[0]!.data).toBe(MASK);
  });
});
