// One-shot: generates the compose stack's keys once (kept when present) and writes each into the volume of
// the one service that uses it, so no container can read another's keys:
//   /out/gateway/encryption-key              AES-256-GCM key sealing secrets at rest in Redis (base64, 32 bytes)
//   /out/gateway/identity-signing-key.pem    ES256 key signing identity assertions (impersonation clusters)
//   /out/keycloak/admin-password             the Keycloak bootstrap admin's password
//   /out/apiserver/sa.key, sa.pub            the apiserver's service-account token signing key pair
//   /out/apiserver/admin-tokens.csv          the static cluster-admin token (system:masters) ...
//   /out/cluster-admin/admin-token           ... and the same token for the seed job and kwok
// Files are owned by the uid of the process that reads them (1000: the product image and Keycloak;
// 0: kube-apiserver) and unreadable to others.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const out = process.argv[2] ?? '/out';
const asRoot = process.getuid?.() === 0;
const handOver = [];
const dir = (name, owner) => {
  const d = join(out, name);
  mkdirSync(d, { recursive: true });
  // cluster-init (uid 1000) writes the apiserver's CA certificate into these; handed over last, since
  // root here has no DAC_OVERRIDE to write into a folder it no longer owns.
  if (owner !== undefined) handOver.push([d, owner]);
  return d;
};
const write = (path, content, { mode = 0o400, uid = 1000, gid = uid, keep = true } = {}) => {
  if (keep && existsSync(path)) return console.log(`kept ${path}`);
  rmSync(path, { force: true });
  writeFileSync(path, content, { mode });
  // chmod before chown: the container has CHOWN but not FOWNER, so root cannot chmod a file it gave away.
  chmodSync(path, mode);
  // Owned by the reading uid when run as root (compose); left as is otherwise (tests, rootless).
  if (asRoot) chownSync(path, uid, gid);
  console.log(`created ${path}`);
};

const gateway = dir('gateway');
const keycloak = dir('keycloak');
const apiserver = dir('apiserver');
const clusterAdmin = dir('cluster-admin', 1000);
dir('worker', 1000);

write(join(gateway, 'encryption-key'), randomBytes(32).toString('base64'));
if (!existsSync(join(gateway, 'identity-signing-key.pem'))) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  write(join(gateway, 'identity-signing-key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
}

write(join(keycloak, 'admin-password'), randomBytes(18).toString('base64url'));

if (!existsSync(join(apiserver, 'sa.key')) || !existsSync(join(apiserver, 'sa.pub'))) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  write(join(apiserver, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { uid: 0, keep: false });
  write(join(apiserver, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }), { uid: 0, mode: 0o444, keep: false });
}

// Both halves or neither: a token the apiserver does not know would lock the seed job and kwok out.
const tokenFile = join(clusterAdmin, 'admin-token');
const csvFile = join(apiserver, 'admin-tokens.csv');
const token = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '';
if (!token || !existsSync(csvFile) || !readFileSync(csvFile, 'utf8').startsWith(`${token},`)) {
  const fresh = randomBytes(32).toString('base64url');
  write(csvFile, `${fresh},kmg-cluster-admin,kmg-cluster-admin,"system:masters"\n`, { uid: 0, keep: false });
  write(tokenFile, fresh, { uid: 1000, gid: 0, mode: 0o440, keep: false });
} else {
  console.log(`kept ${csvFile} and ${tokenFile}`);
}

if (asRoot) for (const [d, owner] of handOver) chownSync(d, owner, owner);
