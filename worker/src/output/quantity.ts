/** Kubernetes resource quantities: CPU to millicores, memory to bytes (binary and decimal suffixes, exponents). */
const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

export function parseQuantity(q: string | number | undefined): number {
  if (q === undefined) return 0;
  if (typeof q === 'number') return q;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/.exec(q.trim());
  if (!m || !(m[2]! in SUFFIX)) return NaN;
  return Number(m[1]) * SUFFIX[m[2]!]!;
}

export const millicores = (q: string | number | undefined): number => parseQuantity(q) * 1000;
export const bytes = (q: string | number | undefined): number => parseQuantity(q);

export function fmtCpu(m: number): string {
  return Number.isFinite(m) ? `${Math.round(m)}m` : '?';
}

export function fmtMem(b: number): string {
  return Number.isFinite(b) ? `${Math.round(b / 2 ** 20)}Mi` : '?';
}

/** "42%" of a total, or "-" when there is none to compare with. */
export function pct(part: number, total: number): string {
  return total > 0 && Number.isFinite(part) ? `${Math.round((part / total) * 100)}%` : '-';
}
