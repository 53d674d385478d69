import { createHash } from 'node:crypto';

/** SHA-256 of the key authorization: the acmeIdentifier value of tls-alpn-01 (RFC 8737 s3). */
export function keyAuthorizationDigest(keyAuthorization: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash('sha256').update(keyAuthorization, 'utf8').digest());
}

/** The TXT value dns-01 expects (RFC 8555 s8.4). */
export function dns01TxtValue(keyAuthorization: string): string {
  return Buffer.from(keyAuthorizationDigest(keyAuthorization)).toString('base64url');
}
