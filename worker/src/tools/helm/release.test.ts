import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeRelease } from './release.js';

describe('Helm release secrets', () => {
  it('decodes base64(base64(gzip(JSON))) as Helm stores it', () => {
    const release = { name: 'web', namespace: 'team-a', version: 3, info: { status: 'deployed' }, config: { image: 'nginx' } };
    const inner = gzipSync(Buffer.from(JSON.stringify(release))).toString('base64');
    const data = Buffer.from(inner).toString('base64');
    expect(decodeRelease({ metadata: { name: 'sh.helm.release.v1.web.v3' }, data: { release: data } })).toEqual(release);
  });
});
