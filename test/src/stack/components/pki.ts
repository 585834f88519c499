// The stack's CA and certificates (openssl): one CA that signs the HTTPS serving certificate
// (localhost, 127.0.0.1; used by Keycloak and the kube-apiserver) and the admin client certificate
// (O=system:masters), plus the service-account signing key pair. The API aggregation layer's certificates
// (front-proxy CA and client, an extension apiserver's serving certificate) are made by the components that
// use them, with the helpers below, so adding them never regenerates the CA that Keycloak and every client trust.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { Component, StackContext } from '../component.js';

const DAYS = '30';

type OpenSsl = (args: string[]) => Promise<void>;

/** Issues `<name>.crt`/`<name>.key` (P-256) in `dir`, signed by `ca`, with the given subject and extensions. */
async function issue(openssl: OpenSsl, dir: string, name: string, subj: string, ext: string[], ca: { cert: string; key: string }): Promise<{ cert: string; key: string }> {
  const f = (n: string) => path.join(dir, n);
  writeFileSync(f(`${name}.ext`), ['basicConstraints=critical,CA:FALSE', ...ext, ''].join('\n'));
  await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', subj]);
  await openssl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial',
    '-out', f(`${name}.crt`), '-days', DAYS, '-extfile', f(`${name}.ext`)]);
  return { cert: f(`${name}.crt`), key: f(`${name}.key`) };
}

/** The CN the apiserver's front-proxy client certificate carries (and `--requestheader-allowed-names` accepts). */
export const FRONT_PROXY_CLIENT_CN = 'front-proxy-client';

/**
 * The aggregation layer's own CA and the client certificate the kube-apiserver presents when it proxies to an
 * extension apiserver. A CA of its own, as Kubernetes advises: a certificate from the client CA must never be
 * able to assert X-Remote-User headers.
 */
export async function frontProxyCerts(ctx: StackContext, dir: string): Promise<{ caFile: string; certFile: string; keyFile: string }> {
  const f = (n: string) => path.join(dir, n);
  const openssl: OpenSsl = (args) => ctx.run('openssl', args, { cwd: dir });
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', f('front-proxy-ca.key'), '-out', f('front-proxy-ca.crt'), '-days', DAYS, '-subj', '/CN=kube-mcp-gateway front-proxy CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const client = await issue(openssl, dir, 'front-proxy-client', `/CN=${FRONT_PROXY_CLIENT_CN}`,
    ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth'], { cert: f('front-proxy-ca.crt'), key: f('front-proxy-ca.key') });
  return { caFile: f('front-proxy-ca.crt'), certFile: client.cert, keyFile: client.key };
}

/**
 * A serving certificate from the stack CA for an extension apiserver behind Service `<service>.<namespace>`:
 * the aggregator checks the name `<service>.<namespace>.svc`, whatever address the Service resolves to.
 */
export async function extensionServingCert(ctx: StackContext, dir: string, service: string, namespace: string): Promise<{ certFile: string; keyFile: string }> {
  const env = ctx.env;
  if (!env.STACK_CA_FILE || !env.STACK_CA_KEY_FILE) ctx.fail('the stack CA (STACK_CA_FILE, STACK_CA_KEY_FILE) is missing');
  const openssl: OpenSsl = (args) => ctx.run('openssl', args, { cwd: dir });
  const host = `${service}.${namespace}.svc`;
  const { cert, key } = await issue(openssl, dir, 'serving', `/CN=${host}`,
    ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', `subjectAltName=DNS:${host},DNS:localhost,IP:127.0.0.1`],
    { cert: env.STACK_CA_FILE, key: env.STACK_CA_KEY_FILE });
  return { certFile: cert, keyFile: key };
}

export const pki: Component = {
  name: 'pki',
  async up(ctx: StackContext) {
    const dir = ctx.dataDir();
    const f = (n: string) => path.join(dir, n);
    const openssl = (args: string[]) => ctx.run('openssl', args, { cwd: dir });

    await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', DAYS, '-subj', '/CN=kube-mcp-gateway stack CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);

    // Serving certificate for every HTTPS endpoint of the stack.
    writeFileSync(f('server.ext'), [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '',
    ].join('\n'));
    // RSA for the server key: Keycloak's PEM loader and every client handle it.
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
    await openssl(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-out', f('server.crt'), '-days', DAYS, '-extfile', f('server.ext')]);

    // Admin client certificate: O=system:masters is cluster-admin by the apiserver's built-in rules.
    writeFileSync(f('client.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
    await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('admin.key'),
      '-out', f('admin.csr'), '-subj', '/O=system:masters/CN=stack-admin']);
    await openssl(['x509', '-req', '-in', f('admin.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-out', f('admin.crt'), '-days', DAYS, '-extfile', f('client.ext')]);

    // Service-account token signing key pair.
    await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', f('sa.key')]);
    await openssl(['pkey', '-in', f('sa.key'), '-pubout', '-out', f('sa.pub')]);

    return {
      STACK_CA_FILE: f('ca.crt'),
      STACK_CA_KEY_FILE: f('ca.key'),
      STACK_SERVER_CERT_FILE: f('server.crt'),
      STACK_SERVER_KEY_FILE: f('server.key'),
      STACK_ADMIN_CERT_FILE: f('admin.crt'),
      STACK_ADMIN_KEY_FILE: f('admin.key'),
      STACK_SA_KEY_FILE: f('sa.key'),
      STACK_SA_PUB_FILE: f('sa.pub'),
    };
  },
  async check(env) {
    for (const key of ['STACK_CA_FILE', 'STACK_SERVER_CERT_FILE', 'STACK_SERVER_KEY_FILE', 'STACK_ADMIN_CERT_FILE', 'STACK_SA_KEY_FILE']) {
      const file = env[key];
      if (!file || !existsSync(file)) throw new Error(`${key} missing`);
    }
    const ca = new X509Certificate(readFileSync(env.STACK_CA_FILE!));
    const server = new X509Certificate(readFileSync(env.STACK_SERVER_CERT_FILE!));
    if (!server.checkIssued(ca) || new Date(server.validTo).getTime() < Date.now() + 3600_000) {
      throw new Error('serving certificate not issued by the stack CA or about to expire');
    }
  },
};
