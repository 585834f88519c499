import { describe, expect, it } from 'vitest';
import { ToolRefusal } from '../../k8s/errors.js';
import { checkedSecretJsonPatch, isCoreSecret } from './secret-patch.js';

const refused = (ops: unknown) => () => checkedSecretJsonPatch(ops);

describe('JSON patches for Secrets', () => {
  it('knows the core Secret resource by group and plural, not by the name the caller used', () => {
    expect(isCoreSecret({ group: '', resource: 'secrets' })).toBe(true);
    expect(isCoreSecret({ group: 'example.com', resource: 'secrets' })).toBe(false);
    expect(isCoreSecret({ group: '', resource: 'configmaps' })).toBe(false);
  });

  it.each([
    ['copy from a data key', [{ op: 'copy', from: '/data/password', path: '/metadata/annotations/x' }]],
    ['move from a data key', [{ op: 'move', from: '/data/password', path: '/metadata/labels/x' }]],
    ['copy all of data', [{ op: 'copy', from: '/data', path: '/metadata/annotations' }]],
    ['copy from stringData', [{ op: 'copy', from: '/stringData/token', path: '/metadata/labels/x' }]],
    ['copy an escaped key under data', [{ op: 'copy', from: '/data/pass~1word', path: '/metadata/labels/x' }]],
    ['copy with another spelling of data', [{ op: 'copy', from: '/Data/password', path: '/metadata/labels/x' }]],
    ['copy the whole document', [{ op: 'copy', from: '', path: '/metadata/annotations/x' }]],
    ['copy from "/"', [{ op: 'copy', from: '/', path: '/metadata/annotations/x' }]],
    ['copy from an empty token under data', [{ op: 'copy', from: '/data//x', path: '/metadata/labels/x' }]],
    ['copy from a pointer without a leading slash', [{ op: 'copy', from: 'x/data/password', path: '/metadata/labels/x' }]],
    ['copy from a bad escape', [{ op: 'copy', from: '/data/~2', path: '/metadata/labels/x' }]],
    ['copy all of metadata', [{ op: 'copy', from: '/metadata', path: '/data/x' }]],
    ['copy the annotations', [{ op: 'copy', from: '/metadata/annotations', path: '/metadata/labels' }]],
    ['copy the last-applied annotation', [{ op: 'copy', from: '/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration', path: '/metadata/labels/x' }]],
    ['test a data value (a guessing oracle)', [{ op: 'test', path: '/data/password', value: 'aHVudGVyMg==' }]],
    ['test the whole document', [{ op: 'test', path: '', value: {} }]],
    ['test stringData', [{ op: 'test', path: '/stringData', value: {} }]],
    ['an unknown op', [{ op: 'Copy', from: '/metadata/name', path: '/metadata/labels/x' }]],
    ['a missing path', [{ op: 'add', value: 1 }]],
    ['a refused op after an allowed one', [{ op: 'add', path: '/metadata/labels/a', value: 'b' }, { op: 'copy', from: '/data/password', path: '/metadata/labels/x' }]],
    ['duplicate keys in JSON text (the last one is the one the apiserver reads)', '[{"op":"copy","from":"/metadata/name","path":"/metadata/labels/x","from":"/data/password"}]'],
    ['a JSON text copy', '[{"op":"copy","from":"/data/password","path":"/metadata/annotations/x"}]'],
    ['JSON text that does not parse', '[{"op":"copy",'],
    ['an object instead of an array', { op: 'copy', from: '/data/password', path: '/metadata/labels/x' }],
  ])('refuses %s', (_what, ops) => {
    expect(refused(ops)).toThrow(ToolRefusal);
  });

  it('passes writes and harmless reads, re-serialised as checked', () => {
    const ops = [
      { op: 'add', path: '/data/new', value: 'bmV3' },
      { op: 'replace', path: '/data/password', value: 'eA==' },
      { op: 'remove', path: '/stringData' },
      { op: 'copy', from: '/metadata/name', path: '/metadata/labels/name' },
      { op: 'test', path: '/metadata/labels/team', value: 'a' },
      { op: 'move', from: '/metadata/labels/old', path: '/metadata/labels/new' },
    ];
    expect(JSON.parse(checkedSecretJsonPatch(JSON.stringify(ops)))).toEqual(ops);
    expect(JSON.parse(checkedSecretJsonPatch('[ {"op":"test","path":"/type","value":"Opaque"} ]'))).toEqual([{ op: 'test', path: '/type', value: 'Opaque' }]);
  });
});
