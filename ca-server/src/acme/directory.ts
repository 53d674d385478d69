import type Koa from 'koa';
import type { AcmeContext } from './context.js';

/** RFC 8555 s7.1.1, with ARI's renewalInfo (RFC 9773) and the profiles draft's meta.profiles. */
export function directory(acme: AcmeContext, ctx: Koa.Context): void {
  const { urls } = acme;
  ctx.body = {
    newNonce: urls.newNonce,
    newAccount: urls.newAccount,
    newOrder: urls.newOrder,
    revokeCert: urls.revokeCert,
    keyChange: urls.keyChange,
    renewalInfo: urls.renewalInfo,
    // Not an RFC 8555 resource; clients that do not know it ignore it (RFC 8555 s7.1.1).
    wardcertAgentReport: urls.agentReport,
    meta: {
      externalAccountRequired: acme.policy.requireEab,
      profiles: Object.fromEntries([...acme.profiles.values()].map((p) => [p.name, p.description])),
      website: acme.httpBase ?? urls.directory,
    },
  };
}
