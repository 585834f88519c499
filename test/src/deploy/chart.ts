// The chart's value sets and a render helper, shared by the render tests and the runtime test.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { chartDir, repoRoot } from './paths.js';

const run = promisify(execFile);

/** The value sets the chart is tested with: CI sets in the chart, and the docs' two-org example. */
export const VALUE_SETS = {
  minimal: path.join(chartDir, 'ci', 'minimal-values.yaml'),
  impersonation: path.join(chartDir, 'ci', 'impersonation-values.yaml'),
  'two-orgs': path.join(repoRoot, 'helm', 'examples', 'two-orgs.values.yaml'),
} as const;
export type ValueSet = keyof typeof VALUE_SETS;

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }>;
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
  roleRef?: Record<string, string>;
  automountServiceAccountToken?: boolean;
}

export function objects(yamlText: string): K8sObject[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** `helm template <release> chart -f values …` as objects. */
export async function render(helm: string, values: string, opts: { release?: string; namespace?: string; extra?: string[] } = {}): Promise<K8sObject[]> {
  const { stdout } = await run(helm, ['template', opts.release ?? 'kmg', chartDir, '--namespace', opts.namespace ?? 'default', '-f', values, ...(opts.extra ?? [])], { maxBuffer: 16 * 1024 * 1024 });
  return objects(stdout);
}
