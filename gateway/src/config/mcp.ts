import { z } from 'zod';

/** Clusters, workers, token exchange and policy settings (owned by the MCP path). */
export const mcpOrgSchema = z.object({});
export const mcpGlobalSchema = z.object({});
