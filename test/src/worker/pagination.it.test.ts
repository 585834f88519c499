// Lists over 500 pods: pages with continue, and the byte budget holding with a marker.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { kubeToken } from '../support/keycloak-tokens.js';
import { adminRest, createPods, deletePods, ensureNamespace, mcpClient, textOf, workerUrls } from './helpers.js';

const NS = 'kmg-worker-pages';
const COUNT = 500;
let env: StackEnv;
let alice: Client;

beforeAll(async () => {
  env = loadStackEnv();
  const admin = adminRest(env);
  await ensureNamespace(admin, NS);
  await createPods(admin, NS, 'page', COUNT, { suite: 'pagination' });
  alice = await mcpClient(workerUrls(env)[0]!, await kubeToken(env, 'alice'));
}, 300_000);

afterAll(async () => {
  await alice?.close();
  if (env) await deletePods(adminRest(env), NS, 'suite=pagination');
});

describe('pagination', () => {
  it('returns 50 pods by default, with a continue token', async () => {
    const res = await alice.callTool({ name: 'pods_list', arguments: { namespace: NS } });
    const sc = res.structuredContent as { count: number; continue?: string; remainingItemCount?: number };
    expect(sc.count).toBe(50);
    expect(sc.continue).toBeTruthy();
    expect(sc.remainingItemCount).toBe(COUNT - 50);
    expect(textOf(res)).toContain(`continue="${sc.continue}"`);
  });

  it('walks all 500 pods page by page with continue, each exactly once', async () => {
    const seen = new Set<string>();
    let cont: string | undefined;
    let pages = 0;
    do {
      const res = await alice.callTool({ name: 'pods_list', arguments: { namespace: NS, limit: 120, ...(cont ? { continue: cont } : {}) } });
      expect(res.isError).toBeFalsy();
      const lines = textOf(res).split('\n').filter((l) => l.startsWith('page-'));
      for (const l of lines) {
        const name = l.split(/\s+/)[0]!;
        expect(seen.has(name)).toBe(false);
        seen.add(name);
      }
      cont = (res.structuredContent as { continue?: string }).continue;
      pages++;
    } while (cont);
    expect(seen.size).toBe(COUNT);
    expect(pages).toBe(5);
  });

  it('caps a page at 1000 items (schema) and refuses more with an isError result naming limit', async () => {
    const res = await alice.callTool({ name: 'pods_list', arguments: { namespace: NS, limit: 1001 } });
    expect(res.isError).toBe(true);
    expect(textOf(res)).toMatch(/^Invalid arguments for pods_list: limit: Too big: expected number to be <=1000/);
  });

  it('holds the 64 KiB byte budget on a huge full-detail page, with a marker saying how to get the rest', async () => {
    const res = await alice.callTool({ name: 'pods_list', arguments: { namespace: NS, limit: 500, format: 'full' } });
    const text = textOf(res);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(64 * 1024);
    expect(text).toMatch(/\[truncated: the output was \d+ bytes, over this worker's 65536-byte budget\. Lower limit/);
  });
});
