import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../ca-server/src/store/index.js';
import { startQuickstart, type RunningQuickstart } from './helpers/quickstart.js';
import { freePort } from './helpers/tools.js';

/** `npm run bench` with small numbers against a quickstart on loopback: the JSON line, no timings. */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TIMEOUT = 180_000;

function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile('npm', ['run', '-s', 'bench', '--', ...args], { cwd: ROOT, timeout: TIMEOUT - 10_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe('the bench smoke run', () => {
  let work: string;
  let qs: RunningQuickstart;
  let http01: number;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'wardcert-bench-'));
    http01 = await freePort();
    // EAB stays on: the bench gives every device its own credential through the CA's config.
    qs = await startQuickstart(join(work, 'ca'), ['--host', '127.0.0.1', '--port', String(await freePort()), '--http-port', String(await freePort()), '--http01-port', String(http01)]);
  }, TIMEOUT);

  afterAll(async () => {
    await qs?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('issues every certificate, renews with replaces, storms through renew-now, and prints the summary as its last line', async () => {
    const r = await bench(['--directory', qs.info.directoryUrl, '--ca', qs.info.rootCertPath, '--clients', '4', '--certs', '8', '--http01-port', String(http01),
      '--wardcert-config', qs.info.configPath, '--storm', '6']);
    expect(r.code, r.stderr).toBe(0);
    const last = r.stdout.trim().split('\n').pop()!;
    const summary = JSON.parse(last);
    expect(summary).toMatchObject({ issued: 8, errors: 0, storm: { devices: 6, renewed: 6, failed: 0 } });
    for (const k of ['seconds', 'perSecond', 'p50ms', 'p99ms', 'serverCpuMsPerCert', 'serverRssMb']) expect(typeof summary[k], k).toBe('number');
    expect(summary.p99ms).toBeGreaterThanOrEqual(summary.p50ms);
    // Renewals named the certificates they replace (RFC 9773): 4 devices' second certificates, and
    // every storm renewal.
    expect(r.stderr).toContain('told to renew now');
    const store = await openStore({ dataDir: join(work, 'ca') });
    try {
      expect(Number((await store.knex('certificates').whereNotNull('replaces').count({ n: '*' }))[0]!.n)).toBe(4 + 6);
    } finally {
      await store.close();
    }
    expect(qs.log()).not.toContain('"level":50');
  }, TIMEOUT);

  it('refuses a run without a directory, naming the option', async () => {
    const r = await bench(['--http01-port', String(http01)]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--directory');
  }, TIMEOUT);
});
