import { createServer, type Server } from 'node:http';
import type { ChallengeSolver } from '@wardcert/agent';

const PREFIX = '/.well-known/acme-challenge/';

export interface SharedResponder extends ChallengeSolver {
  close(): Promise<void>;
}

/**
 * One http-01 responder (RFC 8555 s8.3) for every simulated device: tokens are unique, so one map
 * answers them all, whatever address the CA connected to.
 */
export async function startResponder(host: string, port: number): Promise<SharedResponder> {
  const answers = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const token = req.url?.startsWith(PREFIX) ? req.url.slice(PREFIX.length) : '';
    const answer = req.method === 'GET' ? answers.get(token) : undefined;
    res.writeHead(answer ? 200 : 404, { 'content-type': 'text/plain' }).end(answer ?? '');
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    type: 'http-01',
    async present(_id, token, keyAuthorization) {
      answers.set(token, keyAuthorization);
    },
    async cleanup(_id, token) {
      answers.delete(token);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
