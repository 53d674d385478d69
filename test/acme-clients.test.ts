import { execFile, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChallTestSrv, type ChallTestSrv } from '../ca-server/test/helpers/dns-challtestsrv.js';
import { startQuickstart, type RunningQuickstart } from './helpers/quickstart.js';
import { freePort, runWith } from './helpers/tools.js';

/**
 * Real ACME clients from Debian (certbot, lego) against `wardcert-ca quickstart` on loopback, with
 * pebble-challtestsrv as the hospital's DNS: every name under hospital.test resolves to 127.0.0.1.
 */

const run = runWith('certbot', 'lego', 'pebble-challtestsrv', 'openssl');
const TIMEOUT = 120_000;

let work: string;
let dns: ChallTestSrv;
let qs: RunningQuickstart;
let ports: { http01: number; tlsalpn01: number };

function exec(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 100_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

function openssl(args: string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`;
}

const verifyChain = (cert: string) =>
  openssl(['verify', '-CAfile', qs.info.rootCertPath, '-untrusted', join(qs.dir, 'ca/intermediate.crt.pem'), cert]);

function certbot(dir: string, args: string[]) {
  return exec('certbot', [...args, '--server', qs.info.directoryUrl, '--non-interactive', '--config-dir', join(dir, 'config'), '--work-dir', join(dir, 'work'), '--logs-dir', join(dir, 'logs')], {
    REQUESTS_CA_BUNDLE: qs.info.rootCertPath,
  });
}

async function lego(dir: string, args: string[], env: Record<string, string> = {}) {
  const eab = await qs.newEab();
  return exec('lego', ['--server', qs.info.directoryUrl, '--eab', '--kid', eab.kid, '--hmac', eab.hmacKey, '--email', 'pacs-admin@hospital.test', '--accept-tos', '--path', dir, ...args, 'run'], {
    LEGO_CA_CERTIFICATES: qs.info.rootCertPath,
    ...env,
  });
}

describe.skipIf(!run)('real ACME clients against the quickstart CA', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'wardcert-clients-'));
    dns = await startChallTestSrv();
    ports = { http01: await freePort(), tlsalpn01: await freePort() };
    const [port, httpPort] = [await freePort(), await freePort()];
    qs = await startQuickstart(join(work, 'ca'), [
      '--host', '127.0.0.1', '--port', String(port), '--http-port', String(httpPort),
      '--dns-resolver', dns.dnsServer, '--http01-port', String(ports.http01), '--tlsalpn01-port', String(ports.tlsalpn01),
      '--allow-dns', 'hospital.test', '--allow-ip', '127.0.0.0/8',
    ]);
  }, TIMEOUT);

  afterAll(async () => {
    await qs?.stop();
    await dns?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('certbot: http-01 with EAB, then revocation that the CRL and OCSP both show', async () => {
    const dir = join(work, 'certbot');
    const eab = qs.info.eab!;
    const issued = await certbot(dir, [
      'certonly', '--standalone', '--http-01-port', String(ports.http01), '--http-01-address', '127.0.0.1',
      '--eab-kid', eab.kid, '--eab-hmac-key', eab.hmacKey, '-d', 'gw1.hospital.test', '--agree-tos', '--register-unsafely-without-email',
    ]);
    expect(issued.code, issued.out).toBe(0);
    const cert = join(dir, 'config/live/gw1.hospital.test/cert.pem');
    expect(verifyChain(cert)).toContain(': OK');
    const serial = openssl(['x509', '-in', cert, '-noout', '-serial']).trim().replace('serial=', '');

    const revoked = await certbot(dir, ['revoke', '--cert-path', cert, '--reason', 'keycompromise', '--no-delete-after-revoke']);
    expect(revoked.code, revoked.out).toBe(0);
    const crlFile = join(dir, 'intermediate.crl');
    await writeFile(crlFile, Buffer.from(await (await fetch(qs.info.crlUrl)).arrayBuffer()));
    const chainFile = join(dir, 'chain.pem');
    await writeFile(chainFile, await (await fetch(qs.info.crlUrl.replace('/crl/intermediate.crl', '/ca/chain.pem'))).text());
    const crl = openssl(['crl', '-inform', 'DER', '-in', crlFile, '-CAfile', chainFile, '-noout', '-text']);
    expect(crl).toContain('verify OK');
    expect(crl).toContain(`Serial Number: ${serial}`);
    expect(crl).toContain('Key Compromise');
    const ocsp = openssl(['ocsp', '-issuer', join(qs.dir, 'ca/intermediate.crt.pem'), '-cert', cert, '-url', qs.info.ocspUrl, '-CAfile', qs.info.rootCertPath]);
    expect(ocsp).toContain('Response verify OK');
    expect(ocsp).toContain(`${cert}: revoked`);
  }, TIMEOUT);

  it('lego: tls-alpn-01', async () => {
    const dir = join(work, 'lego-alpn');
    const r = await lego(dir, ['--tls', '--tls.port', `127.0.0.1:${ports.tlsalpn01}`, '-d', 'gw2.hospital.test']);
    expect(r.code, r.out).toBe(0);
    expect(verifyChain(join(dir, 'certificates/gw2.hospital.test.crt'))).toContain(': OK');
  }, TIMEOUT);

  it("lego: dns-01, its TXT record set through the mock DNS's API", async () => {
    const dir = join(work, 'lego-dns');
    const script = join(work, 'lego-exec.sh');
    await writeFile(script, [
      '#!/bin/sh',
      '# lego exec provider: $1 present|cleanup, $2 FQDN, $3 TXT value',
      `case "$1" in`,
      `  present) exec curl -fsS -X POST -d "{\\"host\\":\\"$2\\",\\"value\\":\\"$3\\"}" ${dns.managementUrl}/set-txt ;;`,
      `  cleanup) exec curl -fsS -X POST -d "{\\"host\\":\\"$2\\"}" ${dns.managementUrl}/clear-txt ;;`,
      'esac',
      '',
    ].join('\n'));
    await chmod(script, 0o755);
    // The mock DNS has no SOA records, so lego's own propagation check is off; the CA still checks.
    const r = await lego(dir, ['--dns', 'exec', '--dns.disable-cp', '--dns.resolvers', dns.dnsServer, '-d', 'gw3.hospital.test'], { EXEC_PATH: script });
    expect(r.code, r.out).toBe(0);
    expect(verifyChain(join(dir, 'certificates/gw3.hospital.test.crt'))).toContain(': OK');
  }, TIMEOUT);

  it('lego: an IP identifier (RFC 8738) with http-01', async () => {
    const dir = join(work, 'lego-ip');
    const r = await lego(dir, ['--http', '--http.port', `127.0.0.1:${ports.http01}`, '-d', '127.0.0.1']);
    expect(r.code, r.out).toBe(0);
    const cert = join(dir, 'certificates/127.0.0.1.crt');
    expect(verifyChain(cert)).toContain(': OK');
    expect(openssl(['x509', '-in', cert, '-noout', '-ext', 'subjectAltName'])).toContain('IP Address:127.0.0.1');
  }, TIMEOUT);

  it('certbot: a name outside policy is refused with rejectedIdentifier and nothing is issued', async () => {
    const dir = join(work, 'certbot-outside');
    const eab = await qs.newEab();
    const r = await certbot(dir, [
      'certonly', '--standalone', '--http-01-port', String(ports.http01), '--http-01-address', '127.0.0.1',
      '--eab-kid', eab.kid, '--eab-hmac-key', eab.hmacKey, '-d', 'pacs.other-hospital.example', '--agree-tos', '--register-unsafely-without-email',
    ]);
    expect(r.code).not.toBe(0);
    // Debian's certbot 2.1 on Python 3.11 reports every ACME error as "can't set attribute" (a josepy
    // bug); the server's answer is in its debug log.
    expect(await readFile(join(dir, 'logs/letsencrypt.log'), 'utf8')).toContain('urn:ietf:params:acme:error:rejectedIdentifier');
    expect(await readdir(join(dir, 'config/live')).catch(() => [])).toEqual([]);
    expect(await readFile(join(dir, 'config/live/pacs.other-hospital.example/cert.pem')).catch(() => undefined)).toBeUndefined();
  }, TIMEOUT);
});
