import 'reflect-metadata';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as x509 from '@peculiar/x509';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { isIP } from 'node:net';
import { createSecureContext, createServer, type SecureContext, type Server } from 'node:tls';
import type { Identifier } from './api.js';
import type { ChallengeSolver } from './flows.js';

/** RFC 8737 s3: the acmeIdentifier extension and the ALPN protocol a validator asks for. */
const ACME_IDENTIFIER = '1.3.6.1.5.5.7.1.31';
const ACME_TLS_1 = 'acme-tls/1';

/** RFC 8738 s6: an IP address is asked for by its reverse-DNS name in SNI. */
export function sniName(id: Identifier): string {
  if (id.type === 'dns') return id.value.toLowerCase();
  if (isIP(id.value) === 4) return `${id.value.split('.').reverse().join('.')}.in-addr.arpa`;
  const nibbles = expandIpv6(new URL(`http://[${id.value}]`).hostname.slice(1, -1));
  return `${[...nibbles].reverse().join('.')}.ip6.arpa`;
}

/** The 32 hex digits of an IPv6 address in the compressed form URL parsing gives. */
function expandIpv6(address: string): string {
  const [head = '', tail] = address.split('::');
  const front = head ? head.split(':') : [];
  const back = tail ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - front.length - back.length;
  return [...front, ...Array<string>(fill).fill('0'), ...back].map((g) => g.padStart(4, '0')).join('');
}

/** The self-signed challenge certificate: one SAN, and the key authorization's digest in a critical extension. */
async function challengeContext(id: Identifier, keyAuthorization: string): Promise<SecureContext> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  const keys = {
    privateKey: await crypto.subtle.importKey('pkcs8', privateKey.export({ type: 'pkcs8', format: 'der' }), alg, false, ['sign']),
    publicKey: await crypto.subtle.importKey('spki', publicKey.export({ type: 'spki', format: 'der' }), alg, true, ['verify']),
  };
  const digest = createHash('sha256').update(keyAuthorization).digest();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: new x509.Name([]),
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 7 * 86_400_000),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: id.type, value: id.value }], true),
      new x509.Extension(ACME_IDENTIFIER, true, AsnConvert.serialize(new OctetString(digest))),
    ],
  });
  return createSecureContext({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }), cert: cert.toString('pem'), minVersion: 'TLSv1.2' });
}

/** Answers tls-alpn-01 (RFC 8737) from a TLS server that listens only while challenges are outstanding. */
export function tlsAlpn01Solver(listen: { host: string; port: number }): ChallengeSolver & { close(): Promise<void> } {
  const contexts = new Map<string, SecureContext>();
  let server: Server | undefined;

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer({
        ALPNProtocols: [ACME_TLS_1],
        SNICallback: (name, cb) => {
          const ctx = contexts.get(name.toLowerCase());
          cb(ctx ? null : new Error(`no challenge for ${name}`), ctx);
        },
      });
      // Validators only look at the certificate; any data after the handshake is not ours to answer.
      s.on('secureConnection', (socket) => socket.end());
      s.on('tlsClientError', () => undefined);
      s.once('error', reject);
      s.listen(listen.port, listen.host, () => {
        server = s;
        resolve();
      });
    });

  const stop = async () => {
    const s = server;
    server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };

  return {
    type: 'tls-alpn-01',
    async present(id, _token, keyAuthorization) {
      contexts.set(sniName(id), await challengeContext(id, keyAuthorization));
      if (!server) await start();
    },
    async cleanup(id) {
      contexts.delete(sniName(id));
      if (contexts.size === 0) await stop();
    },
    close: stop,
  };
}
