/** Every ACME URL the server hands out, built from one base so that JWS `url` checks compare like with like. */
export interface AcmeUrls {
  directory: string;
  newNonce: string;
  newAccount: string;
  newOrder: string;
  revokeCert: string;
  keyChange: string;
  renewalInfo: string;
  /** Wardcert's own resource: agents post their status here. */
  agentReport: string;
  account(id: string): string;
  orders(accountId: string): string;
  order(id: string): string;
  finalize(orderId: string): string;
  authz(id: string): string;
  challenge(id: string): string;
  certificate(serial: string): string;
}

export const ACME_PREFIX = '/acme';

export function acmeUrls(baseUrl: string): AcmeUrls {
  const base = baseUrl.replace(/\/+$/, '') + ACME_PREFIX;
  return {
    directory: `${base}/directory`,
    newNonce: `${base}/new-nonce`,
    newAccount: `${base}/new-account`,
    newOrder: `${base}/new-order`,
    revokeCert: `${base}/revoke-cert`,
    keyChange: `${base}/key-change`,
    renewalInfo: `${base}/renewal-info`,
    agentReport: `${base}/agent-report`,
    account: (id) => `${base}/acct/${id}`,
    orders: (id) => `${base}/acct/${id}/orders`,
    order: (id) => `${base}/order/${id}`,
    finalize: (id) => `${base}/order/${id}/finalize`,
    authz: (id) => `${base}/authz/${id}`,
    challenge: (id) => `${base}/chall/${id}`,
    certificate: (serial) => `${base}/cert/${serial}`,
  };
}
