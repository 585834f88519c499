import { describe, expect, it } from 'vitest';
import { isMetadataDocumentClientId, isPrivateAddress, metadataDocumentFetcher } from './client-metadata.js';
import { checkRedirectUri, redirectUriMatches } from './redirect-uri.js';

describe('client ID metadata documents', () => {
  it.each([
    ['127.0.0.1', true], ['10.1.2.3', true], ['172.20.0.1', true], ['192.168.1.1', true], ['169.254.169.254', true],
    ['100.64.0.1', true], ['0.0.0.0', true], ['::1', true], ['fd00::1', true], ['fe80::1', true], ['::ffff:127.0.0.1', true],
    ['64:ff9b::a00:1', true], ['64:ff9b::7f00:1', true], ['fec0::1', true], ['2002:a00:1::1', true], ['::7f00:1', true], ['::ffff:7f00:1', true],
    ['2001:0:4136:e378::1', true], ['192.0.2.10', true],
    ['93.184.216.34', false], ['2606:4700::1111', false],
  ])('classifies %s as private=%s', (addr, expected) => {
    expect(isPrivateAddress(addr)).toBe(expected);
  });
  it.each([
    ['https://app.example/oauth/client.json', true],
    ['https://app.example/', false],
    ['http://app.example/client.json', false],
    ['https://u:p@app.example/c.json', false],
    ['mcp_abc', false],
  ])('treats %s as a metadata document client_id: %s', (id, expected) => {
    expect(isMetadataDocumentClientId(id)).toBe(expected);
  });
  it('refuses literal NAT64, site-local and IPv4-compatible addresses before connecting', async () => {
    const fetchDoc = metadataDocumentFetcher({ allowPrivateAddresses: false, timeoutMs: 1000, maxBytes: 5120 });
    for (const host of ['[64:ff9b::7f00:1]', '[64:ff9b::a9fe:a9fe]', '[fec0::1]', '[::7f00:1]', '[::ffff:7f00:1]']) {
      await expect(fetchDoc(`https://${host}/client.json`), host).rejects.toMatchObject({ code: 'invalid_client', description: expect.stringMatching(/private address/) });
    }
  });
  it('refuses to fetch from a loopback address unless configured', async () => {
    const fetchDoc = metadataDocumentFetcher({ allowPrivateAddresses: false, timeoutMs: 1000, maxBytes: 5120 });
    await expect(fetchDoc('https://127.0.0.1:8443/client.json')).rejects.toMatchObject({ code: 'invalid_client', description: expect.stringMatching(/private address/) });
    await expect(fetchDoc('https://localhost:8443/client.json')).rejects.toMatchObject({ code: 'invalid_client', description: expect.stringMatching(/private address/) });
  });
});

describe('redirect URIs', () => {
  it('lets a loopback redirect use any port but nothing else differ', () => {
    expect(redirectUriMatches(['http://127.0.0.1/cb'], 'http://127.0.0.1:5000/cb')).toBe(true);
    expect(redirectUriMatches(['http://127.0.0.1/cb'], 'http://127.0.0.1:5000/other')).toBe(false);
    expect(redirectUriMatches(['https://app.example/cb'], 'https://app.example/cb?x=1')).toBe(false);
    expect(redirectUriMatches(['https://app.example/cb'], 'https://app.example:8443/cb')).toBe(false);
  });
  it.each(['vbscript:x', 'file:///etc/passwd', 'http://10.0.0.1/cb', 'https://app.example/c b'])('refuses %s', (uri) => {
    expect(() => checkRedirectUri(uri)).toThrow();
  });
});
