import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent, startAgentDaemon } from './helpers/agent-cli.js';
import { startAgentCa, writeAgentConfig, type AgentCa } from './helpers/agent-ca.js';
import type { RunningQuickstart } from './helpers/quickstart.js';
import { exec, MLLP, mllpSession, serialOf, storeInOneAssociation, whenServingOtherThan, writeSampleDicom } from './helpers/peers.js';
import { freePort, runWith } from './helpers/tools.js';

/**
 * The agent's TLS fronts on loopback: DCMTK's echoscu and storescu through a dicom front to a
 * plaintext storescp, HL7 over MLLP/TLS through an hl7 front to a plaintext MLLP peer, a forced
 * renewal while connections are open, and mutual TLS.
 */

const TIMEOUT = 120_000;
const ACK = (id: string) => MLLP(`MSH|^~\\&|BACKEND|HOSP|WARDCERT|TEST|20260101120000||ACK^A01^ACK|ACK${id}|P|2.5.1\rMSA|AA|${id}\r`);

/** A plaintext MLLP peer that acknowledges every message by its MSH-10. */
function mllpBackend(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    let buffer = '';
    socket.on('data', (d) => {
      buffer += d.toString('latin1');
      let end: number;
      while ((end = buffer.indexOf('\x1c\x0d')) >= 0) {
        const message = buffer.slice(buffer.indexOf('\x0b') + 1, end);
        buffer = buffer.slice(end + 2);
        socket.write(ACK(message.split('\r')[0]!.split('|')[9] ?? '0'));
      }
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

describe.skipIf(!runWith('pebble-challtestsrv', 'storescp', 'echoscu', 'storescu', 'dump2dcm', 'openssl'))("the agent's TLS fronts", () => {
  let work: string;
  let ca: AgentCa;
  let qs: RunningQuickstart;
  let storescp: ChildProcess;
  let hl7: { server: Server; port: number };
  let daemon: ReturnType<typeof startAgentDaemon>;
  let config: string;
  const ports = { dicom: 0, hl7: 0, mtls: 0 };
  let trust: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'wardcert-fronts-'));
    ca = await startAgentCa(work);
    qs = ca.qs;
    await mkdir(join(work, 'received'));
    const dicomBackend = await freePort();
    storescp = spawn('storescp', ['-od', join(work, 'received'), '-aet', 'ARCHIVE', String(dicomBackend)], { stdio: 'ignore' });
    hl7 = await mllpBackend();
    Object.assign(ports, { dicom: await freePort(), hl7: await freePort(), mtls: await freePort() });
    config = await writeAgentConfig(ca, work, {
      listeners: [
        { kind: 'dicom', listen: `127.0.0.1:${ports.dicom}`, backend: `127.0.0.1:${dicomBackend}` },
        { kind: 'hl7', listen: `127.0.0.1:${ports.hl7}`, backend: `127.0.0.1:${hl7.port}` },
        { kind: 'dicom', listen: `127.0.0.1:${ports.mtls}`, backend: `127.0.0.1:${dicomBackend}`, mtls: { require: true, trust: qs.info.rootCertPath } },
      ],
      probes: { dicom: { callingAE: 'WARDCERT', calledAE: 'ARCHIVE' } },
      report: { interval: '2s' },
    });
    daemon = startAgentDaemon(config);
    const deadline = Date.now() + 90_000;
    while (!daemon.out().includes('"listen":"127.0.0.1:' + ports.mtls) && Date.now() < deadline) await sleep(200);
    if (!daemon.out().includes('"listen":"127.0.0.1:' + ports.mtls)) throw new Error(`the agent's fronts did not start:\n${daemon.out()}`);
    trust = await readFile(join(work, 'out/trust.pem'), 'utf8');
  }, TIMEOUT);

  afterAll(async () => {
    await daemon?.stop();
    storescp?.kill();
    hl7?.server.close();
    await ca?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('lets DCMTK echo and store through the dicom front to a plaintext SCP', async () => {
    const echo = await exec('echoscu', ['+tla', '+cf', join(work, 'out/trust.pem'), '-aec', 'ARCHIVE', '127.0.0.1', String(ports.dicom)]);
    expect(echo.code, echo.out).toBe(0);
    await writeSampleDicom(join(work, 'sc.dump'), join(work, 'sc.dcm'), '1.2.826.0.1.3680043.10.543.7.1');
    const store = await exec('storescu', ['+tla', '+cf', join(work, 'out/trust.pem'), '-aec', 'ARCHIVE', '127.0.0.1', String(ports.dicom), join(work, 'sc.dcm')]);
    expect(store.code, store.out).toBe(0);
    expect((await readdir(join(work, 'received'))).some((f) => f.includes('1.2.826.0.1.3680043.10.543.7.1'))).toBe(true);
  }, TIMEOUT);

  it('carries HL7 over MLLP/TLS to a plaintext peer and back', async () => {
    const session = await mllpSession(ports.hl7, trust);
    expect(await session.send('MSG001')).toContain('MSA|AA|MSG001');
    session.socket.end();
  }, TIMEOUT);

  it('keeps open sessions through a forced renewal while new ones get the new certificate', async () => {
    const before = await serialOf(join(work, 'out/cert.pem'));
    const session = await mllpSession(ports.hl7, trust);
    expect(session.socket.getPeerCertificate().serialNumber.toLowerCase()).toBe(before);
    const renewed = await runAgent(['renew', '--config', config, '--force']);
    expect(JSON.parse(renewed.stdout)).toMatchObject({ renewed: true });
    const after = await serialOf(join(work, 'out/cert.pem'));
    expect(after).not.toBe(before);
    expect(await session.send('MSG002')).toContain('MSA|AA|MSG002'); // the open session goes on
    const fresh = await mllpSession(ports.hl7, trust);
    expect(fresh.socket.getPeerCertificate().serialNumber.toLowerCase()).toBe(after);
    session.socket.end();
    fresh.socket.end();
    const status = JSON.parse((await runAgent(['status', '--config', config, '--json'])).stdout);
    expect(status.listeners).toHaveLength(3);
    for (const l of status.listeners) expect(l).toMatchObject({ ok: true, servedSerial: after });
  }, TIMEOUT);

  it('keeps a DICOM association open through a forced renewal', async () => {
    // One association, many C-STOREs: storescu takes several seconds, the renewal happens meanwhile.
    const store = storeInOneAssociation(['+tla', '+cf', join(work, 'out/trust.pem'), '-aec', 'ARCHIVE', '127.0.0.1', String(ports.dicom)], join(work, 'sc.dcm'), 300);
    await sleep(500);
    const before = await serialOf(join(work, 'out/cert.pem'));
    const renewal = runAgent(['renew', '--config', config, '--force']);
    const swappedAt = await whenServingOtherThan(ports.dicom, before, () => store.finishedAt() > 0);
    const result = await store.result;
    expect(JSON.parse((await renewal).stdout)).toMatchObject({ renewed: true });
    expect(result.code, result.out).toBe(0);
    expect(swappedAt).toBeGreaterThan(0);
    expect(store.finishedAt()).toBeGreaterThan(swappedAt); // the association was still open when the certificate changed
  }, 2 * TIMEOUT); // several renewals in a row: slow on a loaded machine

  it('reports its status to the CA, signed with its account key, for the dashboard', async () => {
    const { openStore } = await import('../ca-server/src/store/index.js');
    const accountId = (JSON.parse(await readFile(join(work, 'state/account.json'), 'utf8')) as { url: string }).url.split('/').pop()!;
    const store = await openStore({ dataDir: join(work, 'ca') });
    try {
      const serial = await serialOf(join(work, 'out/cert.pem'));
      let report;
      // Reports come every 2 s here; wait for one sent since the last renewal.
      for (let i = 0; i < 50; i++) {
        report = await store.agentReports.byAccount(accountId);
        if ((report?.report as { certificate?: { serial?: string } } | undefined)?.certificate?.serial === serial) break;
        await sleep(200);
      }
      expect(report?.report).toMatchObject({ certificate: { serial } });
      expect((report?.report as { listeners: unknown[] }).listeners).toHaveLength(3);
      expect(report?.deviceId).toBe('demo-device');
    } finally {
      await store.close();
    }
  }, TIMEOUT);

  it('refuses a client without a hospital certificate on the mutual-TLS front, and logs it with the peer', async () => {
    const anonymous = await exec('echoscu', ['+tla', '+cf', join(work, 'out/trust.pem'), '-aec', 'ARCHIVE', '127.0.0.1', String(ports.mtls)]);
    expect(anonymous.code).not.toBe(0);
    const withCert = await exec('echoscu', ['+tls', join(work, 'out/key.pem'), join(work, 'out/cert.pem'), '+cf', join(work, 'out/trust.pem'), '-aec', 'ARCHIVE', '127.0.0.1', String(ports.mtls)]);
    expect(withCert.code, withCert.out).toBe(0);
    await sleep(200);
    expect(daemon.out()).toMatch(/"event":"listener.handshakeFailed".*"peer":"127\.0\.0\.1:\d+"/);
  }, TIMEOUT);

  it('the HL7 probe sends a link check without patient data and accepts only AA or CA', async () => {
    const { probeHl7, defaultProbeMessage } = await import('../agent/src/probes/hl7-ack.js');
    expect(defaultProbeMessage()).toMatch(/^MSH\|\^~\\&\|WARDCERT\|PROBE\|ANY\|ANY\|\d{14}\|\|NMD\^N02\^NMD_N02\|WC[0-9A-F]{12}\|P\|2\.5\.1\rNCK\|\d{14}$/);
    expect(defaultProbeMessage()).not.toContain('PID');
    const trustPem = await readFile(join(work, 'out/trust.pem'), 'utf8');
    const key = await readFile(join(work, 'out/key.pem'), 'utf8');
    const cert = await readFile(join(work, 'out/fullchain.pem'), 'utf8');
    const { createServer: createTlsServer } = await import('node:tls');
    const answering = (code: string) =>
      createTlsServer({ key, cert }, (socket) => {
        socket.on('data', (d) => {
          const id = d.toString('latin1').split('\r')[0]!.split('|')[9];
          socket.write(MLLP(`MSH|^~\\&|ENGINE|HOSP|WARDCERT|PROBE|20260101120000||ACK^N02^ACK|A${id}|P|2.5.1\rMSA|${code}|${id}\r`));
        });
        socket.on('error', () => undefined);
      });
    for (const [code, ok] of [['AA', true], ['AE', false], ['AR', false]] as const) {
      const server = answering(code);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const result = await probeHl7({ host: '127.0.0.1', port: (server.address() as { port: number }).port, trust: trustPem, timeoutMs: 10_000 });
      server.close();
      expect(result, code).toMatchObject({ ok, detail: `ACK ${code}` });
    }
    const silent = createServer((s) => s.on('error', () => undefined));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const timedOut = await probeHl7({ host: '127.0.0.1', port: (silent.address() as { port: number }).port, trust: trustPem, timeoutMs: 1500 });
    silent.close();
    expect(timedOut.ok).toBe(false);
  }, TIMEOUT);

  it('reports a DICOM service that stopped answering behind its front, without blaming the certificate', async () => {
    storescp.kill();
    await new Promise((r) => storescp.once('exit', r));
    const r = await runAgent(['renew', '--config', config, '--force']);
    expect(JSON.parse(r.stdout)).toMatchObject({ renewed: true }); // the certificate is served; no rollback
    const serial = await serialOf(join(work, 'out/cert.pem'));
    const status = JSON.parse((await runAgent(['status', '--config', config, '--json'])).stdout);
    expect(status.certificate.serial).toBe(serial);
    expect(status.lastError).toContain('the service behind does not answer');
    expect(status.listeners.filter((l: { ok: boolean }) => !l.ok).map((l: { kind: string }) => l.kind)).toEqual(['dicom', 'dicom']);
    expect(status.listeners.every((l: { servedSerial: string }) => l.servedSerial === serial)).toBe(true);
  }, TIMEOUT);

  it('refuses TLS 1.1 and CBC suites', async () => {
    const old = await exec('openssl', ['s_client', '-connect', `127.0.0.1:${ports.hl7}`, '-tls1_1', '-brief'], );
    expect(old.out).not.toContain('Protocol version: TLSv1.1');
    const cbc = await exec('openssl', ['s_client', '-connect', `127.0.0.1:${ports.hl7}`, '-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA256', '-brief']);
    expect(cbc.out).toMatch(/handshake failure|no cipher|alert/i);
  }, TIMEOUT);
});
