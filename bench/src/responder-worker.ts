import { createServer } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

/** The http-01 responder's own thread: its answers never wait behind the devices' signing work. */

const PREFIX = '/.well-known/acme-challenge/';
const answers = new Map<string, string>();
const { host, port } = workerData as { host: string; port: number };

export type ResponderMessage = { id: number; token: string; keyAuthorization?: string };

const server = createServer((req, res) => {
  const token = req.url?.startsWith(PREFIX) ? req.url.slice(PREFIX.length) : '';
  const answer = req.method === 'GET' ? answers.get(token) : undefined;
  res.writeHead(answer ? 200 : 404, { 'content-type': 'text/plain' }).end(answer ?? '');
});
server.keepAliveTimeout = 30_000;
server.once('error', (err) => parentPort!.postMessage({ error: err.message }));
server.listen(port, host, () => parentPort!.postMessage({ listening: true }));

parentPort!.on('message', (m: ResponderMessage | 'close') => {
  if (m === 'close') {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    return;
  }
  if (m.keyAuthorization === undefined) answers.delete(m.token);
  else answers.set(m.token, m.keyAuthorization);
  parentPort!.postMessage({ id: m.id });
});
