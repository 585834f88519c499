import { AsyncLocalStorage } from 'node:async_hooks';

/** Warning headers (RFC 9111 §5.5 / Kubernetes API warnings) seen during one tool call. */
const current = new AsyncLocalStorage<string[]>();

/** Runs `fn` collecting the apiserver's warnings (Pod Security, deprecations, unknown fields) of every request it makes. */
export async function collectWarnings<T>(fn: () => Promise<T>): Promise<{ value: T; warnings: string[] }> {
  const warnings: string[] = [];
  const value = await current.run(warnings, fn);
  return { value, warnings: [...new Set(warnings)] };
}

/** `299 - "message"` → message (the apiserver always uses code 299 and agent "-"). */
export function parseWarning(value: string): string {
  const m = /^\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/.exec(value.trim());
  return m ? m[1]!.replace(/\\(.)/g, '$1') : value.trim();
}

/** Records the Warning headers of one response (raw headers, so repeated headers stay separate). */
export function recordWarnings(rawHeaders: readonly string[]): void {
  const sink = current.getStore();
  if (!sink) return;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'warning') sink.push(parseWarning(rawHeaders[i + 1]!));
  }
}
