import { describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { McpRequestError, ToolInputRefusal } from './errors.js';
import { pinCluster } from './cluster.js';
import { parseMcpBody } from './parse.js';

const config = configSchema.parse({
  publicUrl: 'https://gw.example.test',
  orgs: [
    {
      name: 'acme',
      exchange: { tokenEndpoint: 'https://kc.example.test/token', clientId: 'gw', clientSecret: 's' },
      clusters: [
        { name: 'dev', workers: ['http://127.0.0.1:1'] },
        { name: 'prod', workers: ['http://127.0.0.1:2'] },
      ],
    },
  ],
});
const org = config.orgs[0]!;
const [dev, prod] = org.clusters as [(typeof org.clusters)[0], (typeof org.clusters)[0]];
const call = (args: Record<string, unknown>, id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'pods_list', arguments: args } });
const parsed = (body: unknown) => parseMcpBody({ body: Buffer.from(JSON.stringify(body)) });

describe('the cluster a request acts on', () => {
  it("is the URL's cluster when no call names one", () => {
    expect(pinCluster(org, dev, false, parsed(call({})))).toBe(dev);
    expect(pinCluster(org, prod, true, null)).toBe(prod);
  });
  it("is the call's arguments.cluster on the org's MCP URL", () => {
    expect(pinCluster(org, dev, false, parsed(call({ cluster: 'prod' })))).toBe(prod);
  });
  it('is a tool error for a cluster the org does not have, naming the ones it has', () => {
    const err = (() => {
      try {
        pinCluster(org, dev, false, parsed(call({ cluster: 'other-org-cluster' }, 7)));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ToolInputRefusal);
    expect((err as ToolInputRefusal).id).toBe(7);
    expect((err as Error).message).toContain('dev, prod');
  });
  it('is a tool error when the call names another cluster than its /clusters/{name} URL', () => {
    expect(() => pinCluster(org, prod, true, parsed(call({ cluster: 'dev' })))).toThrow(ToolInputRefusal);
  });
  it('is a tool error for a cluster that is not a string, naming the argument, the clusters and the fix', () => {
    let err: unknown;
    try {
      pinCluster(org, dev, false, parsed(call({ cluster: 42 }, 9)));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ToolInputRefusal);
    expect((err as ToolInputRefusal).id).toBe(9);
    expect((err as Error).message).toBe(
      'Invalid arguments for pods_list: cluster: expected a string, got a number. Pass one of this organisation\'s clusters (dev, prod) as a string, or omit cluster to use "dev", and call pods_list again.',
    );
    expect(() => pinCluster(org, dev, false, parsed([call({ cluster: ['prod'] }, 1)]))).toThrow(McpRequestError);
  });
  it('refuses a batch whose calls address two clusters, or an unknown one', () => {
    expect(() => pinCluster(org, dev, false, parsed([call({ cluster: 'prod' }, 1), call({}, 2)]))).toThrow(McpRequestError);
    expect(() => pinCluster(org, dev, false, parsed([call({ cluster: 'nope' }, 1)]))).toThrow(McpRequestError);
    expect(pinCluster(org, dev, false, parsed([call({ cluster: 'prod' }, 1), call({ cluster: 'prod' }, 2)]))).toBe(prod);
  });
});
