import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChallTestSrv, type ChallTestSrv } from '../ca-server/test/helpers/dns-challtestsrv.js';
import { runAgent, startAgentDaemon } from './helpers/agent-cli.js';
import { CA_BIN, startQuickstart, type RunningQuickstart } from './helpers/quickstart.js';
import { freePort, runWith } from './helpers/tools.js';

/** wardcert-agent against the Wardcert quickstart CA and against Pebble, on loopback. */

const TIMEOUT = 120_000;

const readFileSyncText = (path: string) => readFileSync(path, 'utf8');

function openssl(args: string[]): Promise<string> {
  return new Promise((resolve) => execFile('openssl', args, (_e, stdout, stderr) => resolve(`${stdout}${stderr}`)));
}

async function serialOf(file: string): Promise<string> {
  return (await openssl(['x509', '-in', file, '-noout', '-serial'])).trim().replace('serial=', '').toLowerCase();
}

describe.skipIf(!runWith('pebble-challtestsrv', 'openssl'))('the agent against the Wardcert CA', () => {
  let work: string;
  let dns: ChallTestSrv;
  let qs: RunningQuickstart;
  let qsArgs: string[];
  let config: string;
  let out: string;
  let tlsAlpn01: number;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'wardcert-agent-'));
    dns = await startChallTestSrv();
    const http01 = await freePort();
    tlsAlpn01 = await freePort();
    qsArgs = ['--host', '127.0.0.1', '--port', String(await freePort()), '--http-port', String(await freePort()), '--dns-resolver', dns.dnsServer,
      '--http01-port', String(http01), '--tlsalpn01-port', String(tlsAlpn01)];
    qs = await startQuickstart(join(work, 'ca'), qsArgs);
    out = join(work, 'out');
    config = join(work, 'agent.yaml');
    await writeFile(join(work, 'p12.pass'), 'a password for java keystores\n', { mode: 0o600 });
    await writeFile(config, stringify({
      server: { directory: qs.info.directoryUrl, trust: qs.info.rootCertPath },
      account: { eab: qs.info.eab, contact: ['mailto:pacs-admin@hospital.test'] },
      state: join(work, 'state'),
      certificate: { identifiers: ['gw1.radiology.hospital.test', '127.0.0.1'], profile: 'dicom-node', key: 'ecdsa-p256' },
      challenge: { http01: { listen: `127.0.0.1:${http01}` } },
      output: { dir: out, p12: { passwordFile: join(work, 'p12.pass') } },
      hooks: [{ command: `echo "$WARDCERT_SERIAL" >> ${join(work, 'hook.log')}` }],
    }));
  }, TIMEOUT);

  afterAll(async () => {
    await qs?.stop();
    await dns?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('renew: enrols with EAB, writes the files the device reads, runs the hook', async () => {
    const r = await runAgent(['renew', '--config', config]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ renewed: true });
    for (const f of ['cert.pem', 'key.pem', 'chain.pem', 'fullchain.pem', 'trust.pem']) expect((await stat(join(out, f))).size).toBeGreaterThan(0);
    expect((await stat(join(out, 'key.pem'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(work, 'state/account.key.pem'))).mode & 0o777).toBe(0o600);
    expect(await openssl(['verify', '-CAfile', join(out, 'trust.pem'), '-untrusted', join(out, 'chain.pem'), join(out, 'cert.pem')])).toContain(': OK');
    const text = await openssl(['x509', '-in', join(out, 'cert.pem'), '-noout', '-text']);
    expect(text).toContain('DNS:gw1.radiology.hospital.test, IP Address:127.0.0.1');
    expect(text).toContain('TLS Web Server Authentication, TLS Web Client Authentication');
    expect((await readFile(join(work, 'hook.log'), 'utf8')).trim()).toBe(await serialOf(join(out, 'cert.pem')));
  }, TIMEOUT);

  it('writes a PKCS#12 bundle that OpenSSL opens with the configured password', async () => {
    expect((await stat(join(out, 'bundle.p12'))).mode & 0o777).toBe(0o600);
    const info = await openssl(['pkcs12', '-in', join(out, 'bundle.p12'), '-passin', `file:${join(work, 'p12.pass')}`, '-info', '-nodes']);
    expect(info).toContain('MAC: sha256');
    expect(info).toContain('Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC');
    expect(info).toContain('friendlyName: wardcert');
    expect(info).toContain('BEGIN PRIVATE KEY');
    expect(info).toContain('subject=CN = gw1.radiology.hospital.test');
    expect(await openssl(['pkcs12', '-in', join(out, 'bundle.p12'), '-passin', 'pass:wrong password', '-noout'])).toMatch(/mac verify (failure|error)/i);
  }, TIMEOUT);

  it('never loops: a certificate just obtained is not renewed again unless forced', async () => {
    const before = await serialOf(join(out, 'cert.pem'));
    const again = await runAgent(['renew', '--config', config]);
    expect(JSON.parse(again.stdout)).toMatchObject({ renewed: false, serial: before });
    const forced = await runAgent(['renew', '--config', config, '--force']);
    expect(JSON.parse(forced.stdout)).toMatchObject({ renewed: true });
    expect(await serialOf(join(out, 'cert.pem'))).not.toBe(before);
    expect(await serialOf(join(work, 'state/previous/fullchain.pem'))).toBe(before); // kept for rollback
    const archive = await readdir(join(work, 'state/archive')); // and no certificate is ever deleted
    expect(archive).toEqual(expect.arrayContaining([`${before}.pem`, `${await serialOf(join(out, 'cert.pem'))}.pem`]));
  }, TIMEOUT);

  it('status --json prints the agreed fields', async () => {
    const r = await runAgent(['status', '--config', config, '--json']);
    const s = JSON.parse(r.stdout);
    expect(Object.keys(s)).toEqual(expect.arrayContaining(['certificate', 'nextRenewal', 'listeners', 'lastError']));
    expect(s.certificate).toMatchObject({ serial: await serialOf(join(out, 'cert.pem')), identifiers: ['gw1.radiology.hospital.test', '127.0.0.1'] });
    expect(s.lastError).toBeNull();
    expect(s.agentVersion).toBe(JSON.parse(readFileSyncText(fileURLToPath(new URL('../agent/package.json', import.meta.url)))).version);
  }, TIMEOUT);

  it('renew asks a running daemon through its control socket', async () => {
    const daemon = startAgentDaemon(config);
    try {
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        if ((await stat(join(work, 'state/agent.sock')).catch(() => undefined)) !== undefined) break;
        await sleep(100);
      }
      const before = await serialOf(join(out, 'cert.pem'));
      const r = await runAgent(['renew', '--config', config, '--force']);
      expect(JSON.parse(r.stdout)).toMatchObject({ renewed: true });
      expect(daemon.out()).toContain('"event":"renewed"'); // the daemon did it, not the command
      expect(await serialOf(join(out, 'cert.pem'))).not.toBe(before);
      const live = JSON.parse((await runAgent(['status', '--config', config, '--json'])).stdout);
      expect(live.nextRenewal).not.toBeNull();
      // The daemon asks for the ARI window again as the CA's Retry-After says (a 24th of the 72 h
      // lifetime here), long before the renewal moment it drew inside the window.
      const schedule = daemon.out().split('\n').filter((l) => l.includes('"event":"schedule"')).map((l) => JSON.parse(l) as { time: number; nextRenewal: string; ariRecheck: string });
      expect(schedule.length).toBeGreaterThan(0);
      const last = schedule.at(-1)!;
      expect(Date.parse(last.ariRecheck) - last.time).toBeGreaterThan(2.9 * 3_600_000);
      expect(Date.parse(last.ariRecheck) - last.time).toBeLessThan(3.1 * 3_600_000);
      expect(Date.parse(last.nextRenewal)).toBeGreaterThan(Date.parse(last.ariRecheck));
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  }, TIMEOUT);

  it('renews a young certificate when the CA pulls its window into the past (renew-now), once in a row', async () => {
    const renewNow = (serial: string) =>
      new Promise<void>((resolve, reject) =>
        execFile(process.execPath, [CA_BIN, 'renew-now', '--serial', serial, '--data', qs.dir], (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve())),
      );
    const first = await serialOf(join(out, 'cert.pem'));
    const idle = await runAgent(['renew', '--config', config]);
    expect(JSON.parse(idle.stdout)).toMatchObject({ renewed: false, serial: first, reason: 'just obtained' });
    await renewNow(first);
    const asked = await runAgent(['renew', '--config', config]);
    expect(JSON.parse(asked.stdout)).toMatchObject({ renewed: true });
    expect(asked.stderr).toContain('"event":"renewal.early"');
    const second = await serialOf(join(out, 'cert.pem'));
    expect(second).not.toBe(first);
    // The loop guard: a certificate obtained early is not renewed early again by the same agent.
    const { createAgent, loadAgentConfig } = await import('../agent/src/index.js');
    const pino = (await import('pino')).default;
    const agent = createAgent(await loadAgentConfig(config), pino({ level: 'silent' }));
    await agent.load();
    await renewNow(second);
    const third = await agent.ensureCertificate();
    expect(third).toMatchObject({ renewed: true });
    await renewNow(third.serial);
    expect(await agent.ensureCertificate()).toMatchObject({ renewed: false, serial: third.serial, reason: 'just obtained' });
    await agent.stop();
  }, 2 * TIMEOUT); // several renewals in a row: slow on a loaded machine

  it('keeps its certificate while the CA is down, and renews once it is back', async () => {
    const before = await readFile(join(out, 'cert.pem'), 'utf8');
    await qs.stop();
    const down = await runAgent(['renew', '--config', config, '--force'], 60_000);
    expect(down.code).toBe(1);
    expect(await readFile(join(out, 'cert.pem'), 'utf8')).toBe(before);
    const status = JSON.parse((await runAgent(['status', '--config', config, '--json'])).stdout);
    expect(status.lastError).not.toBeNull();
    qs = await startQuickstart(join(work, 'ca'), qsArgs);
    const back = await runAgent(['renew', '--config', config, '--force']);
    expect(JSON.parse(back.stdout)).toMatchObject({ renewed: true });
  }, TIMEOUT);

  it('answers tls-alpn-01 itself, for a name and for an IP address (RFC 8737, RFC 8738)', async () => {
    const eab = await qs.newEab();
    const alpn = join(work, 'alpn.yaml');
    await writeFile(alpn, stringify({
      server: { directory: qs.info.directoryUrl, trust: qs.info.rootCertPath },
      account: { eab },
      state: join(work, 'state-alpn'),
      certificate: { identifiers: ['gw2.radiology.hospital.test', '127.0.0.1'], profile: 'hl7-endpoint' },
      challenge: { tlsalpn01: { listen: `127.0.0.1:${tlsAlpn01}` } },
      output: { dir: join(work, 'out-alpn') },
    }));
    const r = await runAgent(['renew', '--config', alpn]);
    expect(r.code, r.stderr).toBe(0);
    expect(await openssl(['x509', '-in', join(work, 'out-alpn/cert.pem'), '-noout', '-ext', 'subjectAltName'])).toContain('DNS:gw2.radiology.hospital.test, IP Address:127.0.0.1');
  }, TIMEOUT);

  it("embeds as a library: events, and a secure context for a vendor's own TLS server", async () => {
    const { createAgent, loadAgentConfig } = await import('../agent/src/index.js');
    const pino = (await import('pino')).default;
    const agent = createAgent(await loadAgentConfig(config), pino({ level: 'silent' }));
    const seen: string[] = [];
    agent.on('certificate', () => seen.push('certificate'));
    agent.on('renewed', () => seen.push('renewed'));
    await agent.load();
    const outcome = await agent.ensureCertificate({ force: true });
    expect(outcome.renewed).toBe(true);
    expect(seen.slice(-2)).toEqual(['certificate', 'renewed']);
    const tls = await import('node:tls');
    const server = tls.createServer({ SNICallback: (_name, cb) => cb(null, agent.secureContext()) }, (s) => s.end('hello'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const served = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ port, host: '127.0.0.1', servername: 'gw1.radiology.hospital.test', ca: [readFileSyncText(join(out, 'trust.pem'))] }, () => {
          resolve(socket.getPeerCertificate().serialNumber.toLowerCase());
          socket.end();
        });
        socket.on('error', reject);
      });
      expect(served).toBe(outcome.serial);
    } finally {
      server.close();
      await agent.stop();
    }
  }, TIMEOUT);

  it('rolls back to the previous certificate when a listener does not serve the new one', async () => {
    const { createAgent, loadAgentConfig } = await import('../agent/src/index.js');
    const pino = (await import('pino')).default;
    const tls = await import('node:tls');
    const agent = createAgent(await loadAgentConfig(config), pino({ level: 'silent' }));
    await agent.load();
    const before = (await agent.ensureCertificate({ force: true })).serial;
    // A vendor server whose reload is broken: it keeps serving the certificate it started with.
    const started = agent.certificate()!;
    const server = tls.createServer({ key: started.key, cert: started.chain }, (s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const servedSerial = () =>
      new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
          resolve(socket.getPeerCertificate().serialNumber.toLowerCase());
          socket.end();
        });
        socket.on('error', reject);
      });
    agent.manage({
      kind: 'dicom',
      listen: `127.0.0.1:${port}`,
      reload: () => undefined,
      servedSerial: () => null,
      probe: async (expect) => {
        const served = await servedSerial();
        return { ok: served === expect, detail: `serves ${served}` };
      },
      stop: () => new Promise<void>((r) => server.close(() => r())),
    });
    try {
      await expect(agent.ensureCertificate({ force: true })).rejects.toThrow(/rolled back to the previous certificate/);
      expect(await serialOf(join(out, 'cert.pem'))).toBe(before);
      // The certificate in use now already has a replacement on record; the next order must not name it.
      await expect(agent.ensureCertificate({ force: true })).rejects.toThrow(/rolled back to the previous certificate/);
      expect(agent.status().listeners[0]).toMatchObject({ kind: 'dicom', ok: true });
      expect(agent.status().lastError).toContain('probes failed');
    } finally {
      await agent.stop();
    }
  }, TIMEOUT);

  it('refuses a config with errors, naming each key', async () => {
    const bad = join(work, 'bad.yaml');
    await writeFile(bad, 'server: { directory: not-a-url }\nstate: s\ncertificate: { identifiers: ["bad name!"] }\nchallenge: {}\noutput: { dir: o }\n');
    const r = await runAgent(['status', '--config', bad]);
    expect(r.code).toBe(1);
    for (const key of ['server.directory', 'certificate.identifiers.0', 'challenge']) expect(r.stderr).toContain(`: ${key}: `);
  });
});

