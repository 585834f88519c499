// Every chaos scenario, in the order npm run chaos runs them. One file per scenario.
import type { Scenario } from '../scenario.js';
import { gatewayKill } from './gateway-kill.js';
import { gatewayTerm } from './gateway-term.js';
import { keycloakStop } from './keycloak-stop.js';
import { redisRestart } from './redis-restart.js';
import { refreshStorm } from './refresh-storm.js';
import { sentinelFailover } from './sentinel-failover.js';
import { soak } from './soak.js';
import { workerKill } from './worker-kill.js';

export const scenarios: Scenario[] = [gatewayKill, gatewayTerm, workerKill, redisRestart, sentinelFailover, keycloakStop, refreshStorm, soak];
