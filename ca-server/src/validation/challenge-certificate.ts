import 'reflect-metadata';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as x509 from '@peculiar/x509';
import { canonicalIp } from './ip-names.js';
import { fail, type Identifier } from './types.js';

export const ACME_IDENTIFIER_OID = '1.3.6.1.5.5.7.1.31';

/**
 * RFC 8737 s3 (and RFC 8738 s6 for addresses): the certificate names exactly the identifier in its one
 * subjectAltName and carries a critical acmeIdentifier extension holding SHA-256 of the key authorization.
 */
export function checkChallengeCertificate(der: Uint8Array<ArrayBuffer>, identifier: Identifier, expectedDigest: Uint8Array): void {
  let cert: x509.X509Certificate;
  let sans: x509.SubjectAlternativeNameExtension[];
  try {
    cert = new x509.X509Certificate(der);
    sans = cert.getExtensions(x509.SubjectAlternativeNameExtension);
  } catch {
    fail('incorrectResponse', 'the tls-alpn-01 certificate is not a well-formed X.509 certificate');
  }
  const names = sans.flatMap((san) => san.names.items);
  const [only] = names;
  if (sans.length !== 1 || names.length !== 1 || only === undefined || !isIdentifier(only, identifier)) {
    const listed = names.map((n) => `${n.type}:${n.value}`).join(', ') || 'nothing';
    const wanted = `${identifier.type}:${identifier.value}`;
    fail('incorrectResponse', `the tls-alpn-01 certificate must name only ${wanted}; it names ${listed}`);
  }
  const ids = cert.getExtensions(ACME_IDENTIFIER_OID);
  if (ids.length !== 1 || ids[0] === undefined) {
    fail(
      'incorrectResponse',
      `the tls-alpn-01 certificate must carry one acmeIdentifier extension (${ACME_IDENTIFIER_OID}); it has ${ids.length}`,
    );
  }
  if (!ids[0].critical) {
    fail('incorrectResponse', 'the acmeIdentifier extension of the tls-alpn-01 certificate is not critical');
  }
  const digest = decodeDigest(new Uint8Array(ids[0].value));
  if (!Buffer.from(digest).equals(expectedDigest)) {
    fail('unauthorized', 'the acmeIdentifier extension does not hold SHA-256 of the key authorization');
  }
}

function isIdentifier(name: x509.GeneralName, identifier: Identifier): boolean {
  if (identifier.type === 'dns') return name.type === 'dns' && name.value.toLowerCase() === identifier.value.toLowerCase();
  return name.type === 'ip' && canonicalIp(name.value) === canonicalIp(identifier.value);
}

/** The extension value must be exactly the DER of one OCTET STRING of 32 bytes, nothing before or after it. */
function decodeDigest(value: Uint8Array): Uint8Array {
  try {
    const octets = AsnConvert.parse(value, OctetString);
    const reencoded = new Uint8Array(AsnConvert.serialize(octets));
    if (octets.byteLength === 32 && Buffer.from(reencoded).equals(value)) return new Uint8Array(octets.buffer);
  } catch {
    // falls through to the problem below
  }
  fail('incorrectResponse', 'the acmeIdentifier extension value is not a DER OCTET STRING of a SHA-256 digest');
}
