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

  it('holds the 64 KiB byte budget on a huge full-detail page by cutting at a whole item, with the rerun that skips none', async () => {
    const res = await alice.callTool({ name: 'pods_list', arguments: { namespace: NS, limit: 500, format: 'full' } });
    const text = textOf(res);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(64 * 1024);
    const sc = res.structuredContent as { count: number; continue?: string; cut?: { shown: number; of: number; rerun: { limit: number } } };
    expect(sc.cut).toMatchObject({ shown: sc.count, of: COUNT, rerun: { limit: sc.count } });
    expect(sc.continue).toBeUndefined();
    expect(text).toContain(`${sc.count} of ${COUNT} pods shown. To page without skipping any, rerun with limit=${sc.count} and no continue`);
  });

  it('visits all 500 pods exactly once in full detail by following the cut advice, then continue', async () => {
    const seen: string[] = [];
    let args: { limit: number; continue?: string } = { limit: 200 };
    for (let calls = 0; calls < 60; calls++) {
      const res = await alice.callTool({ name: 'pods_list', arguments: { namespace: NS, format: 'full', ...args } });
      expect(res.isError).toBeFalsy();
      const sc = res.structuredContent as { rows: Array<{ name: string }>; continue?: string; cut?: { rerun: { limit: number; continue?: string } } };
      // The YAML carries the same items the rows name.
      for (const r of sc.rows) expect(textOf(res)).toContain(`name: ${r.name}\n`);
      if (sc.cut) {
        args = sc.cut.rerun;
        continue;
      }
      seen.push(...sc.rows.map((r) => r.name));
      if (!sc.continue) break;
      args = { limit: args.limit, continue: sc.continue };
    }
    expect(new Set(seen).size).toBe(COUNT);
    expect(seen).toHaveLength(COUNT);
  });
});
