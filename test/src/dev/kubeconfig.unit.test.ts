import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseDevCluster, DevClusterError, readKubeconfig } from './kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'kmg-kube-test-'));
const kubeconfig = `apiVersion: v1
current-context: b
contexts: [{name: a, context: {cluster: ca, user: ua}}, {name: b, context: {cluster: cb, user: ub}}]
clusters: [{name: ca, cluster: {server: "https://a:6443"}}, {name: cb, cluster: {server: "https://b:6443", certificate-authority: ca.pem}}]
users: [{name: ua, user: {token: x}}, {name: ub, user: {client-certificate: c.pem, client-key: k.pem}}]
`;

describe('npm start: which cluster', () => {
  it('serves the built-in cluster when there is no kubeconfig at all, and says why', () => {
    const home = mkdtempSync(join(tmpdir(), 'kmg-home-'));
    expect(chooseDevCluster({}, home)).toEqual({ kind: 'builtin', reason: expect.stringContaining(`${home}/.kube/config does not exist`) });
  });

  it('serves the current context of ~/.kube/config when it exists', () => {
    const home = mkdtempSync(join(tmpdir(), 'kmg-home-'));
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), kubeconfig);
    expect(chooseDevCluster({}, home)).toMatchObject({ kind: 'kubeconfig', source: '~/.kube/config', context: 'b', server: 'https://b:6443', user: 'ub' });
    expect(chooseDevCluster({ KMG_DEV_CLUSTER: 'builtin' }, home)).toMatchObject({ kind: 'builtin', reason: 'KMG_DEV_CLUSTER=builtin' });
  });

  it('takes the first file of KUBECONFIG over ~/.kube/config', () => {
    const file = join(dir, 'config');
    writeFileSync(file, kubeconfig);
    expect(chooseDevCluster({ KUBECONFIG: `${file}:/nonexistent` }, '/nonexistent-home')).toMatchObject({ kind: 'kubeconfig', source: 'KUBECONFIG', file, context: 'b' });
  });

  it('explains a KUBECONFIG that names a missing file instead of silently serving another cluster', () => {
    expect(() => chooseDevCluster({ KUBECONFIG: join(dir, 'nope') }, '/nonexistent-home')).toThrow(DevClusterError);
    expect(() => chooseDevCluster({ KUBECONFIG: join(dir, 'nope') }, '/nonexistent-home')).toThrow(/KUBECONFIG names .*nope, which does not exist/);
  });

  it('names a kubeconfig without a current context', () => {
    const file = join(dir, 'empty');
    writeFileSync(file, 'apiVersion: v1\nclusters: []\n');
    expect(() => readKubeconfig(file, 'KUBECONFIG')).toThrow(/no current context/);
  });
});
