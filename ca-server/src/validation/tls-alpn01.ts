import { isIP } from 'node:net';
import tls from 'node:tls';
import { checkChallengeCertificate } from './challenge-certificate.js';
import { firstReachable, networkFailure } from './connect.js';
import { reverseName } from './ip-names.js';
import { keyAuthorizationDigest } from './key-authorization.js';
import { addressesOf } from './lookup.js';
import { ValidationFailure, type Identifier, type ValidationContext } from './types.js';

export const ACME_TLS_1 = 'acme-tls/1';

/** RFC 8737 and RFC 8738 s6: the challenge certificate offered for ALPN acme-tls/1. Returns the address used. */
export async function validateTlsAlpn01(identifier: Identifier, keyAuthorization: string, ctx: ValidationContext): Promise<string> {
  const servername = identifier.type === 'ip' ? reverseName(identifier.value) : identifier.value;
  const addresses = await addressesOf(identifier.value, ctx);
  const { value: der, address } = await firstReachable(addresses, ctx, (a) => challengeCertificate(a, servername, ctx));
  checkChallengeCertificate(der, identifier, keyAuthorizationDigest(keyAuthorization));
  return address;
}

/** Completes a handshake offering only acme-tls/1 and returns the certificate the server presented. */
function challengeCertificate(address: string, servername: string, ctx: ValidationContext): Promise<Uint8Array<ArrayBuffer>> {
  const where = `${isIP(address) === 6 ? `[${address}]` : address}:${ctx.tlsAlpn01Port} (SNI ${servername})`;
  return new Promise<Uint8Array<ArrayBuffer>>((resolve, reject) => {
    if (ctx.signal.aborted) {
      reject(networkFailure(ctx.signal.reason, where, ctx));
      return;
    }
    const socket = tls.connect({
      host: address,
      port: ctx.tlsAlpn01Port,
      servername,
      ALPNProtocols: [ACME_TLS_1],
      minVersion: 'TLSv1.2',
      // The challenge certificate is self-signed by design (RFC 8737 s3); the digest in it is the proof,
      // so there is no chain to verify.
      rejectUnauthorized: false,
    });
    const onAbort = () => socket.destroy(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate().raw as Buffer | undefined;
      const protocol = socket.alpnProtocol;
      socket.destroy();
      if (protocol !== ACME_TLS_1) {
        reject(new ValidationFailure('incorrectResponse', `${where} did not negotiate ALPN protocol ${ACME_TLS_1}`));
      } else if (raw === undefined) {
        reject(new ValidationFailure('incorrectResponse', `${where} presented no certificate`));
      } else {
        resolve(new Uint8Array(raw));
      }
    });
    socket.once('error', (err) => reject(networkFailure(err, where, ctx)));
    socket.once('close', () => {
      ctx.signal.removeEventListener('abort', onAbort);
      reject(networkFailure(new Error('the connection closed before the TLS handshake completed'), where, ctx));
    });
  });
}
