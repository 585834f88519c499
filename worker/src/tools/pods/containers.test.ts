import { describe, expect, it } from 'vitest';
import { allContainerNames, defaultContainer, DEFAULT_CONTAINER_ANNOTATION } from './containers.js';

const pod = (annotation?: string) => ({
  metadata: { name: 'web', namespace: 'shop', ...(annotation ? { annotations: { [DEFAULT_CONTAINER_ANNOTATION]: annotation } } : {}) },
  spec: { initContainers: [{ name: 'migrate' }], containers: [{ name: 'proxy' }, { name: 'app' }] },
});

describe('the default container', () => {
  it('is the one the kubectl.kubernetes.io/default-container annotation names, and says so', () => {
    const c = defaultContainer(pod('app'));
    expect(c.name).toBe('app');
    expect(c.note).toContain(DEFAULT_CONTAINER_ANNOTATION);
  });

  it('is the first container without the annotation, or when it names no container', () => {
    expect(defaultContainer(pod()).name).toBe('proxy');
    const wrong = defaultContainer(pod('nope'));
    expect(wrong.name).toBe('proxy');
    expect(wrong.note).toContain('names "nope", which is not a container');
  });

  it('needs no note when the pod has one container', () => {
    expect(defaultContainer({ metadata: { name: 'x' }, spec: { containers: [{ name: 'only' }] } })).toEqual({ name: 'only' });
  });

  it('allContainers reads init containers first', () => {
    expect(allContainerNames(pod())).toEqual(['migrate', 'proxy', 'app']);
  });
});
