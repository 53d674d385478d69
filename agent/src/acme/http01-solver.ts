import { createServer, type Server } from 'node:http';
import type { ChallengeSolver } from './flows.js';

const PREFIX = '/.well-known/acme-challenge/';

export interface Http01Solver extends ChallengeSolver {
  /** The address actually bound, once the first challenge is presented. */
  address(): { host: string; port: number } | undefined;
  close(): Promise<void>;
}

/**
 * Answers http-01 (RFC 8555 s8.3) from a small server that listens only while challenges are
 * outstanding, so the port is free for other software the rest of the time.
 */
export function http01Solver(listen: { host: string; port: number }): Http01Solver {
  const answers = new Map<string, string>();
  let server: Server | undefined;
  let starting: Promise<void> | undefined;

  const start = () => {
    starting ??= new Promise<void>((resolve, reject) => {
      const s = createServer((req, res) => {
        const token = req.url?.startsWith(PREFIX) ? req.url.slice(PREFIX.length) : '';
        const answer = req.method === 'GET' ? answers.get(token) : undefined;
        res.writeHead(answer ? 200 : 404, { 'content-type': 'text/plain' }).end(answer ?? '');
      });
      s.once('error', (err) => {
        starting = undefined;
        reject(err);
      });
      s.listen(listen.port, listen.host, () => {
        server = s;
        resolve();
      });
    });
    return starting;
  };

  const stop = async () => {
    const s = server;
    server = undefined;
    starting = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };

  return {
    type: 'http-01',
    async present(_id, token, keyAuthorization) {
      answers.set(token, keyAuthorization);
      await start();
    },
    async cleanup(_id, token) {
      answers.delete(token);
      if (answers.size === 0) await stop();
    },
    address() {
      const a = server?.address();
      return a && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
    },
    close: stop,
  };
}
