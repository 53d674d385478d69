import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { AgentConfig } from './config/schema.js';
import { ensureAccount, loadOrCreateAccountKey } from './acme/account.js';
import { ariCertId } from './acme/cert-id.js';
import { AcmeError } from './acme/errors.js';
import { obtainCertificate, type ChallengeSolver } from './acme/flows.js';
import { http01Solver } from './acme/http01-solver.js';
import { tlsAlpn01Solver } from './acme/tls-alpn01-solver.js';
import { AcmeTransport } from './acme/transport.js';
import { keyFromPem, keyToPem, makeCsr, newDeviceKey } from './keystore/device-key.js';
import { splitPem } from './keystore/pem.js';
import { stateLayout, type CertificatePair } from './keystore/state.js';
import { readFile } from 'node:fs/promises';

/** The transport to the CA, trusting only the hospital root when one is configured. */
export async function connect(config: AgentConfig): Promise<AcmeTransport> {
  const trust = config.server.trust ? await readFile(config.server.trust, 'utf8') : undefined;
  const key = await loadOrCreateAccountKey(stateLayout(config.state).accountKey);
  const transport = new AcmeTransport({ directoryUrl: config.server.directory, key, ...(trust ? { trust } : {}) });
  await ensureAccount(transport, { accountFile: stateLayout(config.state).account, eab: config.account.eab, contact: config.account.contact });
  return transport;
}

export function solversFor(config: AgentConfig): ChallengeSolver[] {
  const solvers: ChallengeSolver[] = [];
  if (config.challenge.http01) solvers.push(http01Solver({ host: config.challenge.http01.listen.host, port: config.challenge.http01.listen.port }));
  if (config.challenge.tlsalpn01) solvers.push(tlsAlpn01Solver({ host: config.challenge.tlsalpn01.listen.host, port: config.challenge.tlsalpn01.listen.port }));
  return solvers;
}

/**
 * One certificate from the CA: a key made here (or the current one kept, where configured), a CSR
 * for exactly the configured identifiers, the order with `replaces` pointing at the current
 * certificate (RFC 9773), and the chain that comes back.
 */
export async function obtainPair(t: AcmeTransport, config: AgentConfig, current: CertificatePair | undefined): Promise<CertificatePair> {
  const key = config.certificate.reuseKey && current ? keyFromPem(current.key) : await newDeviceKey(config.certificate.key);
  const csr = await makeCsr(key, config.certificate.identifiers);
  const dir = await t.directory();
  const profile = config.certificate.profile && dir.meta?.profiles && config.certificate.profile in dir.meta.profiles ? config.certificate.profile : undefined;
  const replaces = current && dir.renewalInfo ? ariCertId(leafOf(current)) : undefined;
  const order = (withReplaces: boolean) =>
    obtainCertificate(t, {
      identifiers: config.certificate.identifiers,
      csr,
      solvers: solversFor(config),
      ...(profile ? { profile } : {}),
      ...(replaces && withReplaces ? { replaces } : {}),
    });
  try {
    return { chain: await order(true), key: keyToPem(key) };
  } catch (err) {
    // After a rollback the current certificate already has a replacement on record (RFC 9773 s5);
    // the order goes ahead without naming it.
    if (!(replaces && err instanceof AcmeError && err.is('alreadyReplaced'))) throw err;
    return { chain: await order(false), key: keyToPem(key) };
  }
}

export function leafOf(pair: CertificatePair): x509.X509Certificate {
  const [leaf] = splitPem(pair.chain);
  if (!leaf) throw new Error('no certificate in the chain');
  return new x509.X509Certificate(leaf);
}
