import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { request } from '../acme/request.js';
import { splitPem } from './pem.js';

const MAX_ISSUER_BYTES = 64 * 1024;

/**
 * The issuing CA certificate the CA publishes now, at the caIssuers URL in the leaf's Authority
 * Information Access (RFC 5280 s4.2.2.1). After an intermediate rotation that URL serves the new
 * issuing CA before the device's own certificate is renewed under it. The answer is hostile input:
 * bounded, DER or PEM, and taken only when it is a CA certificate, valid now, signed by the
 * hospital root. Undefined when the leaf names no such URL.
 */
export async function publishedIssuer(leaf: x509.X509Certificate, rootPem: string, timeoutMs: number): Promise<{ pem: string; subject: string } | undefined> {
  const aia = leaf.getExtension(x509.AuthorityInfoAccessExtension);
  const url = aia?.caIssuers.find((n) => n.type === 'url' && /^https?:\/\//.test(n.value))?.value;
  if (!url) return undefined;
  const res = await request(url, { method: 'GET', timeoutMs, maxBytes: MAX_ISSUER_BYTES, ca: rootPem });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  const text = res.body.toString('latin1');
  const issuer = new x509.X509Certificate(text.includes('-----BEGIN CERTIFICATE-----') ? splitPem(text)[0] ?? '' : new Uint8Array(res.body));
  const root = new x509.X509Certificate(splitPem(rootPem)[0] ?? '');
  const now = new Date();
  if (!issuer.getExtension(x509.BasicConstraintsExtension)?.ca) throw new Error(`${url} serves a certificate that is not a CA`);
  if (issuer.notBefore > now || issuer.notAfter < now) throw new Error(`${url} serves a CA certificate that is not valid now`);
  if (!(await issuer.verify({ publicKey: root.publicKey, signatureOnly: true }))) throw new Error(`${url} serves a CA certificate the hospital root did not sign`);
  return { pem: issuer.toString('pem'), subject: issuer.subject };
}
