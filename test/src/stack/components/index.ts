// The stack's components in start order. Each later one may read the env of the earlier ones.
// Workers and gateways add themselves here: import from './workers.js' / './gateways.js' and append.
import type { Component } from '../component.js';
import { keycloak } from './keycloak.js';
import { pki } from './pki.js';
import { redis } from './redis.js';
import { gateways } from './gateways.js';

// gateways stays last (after workers): its config lists WORKER_URLS.
export const components: Component[] = [redis, pki, keycloak, gateways];
