// The stack's components in start order. Each later one may read the env of the earlier ones.
// Workers and gateways add themselves here: import from './workers.js' / './gateways.js' and append.
import type { Component } from '../component.js';
import { redis } from './redis.js';

export const components: Component[] = [redis];
