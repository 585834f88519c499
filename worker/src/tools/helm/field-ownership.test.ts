import { describe, expect, it } from 'vitest';
import { adoptHelmFields, applyRemoval, rollbackRemoval, type ManagedFieldsEntry } from './field-ownership.js';

const helm: ManagedFieldsEntry = {
  manager: 'helm', operation: 'Update', apiVersion: 'apps/v1',
  fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:name': {}, 'f:image': {}, 'f:env': { 'k:{"name":"DEBUG"}': { '.': {}, 'f:name': {}, 'f:value': {} } } }, 'k:{"name":"sidecar"}': { '.': {}, 'f:name': {}, 'f:image': {} } } } }, 'f:replicas': {} } },
};
const hpa: ManagedFieldsEntry = { manager: 'hpa', operation: 'Update', apiVersion: 'apps/v1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } };
const applied: ManagedFieldsEntry = { manager: 'kube-mcp/alice', operation: 'Apply', apiVersion: 'apps/v1', fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:name': {}, 'f:image': {} } } } } } } };

describe('rollback field ownership', () => {
  it('removes what helm set and the target does not (a sidecar, an env var), keeps what another manager owns (replicas)', () => {
    const removal = rollbackRemoval([helm, hpa], [applied], 'kube-mcp/alice');
    const live = { spec: { replicas: 5, template: { spec: { containers: [{ name: 'app', image: 'a:1', env: [{ name: 'DEBUG', value: '1' }] }, { name: 'sidecar', image: 's:1' }] } } } };
    expect(applyRemoval(live, removal)).toEqual({ spec: { replicas: 5, template: { spec: { containers: [{ name: 'app', image: 'a:1' }] } } } });
  });

  it("counts a Secret's stringData as setting data", () => {
    const secretHelm: ManagedFieldsEntry = { manager: 'helm', operation: 'Update', apiVersion: 'v1', fieldsV1: { 'f:data': { '.': {}, 'f:pw': {}, 'f:old': {} } } };
    const secretApplied: ManagedFieldsEntry = { manager: 'm', operation: 'Apply', apiVersion: 'v1', fieldsV1: { 'f:stringData': { 'f:pw': {} } } };
    expect(rollbackRemoval([secretHelm], [secretApplied], 'm')).toEqual({ 'f:data': { 'f:old': true } });
  });

  it("folds helm's entries into the applier's Apply entry, and adopts nothing where helm owns nothing", () => {
    const adopted = adoptHelmFields([helm, hpa], 'kube-mcp/alice', 'apps/v1')!;
    expect(adopted.map((e) => `${e.manager}:${e.operation}`)).toEqual(['hpa:Update', 'kube-mcp/alice:Apply']);
    expect(adopted[1]!.fieldsV1).toEqual(helm.fieldsV1);
    expect(adoptHelmFields([hpa], 'kube-mcp/alice', 'apps/v1')).toBeUndefined();
  });
});
