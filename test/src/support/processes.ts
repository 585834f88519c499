// Which processes belong to a directory: their command line names it or they run in it. For "stopping
// left nothing behind" checks (Linux /proc).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  cmdline: string;
}

export function processesUnder(dir: string): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // a zombie is already gone, awaiting its parent
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        /* another user's process */
      }
      if (cmdline.includes(dir) || cwd === dir || cwd.startsWith(`${dir}/`)) out.push({ pid, cmdline });
    } catch {
      /* exited while we looked */
    }
  }
  return out;
}
