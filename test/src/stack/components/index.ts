// The stack's components in start order. Each later one may read the env of the earlier ones.
// Workers and gateways add themselves here: import from './workers.js' / './gateways.js' and append.
import type { Component } from '../component.js';
import { etcd } from './etcd.js';
import { keycloak } from './keycloak.js';
import { kubeApiserver } from './kube-apiserver.js';
import { kwok } from './kwok.js';
import { metricsServer } from './metrics-server.js';
import { pki } from './pki.js';
import { redis } from './redis.js';
import { seed } from './seed.js';
import { workers } from './workers.js';
import { gateways } from './gateways.js';

export const components: Component[] = [redis, pki, keycloak, etcd, kubeApiserver, kwok, seed, metricsServer, workers, gateways];