describe.skipIf(!runWith('pebble', 'pebble-challtestsrv', 'openssl'))('the agent against Pebble, a peer RFC 8555 server', () => {
  let work: string;
  let dns: ChallTestSrv;
  let stopPebble: () => Promise<void>;
  let config: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'wardcert-pebble-'));
    dns = await startChallTestSrv();
    // Pebble's own HTTPS certificate, made here: the package ships none.
    await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=pebble',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(work, 'pebble.key'), '-out', join(work, 'pebble.crt')]);
    const [wfe, mgmt, http01] = [await freePort(), await freePort(), await freePort()];
    await writeFile(join(work, 'pebble.json'), JSON.stringify({
      pebble: { listenAddress: `127.0.0.1:${wfe}`, managementListenAddress: `127.0.0.1:${mgmt}`, certificate: join(work, 'pebble.crt'), privateKey: join(work, 'pebble.key'), httpPort: http01, tlsPort: await freePort(), ocspResponderURL: '', externalAccountBindingRequired: false },
    }));
    const { spawn } = await import('node:child_process');
    // PEBBLE_WFE_NONCEREJECT stays at its default: some nonces are refused, and the agent must retry.
    const child = spawn('pebble', ['-config', join(work, 'pebble.json'), '-dnsserver', dns.dnsServer], { env: { ...process.env, PEBBLE_VA_NOSLEEP: '1' }, stdio: 'ignore' });
    stopPebble = async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    };
    for (let i = 0; i < 100; i++) {
      if (await fetch(`http://127.0.0.1:${mgmt}/roots/0`).then((r) => r.ok, () => false)) break;
      await sleep(100);
    }
    config = join(work, 'agent.yaml');
    await writeFile(config, stringify({
      server: { directory: `https://127.0.0.1:${wfe}/dir`, trust: join(work, 'pebble.crt') },
      state: join(work, 'state'),
      certificate: { identifiers: ['gw9.hospital.test'], profile: 'dicom-node' },
      challenge: { http01: { listen: `127.0.0.1:${http01}` } },
      output: { dir: join(work, 'out') },
    }));
  }, TIMEOUT);

  afterAll(async () => {
    await stopPebble?.();
    await dns?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('obtains (as a daemon starting on an empty state directory) and force-renews, without EAB, profiles or ARI', async () => {
    const daemon = startAgentDaemon(config);
    try {
      const deadline = Date.now() + 60_000;
      while (!daemon.out().includes('"event":"renewed"') && Date.now() < deadline) await sleep(200);
      expect(daemon.out()).toContain('"event":"renewed"');
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
    const serial = await serialOf(join(work, 'out/cert.pem'));
    const again = await runAgent(['renew', '--config', config, '--force']);
    expect(JSON.parse(again.stdout)).toMatchObject({ renewed: true });
    expect(await serialOf(join(work, 'out/cert.pem'))).not.toBe(serial);
  }, TIMEOUT);
});
