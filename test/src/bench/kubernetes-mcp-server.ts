// containers/kubernetes-mcp-server for the bench: its npm platform package carries the Go binary and runs no
// install script. It is not a project dependency (the lock could not be complete for every platform): the
// bench installs it on demand into its cache dir.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchContext } from './section.js';

export const KMS_VERSION = '0.0.67';

function kmsPackage(): string {
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64' | 'arm64'];
  const platform = { linux: 'linux', darwin: 'darwin', win32: 'windows' }[process.platform as 'linux' | 'darwin' | 'win32'];
  if (!arch || !platform) throw new Error(`no kubernetes-mcp-server build for ${process.platform}/${process.arch}`);
  return `kubernetes-mcp-server-${platform}-${arch}`;
}

/** The binary's path, installed into the bench cache (`npm install --ignore-scripts`) when missing. */
export async function installKms(ctx: BenchContext): Promise<string> {
  const pkg = kmsPackage();
  const dir = ctx.cacheDir('kubernetes-mcp-server', KMS_VERSION);
  const bin = path.join(dir, 'node_modules', pkg, 'bin', `${pkg}${process.platform === 'win32' ? '.exe' : ''}`);
  if (!existsSync(bin)) {
    ctx.report(`installing ${pkg}@${KMS_VERSION} into ${dir} (bench-only, not a project dependency)`);
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'kmg-bench-kms', private: true }));
    await new Promise<void>((resolve, reject) => {
      const npm = spawn('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', `${pkg}@${KMS_VERSION}`], { cwd: dir, stdio: 'ignore' });
      npm.on('error', reject);
      npm.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`npm install ${pkg} exited ${code}`))));
    });
  }
  chmodSync(bin, 0o755);
  return bin;
}
