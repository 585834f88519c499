import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { currentReference, generatedReferences, REFERENCE_FILE, referenceRows } from './config-reference.js';

describe('configuration reference in docs/configuration.md', () => {
  it('matches the gateway and worker zod schemas (regenerate with config-reference.js --write)', async () => {
    const doc = readFileSync(REFERENCE_FILE, 'utf8');
    const generated = await generatedReferences();
    for (const [name, table] of Object.entries(generated)) {
      expect(currentReference(doc, name), `docs/configuration.md ${name} reference`).toBe(table);
    }
  });

  it('lists every key with its default, including nested ops settings', async () => {
    const { workerConfigSchema } = await import('@kmg/worker/config');
    const rows = referenceRows(workerConfigSchema);
    expect(rows.find((r) => r.key === 'ops.shutdown.timeoutSeconds')).toMatchObject({ type: 'number (0…3600)', default: '30' });
    expect(rows.find((r) => r.key === 'clusters')).toMatchObject({ required: true });
    expect(rows.find((r) => r.key === 'clusters[].identity')?.type).toContain('"impersonation"');
    expect(rows.find((r) => r.key === 'ops.metrics.enabled')).toMatchObject({ type: 'boolean', default: 'true', description: 'Serve Prometheus metrics on /metrics' });
  });
});
