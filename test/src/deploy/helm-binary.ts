// A helm binary for the chart tests, built once from its Go module into the cache
// (~/.cache/kube-mcp-gateway/helm/<version>/helm) — not a project dependency.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { cacheDir } from './paths.js';

const run = promisify(execFile);
export const HELM_VERSION = process.env.KMG_HELM_VERSION ?? 'v3.19.5';

/** Path to helm, building it with `go install helm.sh/helm/v3/cmd/helm@<version>` when missing. */
export async function ensureHelm(): Promise<string> {
  if (process.env.KMG_HELM_BIN) return process.env.KMG_HELM_BIN;
  const dir = path.join(cacheDir, 'helm', HELM_VERSION);
  const bin = path.join(dir, 'helm');
  if (existsSync(bin)) return bin;
  const staging = path.join(dir, `.build-${process.pid}`);
  mkdirSync(staging, { recursive: true });
  await run('go', ['install', `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`], {
    env: { ...process.env, GOBIN: staging, CGO_ENABLED: '0', GOFLAGS: '-trimpath' },
    maxBuffer: 16 * 1024 * 1024,
  });
  // Rename is atomic: a concurrent run never sees a half-written binary.
  renameSync(path.join(staging, 'helm'), bin);
  return bin;
}
