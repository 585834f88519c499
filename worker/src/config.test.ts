import { describe, expect, it } from 'vitest';
import { ConfigError, loadWorkerConfig, parseWorkerConfig } from './config.js';

describe('worker config', () => {
  it('builds a single bearer cluster from the environment', () => {
    const c = loadWorkerConfig([], { KUBE_APISERVER_URL: 'https://127.0.0.1:6443', KUBE_CA_FILE: '/ca.pem', PORT: '9000' });
    expect(c.clusters[0]).toMatchObject({ name: 'default', server: 'https://127.0.0.1:6443', caFile: '/ca.pem', identity: 'bearer' });
    expect(c.port).toBe(9000);
    expect(c.byteBudget).toBe(65536);
    expect(c.host).toBe('127.0.0.1');
  });

  it('uses the local kubeconfig for --stdio', () => {
    const c = loadWorkerConfig(['--stdio'], { KUBECONFIG: '/tmp/kc' });
    expect(c.stdio).toBe(true);
    expect(c.clusters[0]).toMatchObject({ identity: 'kubeconfig', kubeconfig: '/tmp/kc' });
  });

  it('names every bad path in one error', () => {
    let err: unknown;
    try {
      parseWorkerConfig({ clusters: [{ name: 'a', identity: 'impersonation', server: 'https://x' }, { name: 'a', identity: 'bearer' }], defaultCluster: 'zz' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toContain('clusters.0.serviceAccountTokenFile: required for identity impersonation');
    expect(problems).toContain('clusters.1.server: required for identity bearer');
    expect(problems).toContain('clusters.1.name: duplicate cluster a');
    expect(problems).toContain('assertion: required because cluster a uses impersonation');
    expect(problems).toContain('defaultCluster: no cluster named zz');
  });

  it('keeps kubeconfig identity off non-loopback listeners', () => {
    expect(() => parseWorkerConfig({ host: '0.0.0.0', clusters: [{ name: 'a', identity: 'kubeconfig' }] })).toThrow(/loopback/);
  });
});
