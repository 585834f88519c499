// What `npm start` prints once it is up: the MCP URL, which cluster is served and how to serve another,
// how dev users act there, and ready-to-paste client configs.
import type { ClusterAccess } from './access.js';
import type { DevClusterChoice } from './kubeconfig.js';
import type { DevUser } from './users.js';

export interface BannerInput {
  mcpUrl: string;
  startedInSeconds: number;
  choice: DevClusterChoice;
  /** The apiserver URL actually served. */
  server: string;
  /** Built-in cluster: the versions and its admin kubeconfig. */
  builtin?: { versions: string; adminKubeconfig: string };
  /** Own cluster: what its kubeconfig user may do (undefined for the built-in cluster). */
  access?: ClusterAccess;
  users: DevUser[];
  usersFile: string;
  logsDir: string;
}

const pad = (label: string) => `  ${label.padEnd(11)}`;
const more = ' '.repeat(13);

function identityLines(b: BannerInput): string[] {
  if (b.choice.kind === 'builtin') {
    return [
      `${pad('identity:')}each dev user acts as itself (workers impersonate it; the cluster's RBAC decides)`,
      `${more}${b.users.map((u) => `${u.username}: ${u.clusterRole ? `ClusterRole ${u.clusterRole}` : 'no rights'}`).join(', ')}`,
    ];
  }
  const access = b.access!;
  if (!access.impersonate) {
    return [`${pad('identity:')}kubeconfig user ${b.choice.user} cannot impersonate (${access.detail}),`, `${more}so EVERY dev user acts as ${b.choice.user}`];
  }
  const lines = [`${pad('identity:')}each dev user acts as itself: workers impersonate it with kubeconfig user ${b.choice.user}'s credentials`];
  for (const u of b.users) {
    if (access.canListPods[u.username] !== false) continue;
    const role = u.clusterRole ?? 'view';
    lines.push(`${more}${u.username} has no rights here yet; to grant ${role}: kubectl create clusterrolebinding kmg-${u.username} --clusterrole=${role} --user=${u.username}`);
  }
  return lines;
}

export function banner(b: BannerInput): string {
  const claude = { mcpServers: { kubernetes: { command: 'npx', args: ['-y', 'mcp-remote', b.mcpUrl] } } };
  const vscode = { servers: { kubernetes: { type: 'http', url: b.mcpUrl } } };
  const cluster =
    b.choice.kind === 'builtin'
      ? [
          `${pad('cluster:')}built-in local cluster at ${b.server} (${b.builtin!.versions}),`,
          `${more}served because there is ${b.choice.reason.startsWith('no kubeconfig') ? b.choice.reason : `${b.choice.reason} was given`}; it stops with npm start`,
          `${more}kubectl: KUBECONFIG=${b.builtin!.adminKubeconfig} kubectl get pods -A`,
          `${pad('your own:')}KUBECONFIG=/path/to/kubeconfig npm start  (or with ~/.kube/config present: npm start)`,
        ]
      : [
          `${pad('cluster:')}${b.server}, context ${b.choice.context} of ${b.choice.source} (${b.choice.file})`,
          `${pad('built-in:')}KMG_DEV_CLUSTER=builtin npm start serves a local cluster instead`,
        ];
  return [
    '',
    `kube-mcp-gateway (development) is up in ${b.startedInSeconds.toFixed(1)}s.`,
    '',
    `${pad('MCP URL:')}${b.mcpUrl}`,
    ...cluster,
    ...identityLines(b),
    `${pad('sign in:')}${b.users.map((u) => `${u.username} / ${u.password}`).join(', ')}  (users: ${b.usersFile})`,
    `${pad('logs:')}${b.logsDir} (audit.jsonl, workers, cluster)`,
    '',
    'Claude Desktop (claude_desktop_config.json):',
    JSON.stringify(claude, null, 2),
    '',
    'VS Code (.vscode/mcp.json):',
    JSON.stringify(vscode, null, 2),
    '',
    `MCP Inspector: npx @modelcontextprotocol/inspector, then Transport "Streamable HTTP", URL ${b.mcpUrl}`,
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}
