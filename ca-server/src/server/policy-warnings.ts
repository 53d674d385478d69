import type { ConstraintSet } from '../pki/name-constraints.js';
import { describeConstraints, withinConstraints } from '../pki/name-constraints.js';

/**
 * Lists allow-list entries the issuing CA's name constraints do not cover: orders for them would pass
 * policy and then fail at signing, so the operator hears about it at start.
 */
export function allowListBeyondConstraints(allowDns: string[], allowIp: string[], constraints: ConstraintSet): string[] {
  const out: string[] = [];
  for (const suffix of allowDns) {
    if (!withinConstraints({ type: 'dns', value: suffix }, constraints)) out.push(`DNS ${suffix}`);
  }
  for (const cidr of allowIp) {
    const [base] = cidr.split('/');
    if (!withinConstraints({ type: 'ip', value: base! }, constraints)) out.push(`IP ${cidr}`);
  }
  return out.map((e) => `${e} is allowed by the config but outside the issuing CA's name constraints (${describeConstraints(constraints)})`);
}
