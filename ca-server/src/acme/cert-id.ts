/** RFC 9773 s4.1 certificate identifiers: base64url(AKI keyIdentifier) "." base64url(serial DER content). */

export function certId(issuerKeyIdHex: string, serialHex: string): string {
  return `${Buffer.from(issuerKeyIdHex, 'hex').toString('base64url')}.${Buffer.from(serialHex, 'hex').toString('base64url')}`;
}

export function parseCertId(text: string): { keyId: string; serial: string } | undefined {
  const match = /^([A-Za-z0-9_-]{1,128})\.([A-Za-z0-9_-]{1,64})$/.exec(text);
  if (!match) return undefined;
  const keyId = Buffer.from(match[1]!, 'base64url').toString('hex');
  const serial = Buffer.from(match[2]!, 'base64url').toString('hex');
  return keyId && serial ? { keyId, serial } : undefined;
}
