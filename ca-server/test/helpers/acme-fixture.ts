import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createAcmeApp } from '../../src/acme/app.js';
import type { AcmeContext, AcmePolicy } from '../../src/acme/context.js';
import { acmeUrls } from '../../src/acme/urls.js';
import { createAuditRecorder } from '../../src/audit/recorder.js';
import { loadIssuingCa } from '../../src/pki/issuing-ca.js';
import { loadProfiles } from '../../src/pki/profiles.js';
import { openStore, type Store } from '../../src/store/index.js';
import { createResolver } from '../../src/validation/index.js';
import { startValidator } from '../../src/validation/worker.js';
import type { MetricHooks } from '../../src/server/metrics.js';
import { FIXTURE_PASSPHRASE, makeCaDataDir } from './ca-dir.js';

export { FIXTURE_PASSPHRASE };

export interface AcmeFixture {
  dir: string;
  store: Store;
  directoryUrl: string;
  acme: AcmeContext;
  /** Serves http-01 key authorizations on loopback; the validator is pointed at its port. */
  responder: Map<string, string>;
  revoked: string[];
  /** The port every device answers http-01 on. */
  http01Port: number;
  storeUrl?: string;
  /** Where this instance listens; a sibling hands out its first instance's URLs, as behind a balancer. */
  origin: string;
  close(): Promise<void>;
}

/** Where a fixture keeps its state: its own SQLite file, or a database shared with other instances. */
export interface FixtureInstance {
  /** A store URL (PostgreSQL) instead of the SQLite file in the fixture's folder. */
  storeUrl?: string;
  /** A second instance of this one's CA: its CA files, http-01 responder, store URL and ACME URLs. */
  sibling?: AcmeFixture;
}

/** A CA made by the real ceremony code, and the real ACME app and validator, on loopback HTTP. */
export async function startAcmeFixture(
  policy: Partial<AcmePolicy> = {},
  instance: FixtureInstance & Pick<AcmeContext, 'admission'> & { metrics?: MetricHooks } = {},
): Promise<AcmeFixture> {
  const { sibling, admission, metrics } = instance;
  const dir = sibling?.dir ?? (await makeFixtureDir());
  const ca = await loadIssuingCa({ dataDir: dir, passphrase: FIXTURE_PASSPHRASE });
  const storeUrl = instance.storeUrl ?? sibling?.storeUrl;
  const store = await openStore({ dataDir: dir, ...(storeUrl ? { url: storeUrl } : {}) });
  const logger = pino({ level: 'silent' });
  const audit = createAuditRecorder({ store, checkpoints: { ca, every: 1000 } });

  const responder = sibling?.responder ?? new Map<string, string>();
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const token = req.url?.split('/').pop() ?? '';
    const body = responder.get(token);
    res.writeHead(body ? 200 : 404).end(body ?? 'no');
  };
  // Devices at 127.0.0.1 to 127.0.0.9 all answer http-01 on one port, as a ward of modalities would.
  const challengeServers = sibling ? [] : [createServer(answer)];
  const acmeServer: Server = createServer();
  await Promise.all([...challengeServers, acmeServer].map(listen));
  const http01Port = sibling?.http01Port ?? (challengeServers[0]!.address() as AddressInfo).port;
  for (let i = 2; i <= 9 && !sibling; i++) {
    const s = createServer(answer);
    await new Promise<void>((resolve) => s.listen(http01Port, `127.0.0.${i}`, resolve));
    challengeServers.push(s);
  }
  const origin = `http://127.0.0.1:${(acmeServer.address() as AddressInfo).port}`;
  const validator = startValidator({
    store,
    logger,
    audit,
    pollMs: 200,
    ...(metrics ? { onResult: metrics.onValidationResult } : {}),
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
    urls: sibling?.acme.urls ?? acmeUrls(origin),
    httpBase: 'http://127.0.0.1:1',
    logger,
    audit,
    now: () => new Date(),
    pokeValidator: () => validator.poke(),
    onRevoked: async (serial) => {
      revoked.push(serial);
    },
    ...(admission ? { admission } : {}),
    ...(metrics ? { counters: metrics.counters, observe: metrics.observe } : {}),
  };
  acmeServer.on('request', createAcmeApp(acme).callback());
  return {
    dir, store, acme, responder, revoked, http01Port, origin,
    ...(storeUrl ? { storeUrl } : {}),
    directoryUrl: acme.urls.directory,
    async close() {
      await validator.stop();
      acmeServer.closeAllConnections();
      challengeServers.forEach((s) => s.closeAllConnections());
      await Promise.all([acmeServer, ...challengeServers].map((s) => new Promise((r) => s.close(r))));
      await store.close();
      if (!sibling) await rm(dir, { recursive: true, force: true });
    },
  };
}

async function makeFixtureDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wardcert-acme-'));
  await makeCaDataDir(dir);
  return dir;
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
