// The gateway's port for npm start: taken before anything else starts, and when it is in use, one line
// that says by what (another kube-mcp-gateway answers its metadata URL) and how to pick another.
import type http from 'node:http';

export class PortInUseError extends Error {}

async function whoServes(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${url}/.well-known/oauth-authorization-server`, { signal: AbortSignal.timeout(1500) });
    const body = (await res.json()) as { issuer?: unknown };
    return typeof body.issuer === 'string' ? body.issuer : undefined;
  } catch {
    return undefined;
  }
}

/** Listens on host:port (0: any free port) and returns the port; explains EADDRINUSE as a PortInUseError. */
export async function listenOrExplain(server: http.Server, port: number, host: string): Promise<number> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' && (err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
    const url = `http://${host}:${port}`;
    const issuer = await whoServes(url);
    const what = issuer ? `another kube-mcp-gateway (issuer ${issuer}; a second npm start?)` : 'another program';
    const verb = (err as NodeJS.ErrnoException).code === 'EACCES' ? 'may not be used' : `is in use by ${what}`;
    throw new PortInUseError(`port ${port} on ${host} ${verb}; stop that, or pick another port: PORT=${port === 8080 ? 8081 : port + 1} npm start`);
  }
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : port;
}
