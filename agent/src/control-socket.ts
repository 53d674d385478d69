import { createConnection, createServer, type Server } from 'node:net';
import { rm } from 'node:fs/promises';

/** The daemon's control socket in the state directory: `renew` asks a running daemon to renew in place. */
export interface ControlRequest {
  cmd: 'renew' | 'status';
  force?: boolean;
}

const MAX_REQUEST_BYTES = 4096;

export async function serveControl(path: string, handle: (req: ControlRequest) => Promise<unknown>): Promise<Server> {
  await rm(path, { force: true }); // a socket file left by a crashed daemon
  const server = createServer((socket) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(600_000, () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_REQUEST_BYTES) return socket.destroy();
      if (!buffer.includes('\n')) return;
      let req: ControlRequest;
      try {
        req = JSON.parse(buffer.slice(0, buffer.indexOf('\n'))) as ControlRequest;
      } catch {
        return socket.end(JSON.stringify({ ok: false, error: 'not JSON' }) + '\n');
      }
      if (req.cmd !== 'renew' && req.cmd !== 'status') return socket.end(JSON.stringify({ ok: false, error: 'unknown command' }) + '\n');
      handle(req).then(
        (result) => socket.end(JSON.stringify({ ok: true, result }) + '\n'),
        (err: Error) => socket.end(JSON.stringify({ ok: false, error: err.message }) + '\n'),
      );
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path, readableAll: false, writableAll: false }, () => resolve());
  });
  return server;
}

/** Asks a running daemon; undefined when none listens on the socket. */
export function askDaemon(path: string, req: ControlRequest, timeoutMs = 600_000): Promise<{ ok: boolean; result?: unknown; error?: string } | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    let answer = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('timeout')));
    socket.on('connect', () => socket.write(JSON.stringify(req) + '\n'));
    socket.on('data', (d) => (answer += d));
    socket.on('end', () => {
      try {
        resolve(JSON.parse(answer));
      } catch {
        resolve({ ok: false, error: 'the daemon gave no answer' });
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? undefined : { ok: false, error: err.message }));
  });
}
