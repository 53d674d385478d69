import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCa } from '../ca-server/test/helpers/cli.js';
import { CA_BIN } from './helpers/quickstart.js';
import { freePort } from './helpers/tools.js';

/** `wardcert-ca serve` on a PKI made by the ceremony commands, as hospital IT would run it. */

let work: string;
let data: string;
let config: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'wardcert-serve-'));
  data = join(work, 'data');
  const root = join(work, 'offline', 'root');
  for (const args of [
    ['root', 'init', '--dir', root, '--subject', 'CN=Serve Test Root'],
    ['intermediate', 'request', '--data', data, '--subject', 'CN=Serve Test Device CA'],
    ['root', 'sign', '--dir', root, '--csr', join(data, 'ca/intermediate.csr.pem'), '--out', join(work, 'int.pem'), '--permit-dns', 'hospital.test', '--permit-ip', '127.0.0.0/8'],
    ['intermediate', 'install', '--data', data, '--cert', join(work, 'int.pem'), '--root', join(root, 'root.crt.pem')],
  ]) {
    const r = await runCa(args);
    expect(r.code, r.stderr).toBe(0);
  }
  const { CA_PASSPHRASE } = await import('../ca-server/test/helpers/cli.js');
  // The config's folder is searched for the root key too, so it sits apart from the offline root.
  await mkdir(join(work, 'etc'));
  await writeFile(join(work, 'etc/ca.pass'), `${CA_PASSPHRASE}\n`, { mode: 0o600 });
  config = join(work, 'etc/ca.yaml');
  await writeFile(config, [
    'data: ../data',
    'passphraseFile: ca.pass',
    `listen: { host: 127.0.0.1, port: ${await freePort()}, httpPort: ${await freePort()} }`,
    'server: { names: [127.0.0.1] }',
    'acme: { allow: { dns: [hospital.test], ip: [127.0.0.0/8] } }',
    'log: { level: info }',
    '',
  ].join('\n'));
}, 60_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function serve(args: string[]) {
  let out = '';
  const child = spawn(process.execPath, [CA_BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WARDCERT_CA_PASSPHRASE: '' } });
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  return { child, out: () => out, exited };
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { ca, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
}

describe('wardcert-ca serve', () => {
  it('serves ACME over HTTPS with its own certificate, and CA certificates and metrics over HTTP', async () => {
    const [port, httpPort] = [await freePort(), await freePort()];
    const s = serve(['--config', config, '--port', String(port), '--http-port', String(httpPort)]);
    try {
      const deadline = Date.now() + 30_000;
      while (!s.out().includes('ACME directory at') && Date.now() < deadline && s.child.exitCode === null) await sleep(100);
      expect(s.out()).toContain('"event":"ca.loaded"');
      const root = await readFile(join(data, 'ca/root.crt.pem'), 'utf8');
      const dir = await httpsGet(`https://127.0.0.1:${port}/acme/directory`, root);
      expect(dir.status).toBe(200);
      expect(JSON.parse(dir.body).meta.externalAccountRequired).toBe(true);
      const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      expect(metrics).toContain('wardcert_acme_request_duration_seconds_bucket{');
      expect(metrics).toContain('endpoint="directory"');
      expect(await (await fetch(`http://127.0.0.1:${httpPort}/ca/chain.pem`)).text()).toContain('BEGIN CERTIFICATE');
      // The server's own certificate is recorded like every other, under ca-tls.
      expect(await readFile(join(data, 'server/tls.crt.pem'), 'utf8')).toContain('BEGIN CERTIFICATE');
    } finally {
      s.child.kill('SIGTERM');
    }
    expect(await s.exited).toBe(0);
  }, 60_000);

  it('refuses to start where the root key is readable, naming the file', async () => {
    const stray = join(data, 'root.key.pem');
    await copyFile(join(work, 'offline/root/root.key.pem'), stray);
    try {
      const s = serve(['--config', config]);
      expect(await s.exited).toBe(1);
      expect(s.out()).toContain(`readable at ${stray}`);
    } finally {
      await rm(stray);
    }
  }, 30_000);

  it('refuses a config with errors, naming each key', async () => {
    const bad = join(work, 'etc/bad.yaml');
    await writeFile(bad, 'data: ../data\nserver: { names: [] }\nacme: { allow: { ip: [10.0.0.0/99] } }\n');
    const s = serve(['--config', bad]);
    expect(await s.exited).toBe(1);
    expect(s.out()).toContain('server.names');
    expect(s.out()).toContain('acme.allow.ip.0');
  }, 30_000);
});
