// Running commands for the compose tooling: output to a log file (and the error's tail on failure),
// progress lines timed from the start of the command like the stack's.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export type Report = (line: string) => void;

export function reporter(stream: NodeJS.WritableStream = process.stderr): Report {
  const t0 = Date.now();
  return (line) => stream.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Appends stdout and stderr here (created when missing). */
  logFile?: string;
  input?: string;
  /** Resolve with the exit code instead of rejecting on a non-zero one. */
  allowFailure?: boolean;
  timeoutMs?: number;
}

export interface RunResult { code: number; stdout: string; stderr: string }

export class CommandError extends Error {
  constructor(readonly command: string, readonly result: RunResult, logFile?: string) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n');
    super(`${command} exited ${result.code}${logFile ? ` (log: ${logFile})` : ''}\n${tail}`);
    this.name = 'CommandError';
  }
}

export function run(command: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const line = [command, ...args].join(' ');
  if (opts.logFile) {
    mkdirSync(path.dirname(opts.logFile), { recursive: true });
    appendFileSync(opts.logFile, `\n=== ${new Date().toISOString()} ${line}\n`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs) : undefined;
    child.stdout.on('data', (d: Buffer) => { stdout += d; if (opts.logFile) appendFileSync(opts.logFile, d); });
    child.stderr.on('data', (d: Buffer) => { stderr += d; if (opts.logFile) appendFileSync(opts.logFile, d); });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const result = { code: code ?? (signal ? 128 : 1), stdout, stderr };
      if (result.code !== 0 && !opts.allowFailure) reject(new CommandError(line, result, opts.logFile));
      else resolve(result);
    });
    // A command that exits without reading its input (EPIPE) is judged by its exit code, not by this write.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
