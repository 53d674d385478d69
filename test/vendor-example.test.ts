import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent, startNodeProgram } from './helpers/agent-cli.js';
import { startAgentCa, writeAgentConfig, type AgentCa } from './helpers/agent-ca.js';
import { exec, mllpSession, serialOf, servedSerialWithoutSni, storeInOneAssociation, whenServingOtherThan, writeSampleDicom } from './helpers/peers.js';
import { freePort, runWith } from './helpers/tools.js';

/**
 * examples/vendor/gateway.js, the vendor example: a dcmjs-dimse SCP and a node-hl7-server over TLS
 * on the agent library's certificate, against the Wardcert quickstart, driven by DCMTK, OpenSSL and
 * node-hl7-client, through a forced renewal and a CA that went down.
 */

const TIMEOUT = 120_000;
const GATEWAY = fileURLToPath(new URL('../examples/vendor/gateway.js', import.meta.url));
const AE = 'VENDOR-SCP';
const SOP_UID = '1.2.826.0.1.3680043.10.543.9.1';

describe.skipIf(!runWith('pebble-challtestsrv', 'echoscu', 'storescu', 'dump2dcm', 'dcmdump', 'openssl'))('the vendor example: a DICOM SCP and an HL7 server on the agent library', () => {
  let work: string;
  let ca: AgentCa;
  let config: string;
  let gateway: ReturnType<typeof startNodeProgram>;
  let root: string;
  const ports = { dicom: 0, hl7: 0 };
  const dcmtk = (port: number) => ['+tla', '+cf', join(work, 'ca-root.pem'), '-aec', AE, '127.0.0.1', String(port)];
  const cert = () => join(work, 'out/cert.pem');

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'wardcert-vendor-'));
    ca = await startAgentCa(work);
    root = await readFile(ca.qs.info.rootCertPath, 'utf8');
    // DCMTK trusts only the hospital root, as a modality configured by hand would.
    await writeFile(join(work, 'ca-root.pem'), root);
    Object.assign(ports, { dicom: await freePort(), hl7: await freePort() });
    config = await writeAgentConfig(ca, work, {}, ['pacs1.radiology.hospital.test', '127.0.0.1']);
    await writeSampleDicom(join(work, 'sc.dump'), join(work, 'sc.dcm'), SOP_UID);
    gateway = startNodeProgram(GATEWAY, ['--config', config, '--dicom', `127.0.0.1:${ports.dicom}`, '--hl7', `127.0.0.1:${ports.hl7}`,
      '--store', join(work, 'received'), '--ae', AE]);
    const deadline = Date.now() + 90_000;
    while (!gateway.out().includes('"event":"gateway.listening"') && gateway.exitCode() === null && Date.now() < deadline) await sleep(200);
    if (!gateway.out().includes('"event":"gateway.listening"')) throw new Error(`the gateway did not come up:\n${gateway.out()}`);
  }, TIMEOUT);

  afterAll(async () => {
    await gateway?.stop();
    await ca?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('answers C-ECHO and stores a C-STORE from DCMTK over TLS, and rejects an AE title it is not', async () => {
    const echo = await exec('echoscu', dcmtk(ports.dicom));
    expect(echo.code, echo.out).toBe(0);
    const store = await exec('storescu', [...dcmtk(ports.dicom), join(work, 'sc.dcm')]);
    expect(store.code, store.out).toBe(0);
    expect(await readdir(join(work, 'received'))).toContain(`${SOP_UID}.dcm`);
    const stored = await exec('dcmdump', ['+P', '0008,0018', join(work, 'received', `${SOP_UID}.dcm`)]);
    expect(stored.out).toContain(SOP_UID);
    const wrongAe = await exec('echoscu', [...dcmtk(ports.dicom).slice(0, 3), '-aec', 'NOT-ME', '127.0.0.1', String(ports.dicom)]);
    expect(wrongAe.code).not.toBe(0);
    expect(wrongAe.out).toMatch(/Called AE Title Not Recognized/i);
  }, TIMEOUT);

  it('acknowledges HL7 over MLLP/TLS with AA, to node-hl7-client and to a plain MLLP/TLS sender', async () => {
    const { probeHl7 } = await import('../agent/src/probes/hl7-ack.js'); // node-hl7-client 3.2, as the agent pins it
    expect(await probeHl7({ host: '127.0.0.1', port: ports.hl7, trust: root, timeoutMs: 10_000 })).toMatchObject({ ok: true, detail: 'ACK AA' });
    // One message per connection (node-hl7-server would answer a second one with the first one's ACK).
    for (const id of ['V001', 'V002']) {
      const session = await mllpSession(ports.hl7, root);
      const closed = new Promise((resolve) => session.socket.once('close', resolve));
      expect(await session.send(id)).toMatch(new RegExp(`^MSH\\|[^\r]*\\|ACK\\^A01[^\r]*\rMSA\\|AA\\|${id}\r?$`));
      await closed;
    }
  }, TIMEOUT);

  it('serves TLS 1.2 and 1.3 with the BSI suites only, on both servers', async () => {
    for (const port of [ports.dicom, ports.hl7]) {
      const old = await exec('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_1', '-brief']);
      expect(old.out).not.toContain('Protocol version: TLSv1.1');
      const cbc = await exec('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA256', '-brief']);
      expect(cbc.out).toMatch(/handshake failure|no cipher|alert/i);
    }
  }, TIMEOUT);

  it('a forced renewal: new connections without SNI get the new serial, an open association and an open MLLP session go on', async () => {
    const before = await serialOf(cert());
    expect(await servedSerialWithoutSni(ports.dicom)).toBe(before);
    const session = await mllpSession(ports.hl7, root);
    const association = storeInOneAssociation(dcmtk(ports.dicom), join(work, 'sc.dcm'), 300);
    await sleep(500);
    // `wardcert-agent renew` reaches the gateway's agent through its control socket.
    const renewal = runAgent(['renew', '--config', config, '--force']);
    const swappedAt = await whenServingOtherThan(ports.dicom, before, () => association.finishedAt() > 0);
    expect(JSON.parse((await renewal).stdout)).toMatchObject({ renewed: true });
    const after = await serialOf(cert());
    expect(after).not.toBe(before);
    const stored = await association.result;
    expect(stored.code, stored.out).toBe(0);
    expect(swappedAt).toBeGreaterThan(0);
    expect(association.finishedAt()).toBeGreaterThan(swappedAt); // the association was open when the certificate changed
    expect(await servedSerialWithoutSni(ports.dicom)).toBe(after);
    expect(await servedSerialWithoutSni(ports.hl7)).toBe(after);
    expect(await session.send('R001')).toMatch(/MSA\|AA\|R001/); // the session opened before goes on
    expect(session.socket.getPeerCertificate().serialNumber.toLowerCase()).toBe(before);
    session.socket.end();
    const echo = await exec('echoscu', dcmtk(ports.dicom));
    expect(echo.code, echo.out).toBe(0);
    expect(gateway.out()).toContain(`"event":"gateway.reloaded","serial":"${after}"`);
  }, TIMEOUT);

  it('refuses a bad flag or config file with one line, before it listens', async () => {
    const badFlag = await exec(process.execPath, [GATEWAY, '--config', config, '--dicom', 'nowhere']);
    expect(badFlag.code).not.toBe(0);
    expect(badFlag.out).toContain('gateway: "nowhere" is not HOST:PORT');
    await writeFile(join(work, 'bad.yaml'), 'server: { directory: not-a-url }\n');
    const badConfig = await exec(process.execPath, [GATEWAY, '--config', join(work, 'bad.yaml')]);
    expect(badConfig.code).not.toBe(0);
    expect(badConfig.out).toMatch(/^gateway: .*bad\.yaml: server\.directory: /);
    expect(badConfig.out).not.toContain('    at ');
  }, TIMEOUT);

  it('with the CA down: reports the error event and keeps serving the current certificate', async () => {
    const serving = await serialOf(cert());
    await ca.qs.stop();
    const failed = await runAgent(['renew', '--config', config, '--force'], 60_000);
    expect(failed.code).not.toBe(0);
    expect(gateway.out()).toContain('"event":"gateway.certificateError"');
    expect(await serialOf(cert())).toBe(serving);
    expect(await servedSerialWithoutSni(ports.dicom)).toBe(serving);
    expect(await servedSerialWithoutSni(ports.hl7)).toBe(serving);
    const echo = await exec('echoscu', dcmtk(ports.dicom));
    expect(echo.code, echo.out).toBe(0);
    const status = JSON.parse((await runAgent(['status', '--config', config, '--json'])).stdout);
    expect(status).toMatchObject({ certificate: { serial: serving } });
    expect(status.lastError).toEqual(expect.any(String));
    expect(gateway.exitCode()).toBeNull();
  }, TIMEOUT);
});
