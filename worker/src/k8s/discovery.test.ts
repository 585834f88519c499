import { describe, expect, it } from 'vitest';
import { matchResource, resourcePath, type ApiResource } from './discovery.js';

const r = (group: string, version: string, resource: string, kind: string, shortNames: string[] = [], preferred = true): ApiResource => ({
  group, version, resource, kind, singular: kind.toLowerCase(), namespaced: true, verbs: [], shortNames, subresources: [], preferred,
});
const all = [
  r('', 'v1', 'pods', 'Pod', ['po']),
  r('apps', 'v1', 'deployments', 'Deployment', ['deploy']),
  r('example.com', 'v1', 'deployments', 'Deployment'),
  r('autoscaling', 'v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', ['hpa']),
  r('autoscaling', 'v1', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', ['hpa'], false),
];

describe('resource resolution', () => {
  it.each([['Pod'], ['pods'], ['pod'], ['po']])('finds pods by %s', (name) => {
    expect(matchResource(all, name)?.resource).toBe('pods');
  });

  it('prefers the Kubernetes group over a CRD with the same kind', () => {
    expect(matchResource(all, 'deploy')?.group).toBe('apps');
    expect(matchResource(all, 'Deployment')?.group).toBe('apps');
  });

  it('honours a group suffix and a pinned apiVersion', () => {
    expect(matchResource(all, 'deployments.example.com')?.group).toBe('example.com');
    expect(matchResource(all, 'hpa')?.version).toBe('v2');
    expect(matchResource(all, 'hpa', 'autoscaling/v1')?.version).toBe('v1');
  });

  it('builds core and group paths', () => {
    expect(resourcePath(all[0]!, 'ns', 'p', 'log')).toBe('/api/v1/namespaces/ns/pods/p/log');
    expect(resourcePath(all[1]!)).toBe('/apis/apps/v1/deployments');
  });
});
