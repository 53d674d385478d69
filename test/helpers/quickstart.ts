import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const CA_BIN = fileURLToPath(new URL('../../ca-server/bin/wardcert-ca.js', import.meta.url));

export interface QuickstartInfo {
  directoryUrl: string;
  rootCertPath: string;
  crlUrl: string;
  ocspUrl: string;
  configPath: string;
  eab?: { kid: string; hmacKey: string };
}

export interface RunningQuickstart {
  info: QuickstartInfo;
  dir: string;
  log: () => string;
  newEab(): Promise<{ kid: string; hmacKey: string }>;
  stop(): Promise<void>;
}

/** Runs `wardcert-ca quickstart` as a user would and waits until its directory answers. */
export async function startQuickstart(dir: string, args: string[], timeoutMs = 60_000): Promise<RunningQuickstart> {
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [CA_BIN, 'quickstart', '--data', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(10_000).then(() => child.kill('SIGKILL'))]);
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`quickstart exited early:\n${output}`);
    const info = await readFile(join(dir, 'quickstart.json'), 'utf8').then((t) => JSON.parse(t) as QuickstartInfo, () => undefined);
    if (info && output.includes('quickstart is running')) {
      return {
        info,
        dir,
        log: () => output,
        newEab: () =>
          new Promise((resolve, reject) =>
            execFile(process.execPath, [CA_BIN, 'eab', 'create', '--data', dir, '--json'], (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout)))),
          ),
        stop,
      };
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`quickstart did not come up:\n${output}`);
    }
    await sleep(200);
  }
}
