import { dns01TxtValue } from './key-authorization.js';
import { txtRecords } from './lookup.js';
import { fail, type Identifier, type ValidationContext } from './types.js';

/** RFC 8555 s8.4: a TXT record at _acme-challenge.<name> holding base64url(SHA-256(key authorization)). */
export async function validateDns01(identifier: Identifier, keyAuthorization: string, ctx: ValidationContext): Promise<void> {
  if (identifier.type !== 'dns') fail('malformed', 'dns-01 cannot validate an IP address (RFC 8738 s7)');
  // A wildcard is proven at its base name (RFC 8555 s7.1.3).
  const name = `_acme-challenge.${identifier.value.replace(/^\*\./, '')}`;
  const records = await txtRecords(name, ctx);
  if (records.length === 0) fail('unauthorized', `no TXT record found at ${name}`);
  if (!records.includes(dns01TxtValue(keyAuthorization))) {
    const more = records.length > 1 ? ` (and ${records.length - 1} more)` : '';
    fail('unauthorized', `incorrect TXT record ${JSON.stringify(records[0]?.slice(0, 64))}${more} found at ${name}`);
  }
}
