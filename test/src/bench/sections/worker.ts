// Worker section: pods_list over 200 pods, our worker vs containers/kubernetes-mcp-server on the same
// apiserver with the same user token (alice's exchanged Keycloak token), latency and response bytes as ratios.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort, portOpen } from '../../stack/component.js';
import { repoRoot } from '../../stack/env.js';
import { kubeToken } from '../../support/keycloak-tokens.js';
import { adminRest, createPods, ensureNamespace, waitFor } from '../../worker/helpers.js';
import { installKms, KMS_VERSION } from '../kubernetes-mcp-server.js';
import { percentile, type BenchResult, type BenchRow, type BenchSection } from '../section.js';

const NS = 'kmg-bench';
const PODS = 200;
const WARMUP = 10;
const ITERATIONS = 60;

function startProcess(cmd: string, args: string[], env: Record<string, string>): { child: ChildProcess; stderr: () => string } {
  const child = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  return { child, stderr: () => err };
}

async function connect(url: string, token?: string): Promise<Client> {
  const client = new Client({ name: 'kmg-bench', version: '0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} } }));
  return client;
}

interface Sample {
  ms: number[];
  bytes: number;
}

function textBytes(res: unknown): number {
  const content = (res as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.reduce((n, c) => n + (c.type === 'text' ? Buffer.byteLength(c.text ?? '') : 0), 0);
}

/** Runs both calls interleaved, so drift on a shared machine hits both sides alike. */
async function measure(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[Sample, Sample]> {
  const sa: Sample = { ms: [], bytes: 0 };
  const sb: Sample = { ms: [], bytes: 0 };
  for (let i = 0; i < WARMUP; i++) {
    sa.bytes = textBytes(await a());
    sb.bytes = textBytes(await b());
  }
  for (let i = 0; i < ITERATIONS; i++) {
    for (const [fn, s] of i % 2 ? ([[a, sa], [b, sb]] as const) : ([[b, sb], [a, sa]] as const)) {
      const t = performance.now();
      const res = await fn();
      s.ms.push(performance.now() - t);
      if ((res as { isError?: boolean }).isError) throw new Error(`tool call failed: ${JSON.stringify(res).slice(0, 300)}`);
    }
  }
  return [sa, sb];
}

function rows(label: string, ours: Sample, theirs: Sample, baselineName: string): BenchRow[] {
  const p50 = [percentile(ours.ms, 50), percentile(theirs.ms, 50)] as const;
  const p95 = [percentile(ours.ms, 95), percentile(theirs.ms, 95)] as const;
  const bytesRatio = ours.bytes / theirs.bytes;
  return [
    { metric: `pods_list ${label}: latency p50`, ours: p50[0], baseline: p50[1], baselineName, unit: 'ms', target: 'ratio ≤ 1.0', met: p50[0] / p50[1] <= 1.0 },
    { metric: `pods_list ${label}: latency p95`, ours: p95[0], baseline: p95[1], baselineName, unit: 'ms' },
    { metric: `pods_list ${label}: response bytes`, ours: ours.bytes, baseline: theirs.bytes, baselineName, unit: 'B', ...(label.startsWith('normal') ? { target: 'ratio ≤ 0.5', met: bytesRatio <= 0.5 } : {}) },
  ];
}

const section: BenchSection = {
  name: 'worker',
  async run(ctx): Promise<BenchResult> {
    const admin = adminRest(ctx.env);
    await ensureNamespace(admin, NS);
    ctx.report(`ensuring ${PODS} pods in ${NS}`);
    await createPods(admin, NS, 'bench', PODS, { suite: 'bench' });
    await waitFor(`${PODS} pods Running`, async () => {
      const list = await admin.get<{ items: Array<{ status?: { phase?: string } }> }>(`/api/v1/namespaces/${NS}/pods`, { query: { labelSelector: 'suite=bench' } });
      return list.items.filter((p) => p.status?.phase === 'Running').length >= PODS;
    }, 180_000).catch(() => ctx.report('not every pod reached Running; measuring anyway'));
    const version = await admin.get<{ gitVersion?: string }>('/version');

    const token = await kubeToken(ctx.env, 'alice');
    const bin = await installKms(ctx);
    const dir = mkdtempSync(path.join(tmpdir(), 'kmg-bench-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    // The same user token the worker gets, in a kubeconfig: both servers call the same apiserver as alice.
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1', kind: 'Config', 'current-context': 'alice',
        clusters: [{ name: 'stack', cluster: { server: ctx.env.KUBE_APISERVER_URL, 'certificate-authority': ctx.env.KUBE_CA_FILE } }],
        users: [{ name: 'alice', user: { token } }],
        contexts: [{ name: 'alice', context: { cluster: 'stack', user: 'alice', namespace: NS } }],
      }),
    );
    const procs: ChildProcess[] = [];
    try {
      const ports = { ours: await freePort(), table: await freePort(), yaml: await freePort() };
      const ours = startProcess(process.execPath, [path.join(repoRoot, 'worker', 'dist', 'main.js')], {
        HOST: '127.0.0.1', PORT: String(ports.ours), KUBE_APISERVER_URL: ctx.env.KUBE_APISERVER_URL, KUBE_CA_FILE: ctx.env.KUBE_CA_FILE, WORKER_IDENTITY: 'bearer', LOG_LEVEL: 'warn',
        // Whole lists on both sides: a truncated answer would flatter the byte ratio.
        WORKER_BYTE_BUDGET: String(16 * 1024 * 1024),
      });
      const kmsArgs = (port: number, output: string) => ['--port', String(port), '--bind-address', '127.0.0.1', '--kubeconfig', kubeconfig, '--stateless', '--disable-multi-cluster', '--toolsets', 'core', '--list-output', output, '--read-only'];
      const table = startProcess(bin, kmsArgs(ports.table, 'table'), { HOME: dir });
      const yaml = startProcess(bin, kmsArgs(ports.yaml, 'yaml'), { HOME: dir });
      procs.push(ours.child, table.child, yaml.child);
      for (const [name, port, p] of [['worker', ports.ours, ours], ['kubernetes-mcp-server (table)', ports.table, table], ['kubernetes-mcp-server (yaml)', ports.yaml, yaml]] as const) {
        await waitFor(`${name} on port ${port}`, async () => {
          if (p.child.exitCode !== null) throw new Error(`${name} exited: ${p.stderr()}`);
          return portOpen(port);
        }, 30_000);
      }
      const oursClient = await connect(`http://127.0.0.1:${ports.ours}/mcp`, token);
      const tableClient = await connect(`http://127.0.0.1:${ports.table}/mcp`);
      const yamlClient = await connect(`http://127.0.0.1:${ports.yaml}/mcp`);
      const theirTools = (await tableClient.listTools()).tools.map((t) => t.name);
      const theirTool = theirTools.includes('pods_list_in_namespace') ? 'pods_list_in_namespace' : 'pods_list';
      const baselineName = `kubernetes-mcp-server ${KMS_VERSION}`;

      ctx.report('measuring summary (ours) vs table (theirs)');
      const [s1, t1] = await measure(
        () => oursClient.callTool({ name: 'pods_list', arguments: { namespace: NS, limit: PODS } }),
        () => tableClient.callTool({ name: theirTool, arguments: { namespace: NS } }),
      );
      ctx.report('measuring normal (ours) vs yaml (theirs)');
      const [s2, t2] = await measure(
        () => oursClient.callTool({ name: 'pods_list', arguments: { namespace: NS, limit: PODS, format: 'normal' } }),
        () => yamlClient.callTool({ name: theirTool, arguments: { namespace: NS } }),
      );
      await Promise.all([oursClient.close(), tableClient.close(), yamlClient.close()]);
      return {
        rows: [...rows('summary vs their table', s1, t1, baselineName), ...rows('normal vs their yaml', s2, t2, baselineName)],
        versions: { 'kube-apiserver': version.gitVersion ?? 'unknown', 'kubernetes-mcp-server': KMS_VERSION, 'kube-mcp-worker': '0.1.0 (worker/dist)' },
        notes: [
          `${PODS} kwok pods in one namespace; ${WARMUP} warm-up and ${ITERATIONS} measured calls per side, interleaved; one MCP client each (@modelcontextprotocol/sdk, 2025-era streamable HTTP); bytes are the text the model reads.`,
          `ours: pods_list {namespace, limit: ${PODS}} (format summary, then normal; byte budget raised to 16 MiB so nothing is cut). theirs: ${theirTool} {namespace} with --list-output table, then yaml, --stateless.`,
        ],
      };
    } finally {
      for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
    }
  },
};

export default section;
