// Keycloak from the Maven distribution (org.keycloak:keycloak-quarkus-dist), unpacked and built
// (`kc.sh build`) once per version and option set in the cache, with the realm imported once into a cached
// H2 template; each run copies the template and starts `start --optimized` over HTTPS from a per-run home
// (.stack/data/keycloak) whose lib/, providers/ and themes/ link to the cached dist, so runs never write
// into the cache.
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import type { Component, StackContext } from '../component.js';
import { requestJson } from '../http.js';

export const KEYCLOAK_VERSION = process.env.KMG_KEYCLOAK_VERSION ?? '26.4.7';
export const REALM = 'mcp';
/** Build-time options baked into the cached dist (changing them triggers one rebuild). */
const BUILD_OPTIONS = ['--db=dev-file', '--health-enabled=true'];

const realmFileSchema = z.object({
  realm: z.string(),
  users: z.array(z.object({ username: z.string(), credentials: z.array(z.object({ value: z.string() })).min(1) })),
  clients: z.array(z.object({ clientId: z.string(), secret: z.string().optional() })),
});

export function realmFile(repoRoot: string): string {
  return path.join(repoRoot, 'deploy', 'keycloak', 'mcp-realm.json');
}

/** Users' passwords and client secrets as the realm file defines them (fixed development values). */
export function realmCredentials(repoRoot: string): Record<string, string> {
  const realm = realmFileSchema.parse(JSON.parse(readFileSync(realmFile(repoRoot), 'utf8')));
  const password = (u: string) => {
    const found = realm.users.find((x) => x.username === u)?.credentials[0]?.value;
    if (!found) throw new Error(`realm file has no password for ${u}`);
    return found;
  };
  const secret = (c: string) => {
    const found = realm.clients.find((x) => x.clientId === c)?.secret;
    if (!found) throw new Error(`realm file has no secret for client ${c}`);
    return found;
  };
  return {
    KEYCLOAK_REALM: realm.realm,
    GATEWAY_CLIENT_ID: 'mcp-gateway',
    GATEWAY_CLIENT_SECRET: secret('mcp-gateway'),
    TEST_CLIENT_ID: 'mcp-test',
    TEST_CLIENT_SECRET: secret('mcp-test'),
    KUBE_AUDIENCE: 'kubernetes',
    KUBE_AUDIENCE_SCOPE: 'kubernetes',
    ALICE_PASSWORD: password('alice'),
    BOB_PASSWORD: password('bob'),
    CAROL_PASSWORD: password('carol'),
  };
}

