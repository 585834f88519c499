// Loaded into a gateway process with `node --import` (scenario 5): TLS connections to one port go to another port
// on 127.0.0.1 instead, a proxy the scenario can cut and restore, so Keycloak stops for that process alone while
// the shared Keycloak stays up for everyone else. Certificate checks are unchanged (same server name).
// KMG_CHAOS_TLS_REDIRECT="<from port>:<to port>".
import net from 'node:net';
import tls from 'node:tls';

const spec = process.env.KMG_CHAOS_TLS_REDIRECT;
if (spec) {
  const [from, to] = spec.split(':').map(Number);
  const connect = tls.connect;
  // undici (openid-client, the exchange, JWKS) calls tls.connect with one options object.
  (tls as { connect: typeof tls.connect }).connect = function redirected(this: unknown, ...args: unknown[]) {
    const o = args[0] as tls.ConnectionOptions | undefined;
    if (o && typeof o === 'object' && Number(o.port) === from) {
      const servername = o.servername ?? (o.host && !net.isIP(o.host) ? o.host : undefined);
      args[0] = { ...o, port: to, host: '127.0.0.1', ...(servername ? { servername } : {}) };
    }
    return (connect as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
  } as typeof tls.connect;
}
