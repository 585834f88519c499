// One `npm start` per checkout: `<repo>/.dev/instance.json` names the running one (pid and its start time,
// so a reused pid is not mistaken for it, and its MCP URL once it is up). A file left by a run that was
// killed is taken over.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { processStartTime } from '../stack/component.js';

const recordSchema = z.object({ pid: z.number().int(), startTime: z.string(), mcpUrl: z.string().optional() });
export type InstanceRecord = z.infer<typeof recordSchema>;

export class AlreadyRunningError extends Error {
  constructor(readonly running: InstanceRecord) {
    super(
      `npm start is already running in this checkout (pid ${running.pid}${running.mcpUrl ? `, serving ${running.mcpUrl}` : ', still starting'}); ` +
        `use that one, or stop it (Ctrl-C in its terminal, or kill ${running.pid}) and run npm start again`,
    );
    this.name = 'AlreadyRunningError';
  }
}

export interface InstanceClaim {
  /** True when the file was left by a run that did not stop cleanly (its processes may still be there). */
  readonly tookOverStale: boolean;
  setMcpUrl(url: string): void;
  release(): void;
}

function read(file: string): InstanceRecord | undefined {
  try {
    const parsed = recordSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Claims the checkout for this process; throws AlreadyRunningError while another npm start runs. */
export function claimInstance(dir: string, pid = process.pid): InstanceClaim {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'instance.json');
  const mine: InstanceRecord = { pid, startTime: processStartTime(pid) ?? '-' };
  let tookOverStale = false;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(mine), { flag: 'wx' }); // atomic: fails when the file exists
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 3) throw err;
      const other = read(file);
      if (other && other.pid !== pid && processStartTime(other.pid) === other.startTime) throw new AlreadyRunningError(other);
      tookOverStale = true;
      rmSync(file, { force: true });
    }
  }
  return {
    tookOverStale,
    setMcpUrl(url) {
      writeFileSync(file, JSON.stringify({ ...mine, mcpUrl: url }));
    },
    release() {
      if (read(file)?.pid === pid) rmSync(file, { force: true });
    },
  };
}
