import { z } from 'zod';

/** OAuth / Keycloak / storage settings (owned by the authorization-server facade). */
export const oauthOrgSchema = z.object({});
export const oauthGlobalSchema = z.object({});
