import { describe, expect, it } from 'vitest';
import { evalFieldPath, FieldPathError, fieldText, parseFieldPath } from './field-path.js';

const deploy = {
  metadata: { name: 'web', labels: { app: 'web', 'app.kubernetes.io/name': 'shop' } },
  spec: { template: { spec: { containers: [{ name: 'app', image: 'web:1' }, { name: 'proxy', image: 'envoy:2' }] } } },
};
const at = (expr: string) => fieldText(evalFieldPath(deploy, parseFieldPath(expr)));

describe('fields projection paths', () => {
  it('reads scalars, labels and every item of a list, like kubectl custom-columns', () => {
    expect(at('.metadata.name')).toBe('web');
    expect(at('.metadata.labels.app')).toBe('web');
    expect(at('.spec.template.spec.containers[*].image')).toBe('web:1,envoy:2');
    expect(at('.spec.template.spec.containers[1].name')).toBe('proxy');
    expect(at('.spec.template.spec.containers[-1].image')).toBe('envoy:2');
  });

  it('reads dotted label keys quoted or escaped, and tolerates {} and a missing leading dot', () => {
    expect(at(".metadata.labels['app.kubernetes.io/name']")).toBe('shop');
    expect(at('.metadata.labels.app\\.kubernetes\\.io/name')).toBe('shop');
    expect(at('{.metadata.name}')).toBe('web');
    expect(at('metadata.name')).toBe('web');
  });

  it('shows <none> for a missing field and JSON for an object', () => {
    expect(at('.status.phase')).toBe('<none>');
    expect(at('.spec.template.spec.containers[7].image')).toBe('<none>');
    expect(at('.metadata.labels')).toBe('{"app":"web","app.kubernetes.io/name":"shop"}');
  });

  it('refuses what it cannot read, saying where', () => {
    expect(() => parseFieldPath('.spec.containers[?(@.name=="app")].image')).toThrow(FieldPathError);
    expect(() => parseFieldPath('.spec.containers[0')).toThrow(/unclosed \[/);
    expect(() => parseFieldPath('.spec..name')).toThrow(/empty or invalid name at position 7/);
    expect(() => parseFieldPath('')).toThrow(/empty/);
  });
});
