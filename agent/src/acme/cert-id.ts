import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/** RFC 9773 s4.1: base64url(AKI keyIdentifier) "." base64url(serial number DER content). */
export function ariCertId(cert: x509.X509Certificate): string | undefined {
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  if (!aki?.keyId) return undefined;
  return `${Buffer.from(aki.keyId, 'hex').toString('base64url')}.${Buffer.from(cert.serialNumber, 'hex').toString('base64url')}`;
}
