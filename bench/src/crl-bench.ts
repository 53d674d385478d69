import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pino from 'pino';
import { createAuditRecorder, createCrlPublisher, loadIssuingCa, loadServerConfig, openStore } from '@wardcert/ca-server';

export interface CrlResult {
  stored: number;
  revoked: number;
  /** Signing a CRL over the whole store (what every revocation costs), milliseconds. */
  crlSignMs: number;
  crlBytes: number;
  /** GET of the published CRL from the running server. */
  crlGetP50ms: number;
  crlGetMaxMs: number;
}

const DAY_MS = 86_400_000;

/**
 * Seeds a local Wardcert's store with `count` certificate records (`revokedPercent` of them revoked),
 * signs a CRL over it as the server would after a revocation, and times the running server's answer.
 */
export async function crlBench(o: { wardcertConfig: string; crlUrl: string; count: number; revokedPercent: number }, progress: (line: string) => void): Promise<CrlResult> {
  const config = await loadServerConfig(o.wardcertConfig);
  const passphrase = process.env.WARDCERT_CA_PASSPHRASE ?? (await readFile(config.passphraseFile!, 'utf8')).split('\n')[0]!;
  const ca = await loadIssuingCa({ dataDir: config.data, passphrase, allowReachableRootKey: true });
  const store = await openStore({ dataDir: config.data, ...(config.database ? { url: config.database } : {}) });
  try {
    const now = Date.now();
    // Any real leaf will do as the stored DER: the CRL reads serials, dates and reasons.
    const der = new Uint8Array(ca.cert.rawData);
    let revoked = 0;
    for (let i = 0; i < o.count; i++) {
      const serial = randomBytes(16).toString('hex');
      await store.certificates.insert({
        serial, profile: 'dicom-node', subject: '', identifiers: [{ type: 'ip', value: '127.9.0.1' }],
        notBefore: new Date(now - DAY_MS), notAfter: new Date(now + 3 * DAY_MS), der, issuerKeyId: ca.keyId, spkiSha256: serial,
      });
      if ((i * o.revokedPercent) % 100 < o.revokedPercent && (await store.certificates.markRevoked(serial, 1, new Date(now)))) revoked++;
      if (i % 10_000 === 9_999) progress(`crl: seeded ${i + 1}/${o.count}`);
    }
    const publisher = createCrlPublisher({ store, ca, logger: pino({ level: 'silent' }), audit: createAuditRecorder({ store }) });
    const started = performance.now();
    await publisher.regenerate('bench');
    const crlSignMs = performance.now() - started;
    const times: number[] = [];
    let crlBytes = 0;
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const res = await fetch(o.crlUrl);
      crlBytes = (await res.arrayBuffer()).byteLength;
      if (!res.ok) throw new Error(`${o.crlUrl} answered ${res.status}`);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const stored = Number((await store.knex('certificates').count({ n: '*' }))[0]!.n);
    const round = (x: number) => Math.round(x * 100) / 100;
    return { stored, revoked, crlSignMs: round(crlSignMs), crlBytes, crlGetP50ms: round(times[10]!), crlGetMaxMs: round(times[19]!) };
  } finally {
    await store.close();
  }
}
