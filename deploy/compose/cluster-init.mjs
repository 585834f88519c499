// One-shot: waits for the compose cluster's apiserver, hands its CA certificate to workers and kwok, and
// seeds the cluster like the local stack (deploy/compose/cluster-seed.json). Idempotent: existing objects
// are kept. The apiserver's self-signed serving certificate (and the CA it was signed with) is in
// /apiserver-tls/apiserver.crt; it is valid for the name `kubernetes`.
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';

const server = process.env.KUBE_SERVER ?? 'https://kubernetes:6443';
const certFile = '/apiserver-tls/apiserver.crt';
const token = readFileSync('/secrets/admin-token', 'utf8').trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function call(method, path, body) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server), {
      method, ca: readFileSync(certFile), timeout: 10_000,
      headers: {
        authorization: `Bearer ${token}`, accept: 'application/json',
        ...(payload ? { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' } : {}),
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

const deadline = Date.now() + 300_000;
for (;;) {
  let last = 'no certificate yet';
  if (existsSync(certFile)) {
    try {
      const res = await call('GET', '/readyz');
      if (res.status === 200) break;
      last = `/readyz ${res.status}`;
    } catch (err) {
      last = err.message;
    }
  }
  if (Date.now() > deadline) throw new Error(`apiserver not ready after 300s: ${last}`);
  await sleep(1000);
}
console.log(`apiserver ${server} ready`);

for (const dest of ['/secrets/kube-ca.crt', '/out/worker/kube-ca.crt']) copyFileSync(certFile, dest);
console.log('CA certificate handed to kwok and the workers');

const plural = { Namespace: 'namespaces', Node: 'nodes', Pod: 'pods', Service: 'services', ConfigMap: 'configmaps', Secret: 'secrets', Event: 'events', Deployment: 'deployments', ClusterRole: 'clusterroles', ClusterRoleBinding: 'clusterrolebindings' };
const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
let created = 0;
for (const o of JSON.parse(readFileSync('/init/cluster-seed.json', 'utf8'))) {
  if (o.kind === 'Event') Object.assign(o, { firstTimestamp: now, lastTimestamp: now });
  const base = o.apiVersion === 'v1' ? '/api/v1' : `/apis/${o.apiVersion}`;
  const ns = o.metadata.namespace ? `/namespaces/${o.metadata.namespace}` : '';
  const res = await call('POST', `${base}${ns}/${plural[o.kind]}`, o);
  if (res.status === 201) created++;
  else if (res.status !== 409) throw new Error(`creating ${o.kind} ${o.metadata.name}: ${res.status} ${res.text.slice(0, 300)}`);
}
console.log(`cluster seeded (${created} objects created, the rest kept)`);

// No controller-manager aggregates ClusterRoles here: fill view/edit/admin from the roles that aggregate into them
// (after seeding: the seed adds one, metrics-server's reader).
for (const target of ['view', 'edit', 'admin']) {
  const sel = encodeURIComponent(`rbac.authorization.k8s.io/aggregate-to-${target}=true`);
  const res = await call('GET', `/apis/rbac.authorization.k8s.io/v1/clusterroles?labelSelector=${sel}`);
  if (res.status !== 200) throw new Error(`listing roles aggregated into ${target}: ${res.status}`);
  const rules = JSON.parse(res.text).items.flatMap((r) => r.rules ?? []);
  const patch = await call('PATCH', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${target}`, { rules });
  if (patch.status !== 200) throw new Error(`filling ClusterRole ${target}: ${patch.status} ${patch.text.slice(0, 200)}`);
}

