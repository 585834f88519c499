// kwok plays the kubelets: it manages fake nodes (annotation kwok.x-k8s.io/node=fake), moves their pods
// through the default "fast" stages to Running, and serves the kubelet API on 127.0.0.1 so that
// `kubectl logs` (ClusterLogs: a log file), `exec` (ClusterExec: a local command in a scratch dir) and
// `port-forward` (ClusterPortForward: `cat`, i.e. an echo) return real data through the apiserver.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { Component, StackContext } from '../component.js';
import { request } from '../http.js';
import { ensureGoBinary } from './go-build.js';

export const KWOK_VERSION = process.env.KMG_KWOK_VERSION ?? 'v0.8.0';
/** The default "fast" stage set of kwok's kustomize/stage/fast, taken from the module itself. */
const STAGE_FILES = [
  'kustomize/stage/node/fast/node-initialize.yaml',
  'kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'kustomize/stage/pod/fast/pod-ready.yaml',
  'kustomize/stage/pod/fast/pod-complete.yaml',
  'kustomize/stage/pod/fast/pod-delete.yaml',
];
export const FAKE_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

/** Lines every fake container prints as its log (tests grep for them). */
export const FAKE_LOG_LINES = [
  '2026-01-01T00:00:00Z INFO starting web server on :8080',
  '2026-01-01T00:00:01Z INFO connected to database db.team-a.svc:5432',
  '2026-01-01T00:00:02Z WARN slow request GET /api/orders took 1532ms',
  '2026-01-01T00:00:03Z ERROR payment provider timeout after 30s',
  '2026-01-01T00:00:04Z INFO health check ok',
];

async function ensureStages(ctx: StackContext, cacheDir: string): Promise<string[]> {
  const dir = path.join(cacheDir, 'stages');
  if (!existsSync(dir) || readdirSync(dir).length < STAGE_FILES.length) {
    const { stdout } = await promisify(execFile)('go', ['mod', 'download', '-json', `sigs.k8s.io/kwok@${KWOK_VERSION}`], {
      cwd: ctx.paths.cacheDir, env: { ...process.env, GOFLAGS: '-mod=mod' },
    });
    const moduleDir = (JSON.parse(stdout) as { Dir?: string }).Dir;
    if (!moduleDir) ctx.fail(`go mod download gave no directory for sigs.k8s.io/kwok@${KWOK_VERSION}`);
    mkdirSync(dir, { recursive: true });
    for (const f of STAGE_FILES) copyFileSync(path.join(moduleDir, f), path.join(dir, path.basename(f)));
  }
  return STAGE_FILES.map((f) => path.join(dir, path.basename(f)));
}

export const kwok: Component = {
  name: 'kwok',
  dependsOn: ['pki', 'kube-apiserver'],
  async up(ctx) {
    const bin = await ensureGoBinary(ctx, {
      name: 'kwok', version: KWOK_VERSION, binary: 'kwok',
      build: (c, out) => c.run('go', ['install', '-trimpath', '-ldflags=-s -w', `sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}`], {
        env: { GOBIN: path.join(out, 'bin'), CGO_ENABLED: '0' }, cwd: c.paths.cacheDir,
      }),
    });
    const stageFiles = await ensureStages(ctx, path.join(ctx.paths.cacheDir, 'kwok', KWOK_VERSION));
    const dir = ctx.dataDir();
    const logsFile = path.join(dir, 'container.log');
    // kwok replays the file in the CRI log format the kubelet reads: `<time> <stream> F <line>`.
    writeFileSync(logsFile, FAKE_LOG_LINES.map((l) => `${l.slice(0, 20)} stdout F ${l}\n`).join(''));
    const execDir = path.join(dir, 'exec');
    mkdirSync(execDir, { recursive: true });
    writeFileSync(path.join(execDir, 'hello.txt'), 'hello from a kwok container\n');

    const port = await ctx.freePort('KWOK_URL');
    const env = ctx.env;
    const docs: unknown[] = [
      {
        apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
        kind: 'KwokConfiguration',
        options: {
          cidr: '10.244.0.0/16',
          nodeIP: '127.0.0.1',
          nodePort: port,
          serverAddress: `127.0.0.1:${port}`,
          tlsCertFile: env.STACK_SERVER_CERT_FILE,
          tlsPrivateKeyFile: env.STACK_SERVER_KEY_FILE,
          manageNodesWithAnnotationSelector: `${FAKE_NODE_ANNOTATION}=fake`,
          nodeLeaseDurationSeconds: 40,
          enableDebuggingHandlers: true, // logs, exec, attach, port-forward
          // The defaults of kwok's own deployment (kustomize/kwok/kwok.yaml); the binary has none.
          nodeLeaseParallelism: 2,
          podPlayStageParallelism: 2,
          nodePlayStageParallelism: 2,
          podsOnNodeSyncParallelism: 2,
          enablePodsOnNodeSyncListPager: false,
          enablePodsOnNodeSyncStreamWatch: true,
        },
      },
      { apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'ClusterLogs', metadata: { name: 'stack-logs' },
        spec: { logs: [{ logsFile, follow: true }] } },
      { apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'ClusterExec', metadata: { name: 'stack-exec' },
        spec: { execs: [{ local: { workDir: execDir, envs: [{ name: 'KWOK_STACK', value: 'true' }] } }] } },
      { apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'ClusterPortForward', metadata: { name: 'stack-port-forward' },
        spec: { forwards: [{ command: ['cat'] }] } },
    ];
    const configFile = path.join(dir, 'kwok.yaml');
    writeFileSync(configFile, [...docs.map((d) => stringify(d)), ...stageFiles.map((f) => readFileSync(f, 'utf8'))].join('\n---\n'));
    const proc = ctx.spawn(bin, [
      `--config=${configFile}`,
      `--kubeconfig=${env.KUBECONFIG_ADMIN}`,
    ], { cwd: dir });
    const out = { KWOK_URL: `https://127.0.0.1:${port}`, KWOK_LOG_FILE: logsFile };
    await ctx.waitFor('its /healthz', async () => (await healthz({ ...env, ...out })) === undefined, { process: proc, timeoutMs: 60_000 });
    return out;
  },
  async check(env) {
    const problem = await healthz(env);
    if (problem) throw new Error(problem);
  },
};

async function healthz(env: Record<string, string>): Promise<string | undefined> {
  if (!env.KWOK_URL) return 'KWOK_URL missing';
  try {
    const res = await request(`${env.KWOK_URL}/healthz`, { caFile: env.STACK_CA_FILE });
    return res.status === 200 ? undefined : `kwok /healthz ${res.status}`;
  } catch (err) {
    return `kwok /healthz: ${(err as Error).message}`;
  }
}
