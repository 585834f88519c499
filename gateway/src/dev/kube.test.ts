import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterFromKubeconfig, DevClusterError, resolveDevCluster } from './kube.js';

const dir = mkdtempSync(join(tmpdir(), 'kmg-kube-test-'));

describe('npm start: which cluster', () => {
  it('explains a missing kubeconfig instead of crashing', () => {
    expect(() => resolveDevCluster(dir, { KUBECONFIG: join(dir, 'nope') })).toThrow(DevClusterError);
    expect(() => resolveDevCluster(dir, { KUBECONFIG: join(dir, 'nope') })).toThrow(/no kubeconfig at .*KUBECONFIG/);
  });

  it('reads the current context with its server, CA and token', () => {
    const file = join(dir, 'config');
    writeFileSync(join(dir, 'token'), 'tok-123\n');
    writeFileSync(
      file,
      `apiVersion: v1
current-context: b
contexts: [{name: a, context: {cluster: ca, user: ua}}, {name: b, context: {cluster: cb, user: ub}}]
clusters: [{name: ca, cluster: {server: "https://a:6443"}}, {name: cb, cluster: {server: "https://b:6443", certificate-authority: ca.pem}}]
users: [{name: ua, user: {token: x}}, {name: ub, user: {tokenFile: token}}]
`,
    );
    expect(clusterFromKubeconfig(file, 'test')).toMatchObject({ server: 'https://b:6443', caFile: join(dir, 'ca.pem'), token: 'tok-123', context: 'b' });
  });

  it('names a kubeconfig without a current context', () => {
    const file = join(dir, 'empty');
    writeFileSync(file, 'apiVersion: v1\nclusters: []\n');
    expect(() => clusterFromKubeconfig(file, 'test')).toThrow(/no current context/);
  });
});
