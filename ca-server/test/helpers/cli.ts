import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/wardcert-ca.js', import.meta.url));

export const ROOT_PASSPHRASE = 'correct horse battery staple root';
export const CA_PASSPHRASE = 'correct horse battery staple issuing';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built wardcert-ca command with the test passphrases in its environment. */
export function runCa(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 30_000): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    WARDCERT_ROOT_PASSPHRASE: ROOT_PASSPHRASE,
    WARDCERT_CA_PASSPHRASE: CA_PASSPHRASE,
    ...env,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: childEnv, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
