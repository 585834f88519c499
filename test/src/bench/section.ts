// What a bench section is. Each file in sections/ default-exports one; run.ts runs them in turn.
import type { StackEnv } from '../stack/env.js';

export interface BenchRow {
  /** What was measured, e.g. "pods_list latency p50 (200 pods, summary vs table)". */
  metric: string;
  ours: number | string;
  /** The comparison point (another server, a direct call, …) when there is one. */
  baseline?: number | string;
  /** Name of the comparison point, e.g. "kubernetes-mcp-server 0.0.67". */
  baselineName?: string;
  unit?: string;
  /** ours / baseline; the runner computes it when both are numbers and it is absent. */
  ratio?: number;
  /** The target in words, e.g. "ratio ≤ 1.0". */
  target?: string;
  /** Whether the target was met. Targets are reported, never asserted. */
  met?: boolean;
}

export interface BenchContext {
  env: StackEnv;
  /** Progress lines (stderr). */
  report(line: string): void;
  /** A cache directory kept across runs (downloads, binaries). */
  cacheDir(...parts: string[]): string;
}

export interface BenchResult {
  rows: BenchRow[];
  /** Versions of what was measured, printed in results.md. */
  versions?: Record<string, string>;
  notes?: string[];
}

export interface BenchSection {
  name: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

/** Percentile of a sample (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
