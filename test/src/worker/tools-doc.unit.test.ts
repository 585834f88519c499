import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ALL_TOOLS } from '@kmg/worker/tools/index';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../stack/env.js';
import { renderToolsDoc, type ToolEntry } from './tools-doc.js';

const snapshot = JSON.parse(readFileSync(path.join(repoRoot, 'worker/src/testdata/tools-list.json'), 'utf8')) as ToolEntry[];
const judgedPerCall = new Set(ALL_TOOLS.filter((t) => t.destroys).map((t) => t.name));

describe('docs/tools.md', () => {
  it('is generated from the tools/list snapshot and does not drift from it (vitest -u regenerates)', async () => {
    await expect(renderToolsDoc(snapshot, judgedPerCall) + '\n').toMatchFileSnapshot(path.join(repoRoot, 'docs/tools.md'));
  });

  it('documents every tool and every argument of the snapshot', () => {
    const doc = renderToolsDoc(snapshot, judgedPerCall);
    for (const t of snapshot) {
      expect(doc).toContain(`## ${t.name}\n`);
      for (const arg of Object.keys(t.inputSchema.properties ?? {})) expect(doc).toContain(`| \`${arg}\` |`);
    }
  });
});
