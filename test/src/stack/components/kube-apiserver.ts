// kube-apiserver built from k8s.io/kubernetes (test/scripts/build-kube-apiserver.sh), trusting Keycloak
// through a structured AuthenticationConfiguration, RBAC only, an admin client certificate, and no
// scheduler or controller-manager (pods carry nodeName; kwok plays the kubelets). The API aggregation layer is
// on (front-proxy certificates of its own) so that metrics-server can serve metrics.k8s.io.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Component } from '../component.js';
import { request } from '../http.js';
import { ensureGoBinary, script } from './go-build.js';
import { FRONT_PROXY_CLIENT_CN, frontProxyCerts } from './pki.js';

export const KUBE_VERSION = process.env.KMG_KUBE_VERSION ?? 'v1.34.4';

/** The JWT authenticator: issuer = the Keycloak realm, audience `kubernetes`, `oidc:`-prefixed claims. */
export function authenticationConfig(env: Record<string, string>): string {
  return stringify({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AuthenticationConfiguration',
    jwt: [{
      issuer: {
        url: env.KEYCLOAK_ISSUER,
        certificateAuthority: readFileSync(env.STACK_CA_FILE!, 'utf8'),
        audiences: [env.KUBE_AUDIENCE ?? 'kubernetes'],
      },
      claimMappings: {
        username: { claim: 'preferred_username', prefix: 'oidc:' },
        groups: { claim: 'groups', prefix: 'oidc:' },
      },
    }],
  });
}

export function adminKubeconfig(server: string, env: Record<string, string>): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'stack', cluster: { server, 'certificate-authority': env.STACK_CA_FILE } }],
    users: [{ name: 'stack-admin', user: { 'client-certificate': env.STACK_ADMIN_CERT_FILE, 'client-key': env.STACK_ADMIN_KEY_FILE } }],
    contexts: [{ name: 'stack-admin', context: { cluster: 'stack', user: 'stack-admin' } }],
    'current-context': 'stack-admin',
  });
}

export const kubeApiserver: Component = {
  name: 'kube-apiserver',
  dependsOn: ['pki', 'keycloak', 'etcd'],
  async up(ctx) {
    const bin = await ensureGoBinary(ctx, {
      name: 'kube-apiserver', version: KUBE_VERSION, binary: 'kube-apiserver',
      build: (c, out) => c.run(script(c, 'build-kube-apiserver.sh'), [KUBE_VERSION, out]),
    });
    const env = ctx.env;
    const dir = ctx.dataDir();
    // Without Keycloak (npm start's built-in cluster) the apiserver trusts client certificates only.
    const authFile = path.join(dir, 'authentication-config.yaml');
    if (env.KEYCLOAK_ISSUER) writeFileSync(authFile, authenticationConfig(env));
    const port = await ctx.freePort('KUBE_APISERVER_URL');
    const server = `https://127.0.0.1:${port}`;
    const kubeconfig = path.join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfig, adminKubeconfig(server, env));
    const frontProxy = await frontProxyCerts(ctx, dir);

    const proc = ctx.spawn(bin, [
      `--etcd-servers=${env.ETCD_URL}`,
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${port}`,
      `--tls-cert-file=${env.STACK_SERVER_CERT_FILE}`, `--tls-private-key-file=${env.STACK_SERVER_KEY_FILE}`,
      `--client-ca-file=${env.STACK_CA_FILE}`,
      ...(env.KEYCLOAK_ISSUER ? [`--authentication-config=${authFile}`] : []),
      '--authorization-mode=RBAC',
      `--service-account-key-file=${env.STACK_SA_PUB_FILE}`,
      `--service-account-signing-key-file=${env.STACK_SA_KEY_FILE}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range=10.96.0.0/16',
      // No controller-manager creates `default` service accounts; kwok pods need no token.
      '--disable-admission-plugins=ServiceAccount',
      // kwok serves the kubelet API (logs, exec, port-forward) on 127.0.0.1 with the stack's serving cert.
      '--kubelet-preferred-address-types=InternalIP',
      `--kubelet-certificate-authority=${env.STACK_CA_FILE}`,
      `--kubelet-client-certificate=${env.STACK_ADMIN_CERT_FILE}`,
      `--kubelet-client-key=${env.STACK_ADMIN_KEY_FILE}`,
      // The aggregation layer: the apiserver proxies metrics.k8s.io to metrics-server as front-proxy-client,
      // naming the user in these headers; it publishes the CA and names in kube-system's
      // extension-apiserver-authentication ConfigMap, where extension apiservers read them.
      `--requestheader-client-ca-file=${frontProxy.caFile}`,
      `--requestheader-allowed-names=${FRONT_PROXY_CLIENT_CN}`,
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${frontProxy.certFile}`,
      `--proxy-client-key-file=${frontProxy.keyFile}`,
      '--profiling=false',
      '--v=1',
    ], { cwd: dir });
    const out = { KUBE_APISERVER_URL: server, KUBE_CA_FILE: env.STACK_CA_FILE!, KUBECONFIG_ADMIN: kubeconfig, KUBE_FRONT_PROXY_CA_FILE: frontProxy.caFile };
    ctx.progress(`waiting for ${server}/readyz`);
    await ctx.waitFor('/readyz', async () => (await readyz({ ...env, ...out })) === undefined, {
      process: proc, timeoutMs: 180_000, intervalMs: 500,
    });
    return out;
  },
  async check(env) {
    // An apiserver started before the aggregation layer was configured is restarted once.
    if (!env.KUBE_FRONT_PROXY_CA_FILE || !existsSync(env.KUBE_FRONT_PROXY_CA_FILE)) throw new Error('started without the API aggregation layer');
    const problem = await readyz(env);
    if (problem) throw new Error(problem);
  },
};

async function readyz(env: Record<string, string>): Promise<string | undefined> {
  if (!env.KUBE_APISERVER_URL) return 'KUBE_APISERVER_URL missing';
  try {
    const res = await request(`${env.KUBE_APISERVER_URL}/readyz`, {
      caFile: env.STACK_CA_FILE, certFile: env.STACK_ADMIN_CERT_FILE, keyFile: env.STACK_ADMIN_KEY_FILE,
    });
    return res.status === 200 ? undefined : `/readyz ${res.status}: ${res.text.slice(0, 200)}`;
  } catch (err) {
    return `/readyz: ${(err as Error).message}`;
  }
}
