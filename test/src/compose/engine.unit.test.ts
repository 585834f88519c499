import { describe, expect, it } from 'vitest';
import { chooseDockerCli } from './engine.js';
import { run } from './run.js';

describe('the docker CLI the image builds use', () => {
  it('is the PATH docker when it has buildx', () => {
    expect(chooseDockerCli({ buildx: true, debianCli: true })).toEqual({ choice: 'docker', final: true });
  });

  it("is Debian's /usr/bin/docker when the PATH docker has no buildx (its BuildKit client needs none)", () => {
    expect(chooseDockerCli({ buildx: false, debianCli: true })).toEqual({ choice: '/usr/bin/docker', final: true });
  });

  it("is not settled before docker.io is installed, so a fresh machine's first build does not use a CLI that cannot build", () => {
    expect(chooseDockerCli({ buildx: false, debianCli: false })).toEqual({ choice: 'docker', final: false });
  });
});

describe('running a command', () => {
  it('judges a command that exits without reading its input by its exit code, not by a broken pipe', async () => {
    const input = 'x'.repeat(4 * 1024 * 1024);
    await expect(run('sh', ['-c', 'exit 0'], { input })).resolves.toMatchObject({ code: 0 });
    await expect(run('sh', ['-c', 'exit 3'], { input, allowFailure: true })).resolves.toMatchObject({ code: 3 });
  });
});
