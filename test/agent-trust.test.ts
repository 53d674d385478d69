import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishedIssuer } from '../agent/src/keystore/published-issuer.js';
import { splitPem } from '../agent/src/keystore/pem.js';
import { runAgent, startAgentDaemon } from './helpers/agent-cli.js';
import { startAgentCa, writeAgentConfig, type AgentCa } from './helpers/agent-ca.js';
import { CA_BIN, startQuickstart } from './helpers/quickstart.js';
import { serialOf } from './helpers/peers.js';
import { runWith } from './helpers/tools.js';

/**
 * trust.pem follows the CA: after an intermediate rotation the agent puts the new issuing CA, as
 * the CA publishes it at the certificate's caIssuers URL, into trust.pem before its own certificate
 * is renewed under it; and it refuses what does not chain to the hospital root.
 */

const TIMEOUT = 120_000;
const norm = (pem: string) => pem.replace(/\s+/g, '');
const holds = (bundle: string, cert: string) => splitPem(bundle).some((c) => norm(c) === norm(cert));

function ca(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [CA_BIN, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => (err ? reject(new Error(`${args.join(' ')}: ${stderr}`)) : resolve(stdout))),
  );
}

describe.skipIf(!runWith('pebble-challtestsrv', 'openssl'))("trust.pem follows the CA's issuing CA", () => {
  let work: string;
  let authority: AgentCa;
  let config: string;
  let out: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'wardcert-trust-'));
    authority = await startAgentCa(work);
    out = join(work, 'out');
    config = await writeAgentConfig(authority, work, {
      report: { interval: '1s' },
      hooks: [{ command: `echo "$WARDCERT_SERIAL" >> ${join(work, 'hook.log')}` }],
    });
    const first = await runAgent(['renew', '--config', config]);
    if (first.code !== 0) throw new Error(first.stderr);
  }, TIMEOUT);

  afterAll(async () => {
    await authority?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('an intermediate rotation reaches trust.pem before the next renewal, and the renewal then drops the old one', async () => {
    const data = join(work, 'ca');
    const oldIssuer = await readFile(join(data, 'ca/intermediate.crt.pem'), 'utf8');
    const serial = await serialOf(join(out, 'cert.pem'));
    expect(holds(await readFile(join(out, 'trust.pem'), 'utf8'), oldIssuer)).toBe(true);

    // The rotation, as hospital IT would do it with the ceremony commands.
    await authority.qs.stop();
    const env = { WARDCERT_CA_PASSPHRASE: (await readFile(join(data, 'ca-passphrase'), 'utf8')).trim(), WARDCERT_ROOT_PASSPHRASE: (await readFile(join(data, 'offline-root/passphrase'), 'utf8')).trim() };
    await ca(['intermediate', 'request', '--data', data, '--subject', 'CN=Wardcert Quickstart Device CA 2,O=Wardcert Demo', '--force'], env);
    await ca(['root', 'sign', '--dir', join(data, 'offline-root'), '--csr', join(data, 'ca/intermediate.csr.pem'), '--out', join(work, 'rotated.pem'),
      '--days', '365', '--permit-dns', 'hospital.test', '--permit-ip', '127.0.0.0/8'], env);
    await ca(['intermediate', 'install', '--data', data, '--cert', join(work, 'rotated.pem'), '--root', authority.qs.info.rootCertPath, '--force'], env);
    authority.qs = await startQuickstart(data, authority.args);
    const newIssuer = await readFile(join(data, 'ca/intermediate.crt.pem'), 'utf8');
    expect(norm(newIssuer)).not.toBe(norm(oldIssuer));

    const daemon = startAgentDaemon(config);
    try {
      const deadline = Date.now() + 30_000;
      while (!daemon.out().includes('"event":"trust.refreshed"') && Date.now() < deadline) await sleep(200);
      expect(daemon.out()).toContain('"event":"trust.refreshed"');
      const trust = await readFile(join(out, 'trust.pem'), 'utf8');
      expect(holds(trust, newIssuer)).toBe(true);
      expect(holds(trust, oldIssuer)).toBe(true); // the device's own certificate still chains to it
      expect(splitPem(trust)).toHaveLength(3);
      expect(await serialOf(join(out, 'cert.pem'))).toBe(serial); // no renewal was needed for it
      expect((await readFile(join(work, 'hook.log'), 'utf8')).trim().split('\n')).toEqual([serial, serial]); // the device was told

      const renewed = await runAgent(['renew', '--config', config, '--force']);
      expect(JSON.parse(renewed.stdout)).toMatchObject({ renewed: true });
      const after = await readFile(join(out, 'trust.pem'), 'utf8');
      expect(holds(after, newIssuer)).toBe(true);
      expect(holds(after, oldIssuer)).toBe(false);
      expect(holds(await readFile(join(out, 'chain.pem'), 'utf8'), newIssuer)).toBe(true);
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  }, TIMEOUT);
});

describe('what the caIssuers URL serves is hostile input', () => {
  let server: Server;
  let body: Buffer = Buffer.alloc(0);
  let url: string;
  let rootPem: string;
  let leaf: x509.X509Certificate;
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = () => crypto.subtle.generateKey(alg, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
  const day = 86_400_000;

  beforeAll(async () => {
    server = createServer((_req, res) => res.end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/ca.crt`;
    const rootKeys = await keys();
    const ca = [new x509.BasicConstraintsExtension(true, 0, true)];
    const root = await x509.X509CertificateGenerator.createSelfSigned({ name: 'CN=Test Root', keys: rootKeys, signingAlgorithm: alg, notBefore: new Date(Date.now() - day), notAfter: new Date(Date.now() + day), extensions: ca });
    rootPem = root.toString('pem');
    const leafKeys = await keys();
    leaf = await x509.X509CertificateGenerator.create({
      subject: 'CN=gw1', issuer: root.subject, publicKey: leafKeys.publicKey, signingKey: rootKeys.privateKey, signingAlgorithm: alg,
      notBefore: new Date(Date.now() - day), notAfter: new Date(Date.now() + day), extensions: [new x509.AuthorityInfoAccessExtension({ caIssuers: [url] })],
    });
    const rogueKeys = await keys();
    const rogue = await x509.X509CertificateGenerator.createSelfSigned({ name: 'CN=Rogue CA', keys: rogueKeys, signingAlgorithm: alg, notBefore: new Date(Date.now() - day), notAfter: new Date(Date.now() + day), extensions: ca });
    Object.assign(samples, { rogue: Buffer.from(rogue.rawData), leafLike: Buffer.from(leaf.rawData), rootSigned: Buffer.from(root.rawData) });
  });
  const samples: Record<string, Buffer> = {};

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('takes a CA certificate signed by the hospital root, DER or PEM', async () => {
    body = samples.rootSigned!;
    expect((await publishedIssuer(leaf, rootPem, 5000))?.subject).toBe('CN=Test Root');
    body = Buffer.from(rootPem);
    expect((await publishedIssuer(leaf, rootPem, 5000))?.subject).toBe('CN=Test Root');
  });

  it('refuses a CA the root did not sign, a certificate that is no CA, garbage and an oversized answer', async () => {
    body = samples.rogue!;
    await expect(publishedIssuer(leaf, rootPem, 5000)).rejects.toThrow(/hospital root did not sign/);
    body = samples.leafLike!;
    await expect(publishedIssuer(leaf, rootPem, 5000)).rejects.toThrow(/not a CA/);
    body = Buffer.from('not a certificate');
    await expect(publishedIssuer(leaf, rootPem, 5000)).rejects.toThrow();
    body = Buffer.alloc(200_000, 0x30);
    await expect(publishedIssuer(leaf, rootPem, 5000)).rejects.toThrow(/exceeds 65536 bytes/);
  });
});
