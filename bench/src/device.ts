import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { exportJWK, generateKeyPair } from 'jose';
import type { Agent } from 'node:http';
import { AcmeError, AcmeTransport, ariCertId, makeCsr, newAccount, newDeviceKey, obtainCertificate, renewalInfo, type ChallengeSolver, type Eab, type Exchange, type Identifier } from '@wardcert/agent';

export interface DeviceOptions {
  directoryUrl: string;
  /** The generator's bounded connection pool for that directory. */
  agent: Agent;
  /** PEM the CA's HTTPS must chain to. */
  trust?: string;
  identifier: Identifier;
  eab?: Eab;
  solver: ChallengeSolver;
  pollMs: number;
  onExchange: (e: Exchange) => void;
}

/**
 * One simulated device: its own account key and account, one identifier, and the ARI identifier
 * of the certificate it holds, which the next order names in `replaces` (RFC 9773).
 */
export class Device {
  /** RFC 9773 certificate identifier of the certificate held; undefined before the first. */
  certId: string | undefined;

  private constructor(
    private readonly t: AcmeTransport,
    private readonly o: DeviceOptions,
  ) {}

  static async enrol(o: DeviceOptions): Promise<Device> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const t = new AcmeTransport({
      directoryUrl: o.directoryUrl,
      key: { privateKey: privateKey as CryptoKey, jwk: await exportJWK(publicKey), alg: 'ES256' },
      onExchange: o.onExchange,
      agent: o.agent,
      // A storm may shed the same request several times; a device keeps trying for minutes.
      patienceMs: 600_000,
      ...(o.trust ? { trust: o.trust } : {}),
    });
    await newAccount(t, { contact: [], ...(o.eab ? { eab: o.eab } : {}) });
    return new Device(t, o);
  }

  /** A new key, a CSR, the whole order; the certificate it replaces is named where the CA has ARI. Returns the PEM chain. */
  async obtain(): Promise<string> {
    const csr = await makeCsr(await newDeviceKey('ecdsa-p256'), [this.o.identifier]);
    const dir = await this.t.directory();
    const order = (replaces: string | undefined) =>
      obtainCertificate(this.t, { identifiers: [this.o.identifier], csr, solvers: [this.o.solver], pollMs: this.o.pollMs, ...(replaces ? { replaces } : {}) });
    const replaces = dir.renewalInfo ? this.certId : undefined;
    let chain: string;
    try {
      chain = await order(replaces);
    } catch (err) {
      // A retried newOrder whose first attempt reached the CA already replaced this certificate.
      if (!(replaces && err instanceof AcmeError && err.is('alreadyReplaced'))) throw err;
      chain = await order(undefined);
    }
    const leaf = new x509.X509Certificate(chain.slice(0, chain.indexOf('-----END CERTIFICATE-----') + 25));
    this.certId = ariCertId(leaf);
    return chain;
  }

  /** Whether the CA's suggested window has opened (RFC 9773); always true where the CA has no ARI. */
  async renewalDue(now: Date): Promise<boolean> {
    if (!this.certId) return true;
    const info = await renewalInfo(this.t, this.certId);
    return !info || new Date(info.body.suggestedWindow.start) <= now;
  }
}
