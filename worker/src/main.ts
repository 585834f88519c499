#!/usr/bin/env node
import { createLogger, REDACTED_PATHS } from '@kmg/shared/logger';
import { agentHttpCheck, createOps } from '@kmg/shared/ops';
import { destination, pino } from 'pino';
import { ConfigError, loadWorkerConfig, type WorkerConfig } from './config.js';
import { Authenticator } from './http/auth.js';
import { createWorkerHttpServer } from './http/app.js';
import { AssertionVerifier } from './identity/impersonation.js';
import { ClientFactory } from './k8s/clients.js';
import { createClusterTransport } from './k8s/transport.js';
import { DiscoveryCache } from './k8s/discovery.js';
import { createMcpServer, type ServerDeps } from './server.js';
import { serveStdio } from './stdio.js';
import { buildRegistry } from './tools/index.js';

function loadConfigOrExit(): WorkerConfig {
  try {
    return loadWorkerConfig(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : `cannot load worker configuration: ${(err as Error).message}`}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // stdio: stdout carries the protocol, so logs go to stderr.
  const logger = config.stdio
    ? pino({ name: 'kube-mcp-worker', level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination(2))
    : createLogger('kube-mcp-worker', { level: config.logLevel });
  const deps: ServerDeps = {
    config,
    registry: buildRegistry(),
    factory: new ClientFactory(config.clusters),
    discovery: new DiscoveryCache(),
    logger,
  };
  if (config.stdio) {
    serveStdio(() => createMcpServer(deps, { identity: { kind: 'kubeconfig' } }));
    return;
  }
  const authenticator = new Authenticator(config, deps.factory, config.assertion ? new AssertionVerifier(config.assertion) : undefined);
  // Each apiserver's /readyz (through its own TLS trust) is reported, not critical: one cluster down must
  // not take this pool's other clusters out of the Service (its calls get a "cluster … is unreachable" tool error).
  const apiserverChecks = config.clusters
    .filter((c) => c.identity !== 'kubeconfig')
    .map((c) => {
      const transport = createClusterTransport(c);
      return { ...agentHttpCheck(`apiserver:${c.name}`, new URL('/readyz', transport.server), { agent: transport.agent }), critical: false };
    });
  const ops = createOps({ service: 'worker', config: config.ops, logger, checks: apiserverChecks });
  deps.metrics = ops.metrics;
  const { server, handler } = createWorkerHttpServer({ ...deps, authenticator, ops }, logger);
  server.listen(config.port, config.host, () => {
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    logger.info({ url: `http://${config.host}:${port}/mcp`, clusters: config.clusters.map((c) => c.name) }, 'worker listening');
  });
  // SIGTERM: unready, stop accepting, let in-flight tool calls finish (ops.shutdown.timeoutSeconds), exit 0.
  const metricsServer = ops.listenMetrics(config.host);
  ops.handleShutdown([server, ...(metricsServer ? [metricsServer] : [])], { onClose: [() => handler.close()] });
}

void main();
