import { z } from 'zod';
import { FORMATS } from '../output/format.js';

/** Argument schemas shared by tools, with descriptions written for a model choosing values. */
export const clusterArg = z
  .string()
  .optional()
  .describe('Cluster name from clusters_list. Omit to use the default cluster.');

export const namespaceArg = z
  .string()
  .optional()
  .describe('Namespace. Omit to use all namespaces for lists (where allowed) or "default" for single objects.');

export const nameArg = z.string().min(1).describe('Object name (metadata.name).');

export const dryRunArg = z
  .boolean()
  .default(false)
  .describe('If true, the apiserver validates and returns the result without persisting anything (server-side dry run).');

/** exec and port-forward cannot be dry-run by the apiserver: their dryRun is an access check, and says so. */
export const accessCheckDryRunArg = z
  .boolean()
  .default(false)
  .describe(
    'If true, nothing runs: the worker only asks the apiserver (SelfSubjectAccessReview) whether you may use this subresource on this pod and answers yes or no. This is an access check, not a server-side dry run: the command or request itself is not validated.',
  );

export const formatArg = z
  .enum(FORMATS)
  .optional()
  .describe(
    'Output detail: "summary" = kubectl-get-like columns (smallest), "normal" = YAML without managedFields and last-applied annotations, "full" = complete YAML.',
  );

export const limitArg = z
  .number()
  .int()
  .min(1)
  .max(1000)
  .default(50)
  .describe('Maximum items to return (1-1000, default 50). When more exist, the result carries a continue token.');

export const continueArg = z
  .string()
  .optional()
  .describe('The continue token from a previous list result, to fetch the next page with the same filters.');

export const labelSelectorArg = z.string().optional().describe('Label selector, e.g. "app=web,tier!=cache".');
export const fieldSelectorArg = z.string().optional().describe('Field selector, e.g. "status.phase=Running" or "spec.nodeName=node-1".');

export const kindArg = z
  .string()
  .min(1)
  .describe('Resource kind or name: "Pod", "pods", "deploy", "Deployment", "ingresses.networking.k8s.io", or a CRD kind.');

export const apiVersionArg = z
  .string()
  .optional()
  .describe('Pin the API version, e.g. "apps/v1" or "v1". Omit to use the preferred version.');

/** The arguments that address one object of any kind (get, describe, patch, delete). */
export const objectRefArgs = {
  cluster: clusterArg,
  kind: kindArg,
  apiVersion: apiVersionArg,
  name: z.string().min(1).describe('Object name.'),
  namespace: namespaceArg,
};

/** Selectors and paging shared by the list tools that take both selectors (resources, pods, nodes). */
export const listPageArgs = {
  labelSelector: labelSelectorArg,
  fieldSelector: fieldSelectorArg,
  limit: limitArg,
  continue: continueArg,
  format: formatArg,
};
