import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Runs the openssl command line; returns stdout and stderr together so tests can read either. */
export function openssl(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { ok: boolean; output: string } {
  const r = spawnSync('openssl', args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  return { ok: r.status === 0, output: `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}` };
}

/** A device key and CSR made by OpenSSL, the way a modality vendor's tooling would. */
export function makeCsr(
  dir: string,
  name: string,
  opts: { key: string[]; subject: string; san?: string; digest?: string },
): string {
  const csr = join(dir, `${name}.csr`);
  const args = ['req', '-new', ...opts.key, '-nodes', '-keyout', join(dir, `${name}.key`), '-subj', opts.subject, '-out', csr];
  if (opts.san) args.push('-addext', `subjectAltName=${opts.san}`);
  if (opts.digest) args.push(`-${opts.digest}`);
  const result = openssl(args);
  if (!result.ok) throw new Error(`openssl req failed: ${result.output}`);
  return csr;
}

export const EC_P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
