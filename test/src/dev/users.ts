import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** Development users for the built-in identity provider (`npm start`): a YAML file, not code. */
export const devUsersSchema = z.object({
  users: z
    .array(
      z.object({
        username: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lowercase letters, digits, . _ -'),
        password: z.string().min(4),
        name: z.string().optional(),
        email: z.string().optional(),
        /** Kubernetes groups the user is impersonated with. */
        groups: z.array(z.string()).default([]),
        /** ClusterRole bound to this user, by name, on the built-in cluster (none: the user may do nothing there). */
        clusterRole: z.string().optional(),
      }),
    )
    .min(1),
});
export type DevUser = z.infer<typeof devUsersSchema>['users'][number];

export function loadDevUsers(path: string): DevUser[] {
  const parsed = devUsersSchema.safeParse(parseYaml(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    throw new Error(`invalid dev users file ${path}:\n${parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  return parsed.data.users;
}

export function checkPassword(user: DevUser | undefined, password: string): boolean {
  const a = Buffer.from(user?.password ?? '\u0000never');
  const b = Buffer.from(password);
  return a.length === b.length && timingSafeEqual(a, b) && user !== undefined;
}
