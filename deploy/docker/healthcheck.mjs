// Container HEALTHCHECK: liveness of whichever process runs here (gateway or worker), on PORT.
// Node's fetch, because the slim image has no curl.
const port = process.env.HEALTHCHECK_PORT ?? process.env.PORT ?? '8080';
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2500) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