/** Downloads the distribution tarball with Maven when it is not in the cache yet. */
async function ensureTarball(ctx: StackContext): Promise<string> {
  const downloads = ctx.cacheDir('downloads');
  const tarball = path.join(downloads, `keycloak-quarkus-dist-${KEYCLOAK_VERSION}.tar.gz`);
  if (existsSync(tarball)) return tarball;
  ctx.progress(`downloading keycloak-quarkus-dist ${KEYCLOAK_VERSION} with Maven`);
  await ctx.run('mvn', ['-B', '-q', 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy',
    `-Dartifact=org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:tar.gz`, `-DoutputDirectory=${downloads}`]);
  if (!existsSync(tarball)) ctx.fail(`Maven finished but ${tarball} is missing`);
  return tarball;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** Unpacked and built (`kc.sh build`) dist, one directory per option set so a rebuild never touches a dist in use. */
async function ensureDist(ctx: StackContext): Promise<string> {
  const wanted = BUILD_OPTIONS.join(' ');
  const base = ctx.cacheDir('keycloak', KEYCLOAK_VERSION);
  const home = path.join(base, `dist-${sha(wanted)}`, `keycloak-${KEYCLOAK_VERSION}`);
  const marker = path.join(home, '.kmg-built');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return home;
  const tarball = await ensureTarball(ctx);
  ctx.progress(`unpacking the distribution and running kc.sh build ${wanted} (once per option set; slow)`);
  const tmp = path.join(base, `unpack-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await ctx.run('tar', ['xzf', tarball, '-C', tmp]);
  const unpacked = path.join(tmp, `keycloak-${KEYCLOAK_VERSION}`);
  await ctx.run(path.join(unpacked, 'bin', 'kc.sh'), ['build', ...BUILD_OPTIONS], { env: javaEnv() });
  writeFileSync(path.join(unpacked, '.kmg-built'), wanted);
  rmSync(path.dirname(home), { recursive: true, force: true });
  mkdirSync(path.dirname(home), { recursive: true });
  renameSync(unpacked, home);
  rmSync(tmp, { recursive: true, force: true });
  return home;
}

/** A Keycloak home of our own: conf/ and data/ are real, lib/ providers/ themes/ link to the cached dist. */
function makeHome(home: string, dist: string): void {
  mkdirSync(path.join(home, 'conf'), { recursive: true });
  mkdirSync(path.join(home, 'data'), { recursive: true });
  copyFileSync(path.join(dist, 'conf', 'keycloak.conf'), path.join(home, 'conf', 'keycloak.conf'));
  for (const d of ['lib', 'providers', 'themes']) symlinkSync(path.join(dist, d), path.join(home, d));
}

function homeArgs(home: string): string[] {
  return [`-Dkc.home.dir=${home}`, `-Djboss.server.config.dir=${path.join(home, 'conf')}`];
}

/**
 * H2 database with the schema, the master realm and the project's realm already in it, made once per
 * (version, build options, realm file) with `kc.sh import`; each run starts from a copy, which skips
 * Keycloak's schema migration and realm import (most of its start time).
 */
interface DatabaseTemplate {
  h2: string;
  /** Password of the master realm's `admin`, created with the template (Keycloak only bootstraps an admin
   *  when it creates the master realm, which with a template happens once, during the import). */
  adminPassword: string;
}

async function ensureDatabaseTemplate(ctx: StackContext, dist: string): Promise<DatabaseTemplate> {
  const realmJson = readFileSync(realmFile(ctx.paths.repoRoot), 'utf8');
  const key = sha(`${KEYCLOAK_VERSION} ${BUILD_OPTIONS.join(' ')} ${realmJson}`);
  const base = ctx.cacheDir('keycloak', KEYCLOAK_VERSION);
  const template = path.join(base, `db-${key}`);
  const passwordFile = path.join(template, 'admin-password');
  if (existsSync(path.join(template, 'h2')) && existsSync(passwordFile)) {
    return { h2: path.join(template, 'h2'), adminPassword: readFileSync(passwordFile, 'utf8').trim() };
  }
  rmSync(template, { recursive: true, force: true });
  const adminPassword = randomBytes(12).toString('hex');
  ctx.progress('importing the realm into a cached database template (once per realm file)');
  const home = path.join(base, `db-build-${process.pid}`);
  rmSync(home, { recursive: true, force: true });
  makeHome(home, dist);
  await ctx.run(path.join(dist, 'bin', 'kc.sh'), [
    'import', '--optimized', `--file=${realmFile(ctx.paths.repoRoot)}`, ...homeArgs(home),
    // The import briefly opens the management interface (default 0.0.0.0:9000): keep it on a free loopback port.
    `--http-management-port=${await ctx.freePort()}`, '-Dkc.http-host=127.0.0.1', '-Dquarkus.management.host=127.0.0.1',
  ], { cwd: home, env: { ...javaEnv(), KC_BOOTSTRAP_ADMIN_USERNAME: 'admin', KC_BOOTSTRAP_ADMIN_PASSWORD: adminPassword } });
  if (!existsSync(path.join(home, 'data', 'h2'))) ctx.fail(`kc.sh import left no database in ${home}/data/h2`);
  mkdirSync(template, { recursive: true });
  renameSync(path.join(home, 'data', 'h2'), path.join(template, 'h2'));
  writeFileSync(passwordFile, `${adminPassword}\n`, { mode: 0o600 });
  rmSync(home, { recursive: true, force: true });
  return { h2: path.join(template, 'h2'), adminPassword };
}

function javaEnv(): Record<string, string | undefined> {
  return {
    // Keycloak sizes its heap from total RAM by default; a test instance needs far less.
    JAVA_OPTS_KC_HEAP: process.env.JAVA_OPTS_KC_HEAP ?? '-Xms128m -Xmx768m',
  };
}

export const keycloak: Component = {
  name: 'keycloak',
  dependsOn: ['pki'],
  async up(ctx) {
    const dist = await ensureDist(ctx);
    const template = await ensureDatabaseTemplate(ctx, dist);
    const home = ctx.dataDir();
    makeHome(home, dist);
    cpSync(template.h2, path.join(home, 'data', 'h2'), { recursive: true });

    const port = await ctx.freePort('KEYCLOAK_URL');
    const mgmtPort = await ctx.freePort('KEYCLOAK_MANAGEMENT_PORT');
    const url = `https://localhost:${port}`;
    const adminPassword = template.adminPassword;
    const proc = ctx.spawn(path.join(dist, 'bin', 'kc.sh'), [
      'start', '--optimized', '--cache=local', ...homeArgs(home),
      '--http-enabled=false', '--http-host=127.0.0.1',
      `--https-port=${port}`,
      `--https-certificate-file=${ctx.env.STACK_SERVER_CERT_FILE}`,
      `--https-certificate-key-file=${ctx.env.STACK_SERVER_KEY_FILE}`,
      `--hostname=${url}`,
      `--http-management-port=${mgmtPort}`,
    ], {
      cwd: home,
      env: { ...javaEnv(), KC_BOOTSTRAP_ADMIN_USERNAME: 'admin', KC_BOOTSTRAP_ADMIN_PASSWORD: adminPassword },
    });
    const env = {
      KEYCLOAK_URL: url,
      KEYCLOAK_ISSUER: `${url}/realms/${REALM}`,
      KEYCLOAK_MANAGEMENT_PORT: String(mgmtPort),
      KEYCLOAK_ADMIN_USER: 'admin',
      KEYCLOAK_ADMIN_PASSWORD: adminPassword,
      ...realmCredentials(ctx.paths.repoRoot),
    };
    ctx.progress(`starting on ${url} (tens of seconds, minutes on a busy 2-core machine)`);
    await ctx.waitFor('the realm discovery document', async () => {
      await discovery({ ...ctx.env, ...env });
      return true;
    }, { process: proc, timeoutMs: 15 * 60_000, intervalMs: 1000 });
    return env;
  },
  async check(env) {
    await discovery(env);
  },
};

async function discovery(env: Record<string, string>): Promise<void> {
  const issuer = env.KEYCLOAK_ISSUER;
  if (!issuer) throw new Error('KEYCLOAK_ISSUER missing');
  const doc = await requestJson<{ issuer?: string }>(`${issuer}/.well-known/openid-configuration`, { caFile: env.STACK_CA_FILE });
  if (doc.issuer !== issuer) throw new Error(`discovery issuer ${doc.issuer} != ${issuer}`);
}
