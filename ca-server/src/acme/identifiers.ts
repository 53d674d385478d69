import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { describeConstraints, normaliseCidr, normaliseDnsSuffix, withinConstraints, type ConstraintSet, type Identifier } from '../pki/name-constraints.js';
import { AcmeProblem, ACME_ERROR_PREFIX, type Subproblem } from './problems.js';

export const identifierSchema = z.object({ type: z.string().max(16), value: z.string().max(253) }).strict();

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Lower-cases DNS names and writes IP addresses canonically; undefined when the value is not one. */
export function normaliseIdentifier(id: { type: string; value: string }): Identifier | undefined {
  if (id.type === 'dns') {
    const value = id.value.toLowerCase();
    const labels = (value.startsWith('*.') ? value.slice(2) : value).split('.');
    if (value.length > 253 || labels.length < 2 || !labels.every((l) => LABEL.test(l))) return undefined;
    return { type: 'dns', value };
  }
  if (id.type === 'ip') {
    const family = isIP(id.value);
    if (!family) return undefined;
    // RFC 8738 s3: IPv6 in RFC 5952 form; URL parsing yields exactly that.
    return { type: 'ip', value: family === 6 ? new URL(`http://[${id.value}]`).hostname.slice(1, -1) : id.value };
  }
  return undefined;
}

/** Validates an allow-list entry: "gw1.hospital.test", ".radiology.hospital.test", "10.20.1.5" or "10.20.0.0/16". */
export function normaliseAllowEntry(entry: string): string {
  if (entry.includes('/')) return normaliseCidr(entry);
  if (isIP(entry)) return entry;
  return entry.startsWith('.') ? `.${normaliseDnsSuffix(entry)}` : normaliseDnsSuffix(entry);
}

/** True when an identifier matches an allow-list entry: an exact name, a ".suffix", or a CIDR block. */
export function matchesAllowEntry(id: Identifier, entry: string): boolean {
  if (id.type === 'ip') {
    if (!entry.includes('/')) return entry === id.value;
    const [base, prefix] = entry.split('/');
    const family = isIP(base!) === 6 ? 'ipv6' : 'ipv4';
    if ((isIP(id.value) === 6 ? 'ipv6' : 'ipv4') !== family) return false;
    const list = new BlockList();
    list.addSubnet(base!, Number(prefix), family);
    return list.check(id.value, family);
  }
  const name = id.value.replace(/^\*\./, '');
  if (entry.startsWith('.')) return name.endsWith(entry);
  return id.value === entry.toLowerCase();
}

/** The server's allow-list: DNS suffixes (the name itself and everything below) and CIDR blocks. */
function serverAllows(id: Identifier, policy: IdentifierPolicy): boolean {
  if (id.type === 'ip') return policy.allowIp.some((cidr) => matchesAllowEntry(id, cidr));
  const name = id.value.replace(/^\*\./, '');
  return policy.allowDns.some((suffix) => {
    const s = suffix.replace(/^\./, '').toLowerCase();
    return name === s || name.endsWith(`.${s}`);
  });
}

export interface IdentifierPolicy {
  allowDns: string[];
  allowIp: string[];
  /** The account's own list from its EAB credential; null when it has none. */
  accountAllowed: string[] | null;
  constraints: ConstraintSet;
  profileTypes: readonly string[];
  profileName: string;
}

/**
 * Decides every identifier of a newOrder before any validation: refusals carry one subproblem per
 * identifier (RFC 8555 s6.7.1) so a client sees exactly which name is not allowed and why.
 */
export function checkOrderIdentifiers(raw: { type: string; value: string }[], policy: IdentifierPolicy): Identifier[] {
  const accepted: Identifier[] = [];
  const subproblems: Subproblem[] = [];
  const refuse = (type: string, detail: string, identifier: { type: string; value: string }) =>
    subproblems.push({ type: ACME_ERROR_PREFIX + type, detail, identifier });
  for (const r of raw) {
    if (r.type !== 'dns' && r.type !== 'ip') {
      refuse('unsupportedIdentifier', `identifier type "${r.type}" is not supported (dns, ip)`, r);
      continue;
    }
    // RFC 8738 orders addresses as type "ip"; older clients still send them as "dns". The address is
    // what they mean, and it is validated and issued as an address either way.
    const id = normaliseIdentifier(r.type === 'dns' && isIP(r.value) ? { type: 'ip', value: r.value } : r);
    if (!id) {
      refuse('rejectedIdentifier', `"${r.value}" is not a valid ${r.type} identifier`, r);
      continue;
    }
    if (!policy.profileTypes.includes(id.type)) {
      refuse('unsupportedIdentifier', `profile ${policy.profileName} does not issue ${id.type} identifiers`, r);
    } else if (!serverAllows(id, policy)) {
      refuse('rejectedIdentifier', `${id.value} is outside what this CA issues for`, r);
    } else if (policy.accountAllowed && policy.accountAllowed.length > 0 && !policy.accountAllowed.some((e) => matchesAllowEntry(id, e))) {
      refuse('rejectedIdentifier', `${id.value} is not registered for this account's device`, r);
    } else if (!withinConstraints(id, policy.constraints)) {
      refuse('rejectedIdentifier', `${id.value} is outside the issuing CA's name constraints (${describeConstraints(policy.constraints)})`, r);
    } else {
      accepted.push(id);
    }
  }
  if (subproblems.length === 1) {
    const only = subproblems[0]!;
    throw new AcmeProblem(only.type.slice(ACME_ERROR_PREFIX.length) as 'rejectedIdentifier', only.detail, { subproblems });
  }
  if (subproblems.length > 1) {
    const type = subproblems.every((s) => s.type === subproblems[0]!.type) ? (subproblems[0]!.type.slice(ACME_ERROR_PREFIX.length) as 'rejectedIdentifier') : 'compound';
    throw new AcmeProblem(type, `${subproblems.length} identifiers were refused`, { subproblems });
  }
  const unique = new Map(accepted.map((id) => [`${id.type}:${id.value}`, id]));
  return [...unique.values()];
}
