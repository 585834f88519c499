// Locations the deploy tests share.
import { homedir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../stack/env.js';

export { repoRoot };
export const composeFile = path.join(repoRoot, 'compose.yaml');
export const composeDir = path.join(repoRoot, 'deploy', 'compose');
export const chartDir = path.join(repoRoot, 'helm', 'kube-mcp-gateway');
export const realmFile = path.join(repoRoot, 'deploy', 'keycloak', 'mcp-realm.json');
export const cacheDir = path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'kube-mcp-gateway');
