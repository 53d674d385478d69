import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyAlgorithmSpec, type KeyAlgorithm } from '../src/pki/algorithms.js';
import { createRootCertificate } from '../src/pki/ca-certificates.js';
import { signCrl, type RevokedEntry } from '../src/pki/crl.js';
import { generateKey, toSigningKey, type SigningKey } from '../src/pki/keys.js';
import { openssl } from './helpers/openssl.js';

const ENTRIES = 20_000;
const DAY = 86_400_000;
/** Reason codes cycled over the entries, with the names openssl prints; 0 (unspecified) has no extension. */
const OPENSSL_REASONS = new Map([[0, ''], [1, 'Key Compromise'], [3, 'Affiliation Changed'], [4, 'Superseded'], [5, 'Cessation Of Operation'], [9, 'Privilege Withdrawn']]);
const REASONS = [...OPENSSL_REASONS.keys()];

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'wardcert-crlsign-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function issuingCa(algorithm: KeyAlgorithm): Promise<{ cert: x509.X509Certificate; key: SigningKey; file: string }> {
  const key = await toSigningKey(await generateKey(keyAlgorithmSpec(algorithm)));
  const cert = await createRootCertificate(key, new x509.Name(`CN=CRL Signing Test ${algorithm}`), 1);
  const file = join(work, `${algorithm}.crt.pem`);
  await writeFile(file, cert.toString('pem'));
  return { cert, key, file };
}

/** Random 16-byte serials, half of them with the high bit set (so DER needs a leading 0x00). */
function revocations(n: number): RevokedEntry[] {
  const base = Date.UTC(2026, 0, 1);
  return Array.from({ length: n }, (_, i) => {
    const bytes = randomBytes(16);
    bytes[0] = i % 2 ? bytes[0]! | 0x80 : (bytes[0]! & 0x7f) | 0x01;
    return { serial: bytes.toString('hex'), revokedAt: new Date(base + i * 1000), reason: REASONS[i % REASONS.length]! };
  });
}

/** openssl's text for the CRL, one block per entry: serial (upper hex) and the reason line if any. */
function entryBlocks(text: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const m of text.matchAll(/Serial Number: ([0-9A-F]+)\n([\s\S]*?)(?=\n\s*Serial Number:|\n\s*Signature Algorithm:)/g)) {
    blocks.set(m[1]!.toLowerCase(), m[2]!);
  }
  return blocks;
}

describe.each(['ecdsa-p256', 'rsa-3072'] as const)('signCrl with a %s CA', (algorithm) => {
  it(`signs ${ENTRIES} entries that openssl verifies, with every serial and its reason`, async () => {
    const ca = await issuingCa(algorithm);
    const entries = revocations(ENTRIES);
    const crl = await signCrl({
      issuer: ca.cert, key: ca.key, number: 4711n, entries,
      thisUpdate: new Date(), nextUpdate: new Date(Date.now() + DAY),
    });
    const file = join(work, `${algorithm}.crl`);
    await writeFile(file, new Uint8Array(crl.rawData));

    // The text of 20,000 entries is megabytes: openssl writes it to a file, its verdict to stderr.
    const textFile = `${file}.txt`;
    const verdict = openssl(['crl', '-inform', 'DER', '-in', file, '-CAfile', ca.file, '-noout', '-text', '-out', textFile]);
    expect(verdict.ok, verdict.output).toBe(true);
    expect(verdict.output).toContain('verify OK');
    const output = await readFile(textFile, 'utf8');
    expect(output).toContain('Version 2 (0x1)');
    expect(output).toMatch(/X509v3 CRL Number:\s*\n\s*4711/);
    expect(output).toContain('X509v3 Authority Key Identifier');
    expect(output).toContain(algorithm === 'rsa-3072' ? 'Signature Algorithm: rsassaPss' : 'Signature Algorithm: ecdsa-with-SHA256');

    const blocks = entryBlocks(output);
    expect(blocks.size).toBe(ENTRIES);
    for (const i of [0, 1, 2, 3, 4, 5, 9_999, ENTRIES - 1]) {
      const block = blocks.get(entries[i]!.serial);
      expect(block, `entry ${i}`).toBeDefined();
      expect(block).toContain(entries[i]!.revokedAt.toUTCString().slice(-12, -4));
      const reason = OPENSSL_REASONS.get(entries[i]!.reason)!;
      if (reason) expect(block).toMatch(new RegExp(`CRL Reason Code:\\s*\\n\\s*${reason}\\s*$`));
      else expect(block).not.toContain('CRL Reason Code');
    }
  }, 120_000);
});

describe('signCrl entries', () => {
  it('keeps one entry per serial, the first, and leaves out the revoked list when there is none', async () => {
    const ca = await issuingCa('ecdsa-p256');
    const now = new Date();
    const one = { serial: '80aa01', revokedAt: new Date(Date.UTC(2026, 1, 1)), reason: 1 };
    const crl = await signCrl({
      issuer: ca.cert, key: ca.key, number: 2n, thisUpdate: now, nextUpdate: new Date(now.getTime() + DAY),
      entries: [one, { serial: '0a', revokedAt: now, reason: 0 }, { ...one, revokedAt: now, reason: 4 }, { serial: '00000a', revokedAt: now, reason: 5 }],
    });
    expect(crl.entries.map((e) => [e.serialNumber, e.reason, e.revocationDate.toISOString()])).toEqual([
      ['80aa01', x509.X509CrlReason.keyCompromise, one.revokedAt.toISOString()],
      ['0a', undefined, now.toISOString().replace(/\.\d{3}Z$/, '.000Z')],
    ]);
    expect(await crl.verify({ publicKey: ca.cert.publicKey }, ca.key.crypto)).toBe(true);

    const empty = await signCrl({ issuer: ca.cert, key: ca.key, number: 3n, entries: [], thisUpdate: now, nextUpdate: new Date(now.getTime() + DAY) });
    const file = join(work, 'empty.crl');
    await writeFile(file, new Uint8Array(empty.rawData));
    const { output } = openssl(['crl', '-inform', 'DER', '-in', file, '-CAfile', ca.file, '-noout', '-text']);
    expect(output).toContain('verify OK');
    expect(output).toContain('No Revoked Certificates');
  });
});
