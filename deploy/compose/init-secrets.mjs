// One-shot: creates the gateway's development keys in the `secrets` volume (kept when present).
//   encryption-key                 AES-256-GCM key sealing secrets at rest in Redis (base64, 32 bytes)
//   identity-signing-key.pem       ES256 key signing identity assertions for impersonation clusters
//   identity-signing-key.pub.pem   its public half, for workers
// Files are owned by uid 1000 (the image's runtime user) and unreadable to others.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '/secrets';
const write = (name, content, mode = 0o400) => {
  const path = join(dir, name);
  if (existsSync(path)) return console.log(`kept ${path}`);
  writeFileSync(path, content, { mode });
  // Owned by the runtime user when run as root (compose); left as is otherwise (tests, rootless).
  if (process.getuid?.() === 0) chownSync(path, 1000, 1000);
  chmodSync(path, mode);
  console.log(`created ${path}`);
};

write('encryption-key', randomBytes(32).toString('base64'));
if (!existsSync(join(dir, 'identity-signing-key.pem'))) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  write('identity-signing-key.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }));
  write('identity-signing-key.pub.pem', publicKey.export({ type: 'spki', format: 'pem' }), 0o444);
}
