import type { Server } from '@modelcontextprotocol/server';
import { serveStdio as sdkServeStdio } from '@modelcontextprotocol/server/stdio';

/** stdio for a single local user with the local kubeconfig; the SDK serves both protocol eras from the factory. */
export function serveStdio(factory: () => Server): void {
  sdkServeStdio(() => factory());
}
