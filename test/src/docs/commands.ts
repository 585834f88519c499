// Every command the README and docs/*.md show in a shell code block, and how it is proved: either a file of
// the suite (or CI) that runs it, with a literal that file contains to show it does, or the reason it cannot
// run here. docs.unit.test.ts fails on a command that is in neither list, and on an entry nothing shows any
// more. Add new commands here when you add them to a doc.

export interface RanBy {
  /** Repository-relative path of the test or CI script that runs the command (or exactly what it runs). */
  file: string;
  /** A literal in that file that shows it runs it. */
  contains: string;
}

export interface CommandEntry {
  /** The command as the docs write it (comments stripped, whitespace collapsed), or a pattern for a family. */
  command: string | RegExp;
  ranBy?: RanBy;
  notRunnable?: string;
}

export const COMMANDS: CommandEntry[] = [
  // CI runs the README's test command on a fresh machine.
  { command: 'npm ci && npm test', ranBy: { file: '.ci/run', contains: 'npm test' } },
  // The first-contact suite runs `npm start` in a clean clone (node_modules as `npm ci` left them) and signs in.
  { command: 'npm ci && npm start', ranBy: { file: 'test/src/gateway-mcp/dev-start.it.test.ts', contains: "spawn('npm', ['start']" } },
  { command: 'npm ci', ranBy: { file: '.ci/run', contains: '\nnpm ci --no-audit --no-fund\n' } },
  { command: 'npm start', ranBy: { file: 'test/src/gateway-mcp/dev-start.it.test.ts', contains: "spawn('npm', ['start']" } },
  // The compose journey (where a container engine can start) runs the wrapper, which runs compose up --wait.
  { command: 'docker compose up -d --build --wait', ranBy: { file: 'test/src/compose/journey.it.test.ts', contains: 'composeUp(report)' } },
  { command: 'npm run compose -- up', ranBy: { file: 'test/src/compose/journey.it.test.ts', contains: 'composeUp(report)' } },
  { command: 'npm run compose -- down', ranBy: { file: 'test/src/compose/journey.it.test.ts', contains: 'composeDown(report)' } },
  {
    command: 'npm run compose -- status',
    notRunnable: 'prints the state of a running compose project; the journey suite checks the same container states',
  },
  {
    command: 'docker compose exec keycloak cat /secrets/admin-password',
    notRunnable: 'reads the generated password of a running compose project; compose.unit.test.ts checks that no default admin password is set',
  },
  { command: 'docker build -t kube-mcp-gateway .', ranBy: { file: 'test/src/compose/image.it.test.ts', contains: 'docker build' } },
  { command: /^docker run -d --name kmg-(gateway|worker) --read-only .+$/, ranBy: { file: 'test/src/compose/image.it.test.ts', contains: "'run', '-d', '--name'" } },
  {
    command: 'docker build -t registry.example.com/platform/kube-mcp-gateway:0.1.0 .',
    notRunnable: 'tags the image for your registry; test/src/compose/image.it.test.ts builds the same Dockerfile and runs both entry points',
  },
  { command: 'docker push registry.example.com/platform/kube-mcp-gateway:0.1.0', notRunnable: 'pushes to your registry' },
  {
    command: 'docker run --rm -p 127.0.0.1:8080:8080 -v "$PWD/gateway.yaml:/etc/kmg/gateway.yaml:ro" kube-mcp-gateway:dev gateway --config /etc/kmg/gateway.yaml',
    notRunnable: 'needs your gateway.yaml; test/src/compose/image.it.test.ts runs the gateway from the image with its own config',
  },
  { command: 'kubectl create namespace mcp', notRunnable: 'changes a cluster you own' },
  {
    command: /^kubectl -n mcp create secret generic kmg-secrets .+$/,
    notRunnable: 'writes your secrets into a cluster you own',
  },
  {
    command: /^helm upgrade --install mcp helm\/kube-mcp-gateway -n mcp .+$/,
    notRunnable: 'installs into a cluster you own; test/src/deploy/helm.it.test.ts lints and renders the chart with each value set and dry-runs the result against the local stack',
  },
  {
    command: 'npm run bench',
    notRunnable: 'a measurement run of many minutes that reports figures rather than assertions; its output is bench/results.md',
  },
  { command: 'npm run bench -- gateway', notRunnable: 'a measurement run (see npm run bench)' },
];

export function entryFor(command: string, entries: CommandEntry[] = COMMANDS): CommandEntry | undefined {
  return entries.find((e) => (typeof e.command === 'string' ? e.command === command : e.command.test(command)));
}
