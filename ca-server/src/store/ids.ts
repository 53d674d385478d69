import { randomBytes } from 'node:crypto';

/** 128 random bits, URL-safe: for object ids that appear in ACME URLs and for nonces. */
export function randomId(): string {
  return randomBytes(16).toString('base64url');
}
