import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createAcmeApp } from '../../src/acme/app.js';
import type { AcmeContext, AcmePolicy } from '../../src/acme/context.js';
import { acmeUrls } from '../../src/acme/urls.js';
import { initRoot, installIntermediate, requestIntermediate, signIntermediateRequest } from '../../src/ca/ceremony.js';
import { loadIssuingCa } from '../../src/pki/issuing-ca.js';
import { caLayout, rootLayout } from '../../src/pki/layout.js';
import { loadProfiles } from '../../src/pki/profiles.js';
import { openStore, type Store } from '../../src/store/index.js';
import { createResolver } from '../../src/validation/index.js';
import { startValidator } from '../../src/validation/worker.js';
import type { MetricHooks } from '../../src/server/metrics.js';

export const FIXTURE_PASSPHRASE = 'fixture passphrase, long enough';
const PASS = FIXTURE_PASSPHRASE;

export interface AcmeFixture {
  dir: string;
  store: Store;
  directoryUrl: string;
  acme: AcmeContext;
  /** Serves http-01 key authorizations on loopback; the validator is pointed at its port. */
  responder: Map<string, string>;
  revoked: string[];
  close(): Promise<void>;
}

/** A CA made by the real ceremony code, and the real ACME app and validator, on loopback HTTP. */
export async function startAcmeFixture(policy: Partial<AcmePolicy> = {}, hooks?: MetricHooks): Promise<AcmeFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'wardcert-acme-'));
  const rootDir = join(dir, 'root');
  await initRoot({ dir: rootDir, subject: 'CN=Fixture Root', algorithm: 'ecdsa-p256', years: 2, passphrase: PASS, force: false });
  await requestIntermediate({ data: dir, subject: 'CN=Fixture Device CA', algorithm: 'ecdsa-p256', passphrase: PASS, force: false });
  const signed = join(dir, 'int.pem');
  await signIntermediateRequest({
    rootDir, rootPassphrase: PASS, csrPem: await readFile(caLayout(dir).csr, 'utf8'), out: signed, days: 300,
    constraints: { permitDns: ['hospital.test'], permitIp: ['127.0.0.0/8'], excludeDns: [], excludeIp: [] }, force: false,
  });
  await installIntermediate({ data: dir, certPem: await readFile(signed, 'utf8'), rootPem: await readFile(rootLayout(rootDir).cert, 'utf8'), rootSource: 'root', force: false });
  await rm(rootLayout(rootDir).key); // the root goes offline, as it should

  const ca = await loadIssuingCa({ dataDir: dir, passphrase: PASS });
  const store = await openStore({ dataDir: dir });
  const logger = pino({ level: 'silent' });

  const responder = new Map<string, string>();
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const token = req.url?.split('/').pop() ?? '';
    const body = responder.get(token);
    res.writeHead(body ? 200 : 404).end(body ?? 'no');
  };
  // Devices at 127.0.0.1 to 127.0.0.9 all answer http-01 on one port, as a ward of modalities would.
  const challengeServers = [createServer(answer)];
  const acmeServer: Server = createServer();
  await Promise.all([listen(challengeServers[0]!), listen(acmeServer)]);
  const http01Port = (challengeServers[0]!.address() as AddressInfo).port;
  for (let i = 2; i <= 9; i++) {
    const s = createServer(answer);
    await new Promise<void>((resolve) => s.listen(http01Port, `127.0.0.${i}`, resolve));
    challengeServers.push(s);
  }
  const validator = startValidator({
    store,
    logger,
    pollMs: 200,
    ...(hooks ? { onResult: hooks.onValidationResult } : {}),
    validation: { resolver: createResolver(), http01Port, tlsAlpn01Port: 1, timeoutMs: 3000 },
  });
  const revoked: string[] = [];
  const acme: AcmeContext = {
    store,
    ca,
    profiles: await loadProfiles(),
    policy: {
      requireEab: true, allowDns: ['hospital.test'], allowIp: ['127.0.0.0/8'], defaultProfile: 'dicom-node',
      orderLifetimeMs: 3_600_000, ordersPerHour: 1000, nonceTtlMs: 600_000, ...policy,
    },
    urls: acmeUrls(`http://127.0.0.1:${(acmeServer.address() as AddressInfo).port}`),
    httpBase: 'http://127.0.0.1:1',
    logger,
    now: () => new Date(),
    pokeValidator: () => validator.poke(),
    onRevoked: async (serial) => {
      revoked.push(serial);
    },
    ...(hooks ? { counters: hooks.counters, observe: hooks.observe } : {}),
  };
  acmeServer.on('request', createAcmeApp(acme).callback());
  return {
    dir, store, acme, responder, revoked,
    directoryUrl: acme.urls.directory,
    async close() {
      await validator.stop();
      acmeServer.closeAllConnections();
      challengeServers.forEach((s) => s.closeAllConnections());
      await Promise.all([acmeServer, ...challengeServers].map((s) => new Promise((r) => s.close(r))));
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}

/** A device key and CSR as base64url DER, for finalize. */
export async function deviceCsr(names: { type: 'dns' | 'ip'; value: string }[], alg: EcKeyGenParams | RsaHashedKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' }) {
  const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${names[0]!.value}`,
    keys,
    signingAlgorithm: alg.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : alg,
    extensions: [new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: n.type, value: n.value })))],
  });
  return { keys, csr: Buffer.from(csr.rawData).toString('base64url') };
}
