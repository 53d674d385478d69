import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { onTestFinished } from 'vitest';

/** Listens on a free loopback port and closes the server, and every connection it holds, when the test ends. */
export async function serve(server: net.Server, host = '127.0.0.1'): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  onTestFinished(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as net.AddressInfo).port;
}

export type SeenRequest = { host: string | undefined; url: string | undefined };

/** An HTTP server that records each request's Host header and path before the handler answers it. */
export async function serveHttp(
  handler: http.RequestListener,
  host = '127.0.0.1',
): Promise<{ port: number; seen: SeenRequest[] }> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ host: req.headers.host, url: req.url });
    handler(req, res);
  });
  return { port: await serve(server, host), seen };
}

/** A TLS server with one certificate; `alpn` undefined means it does not speak ALPN at all. */
export async function serveTls(
  options: { cert: string; key: string; alpn?: string[] },
  onSecure: (socket: tls.TLSSocket) => void = (socket) => socket.end(),
): Promise<{ port: number; sni: (string | undefined)[] }> {
  const context = tls.createSecureContext({ cert: options.cert, key: options.key });
  const sni: (string | undefined)[] = [];
  const server = tls.createServer(
    {
      cert: options.cert,
      key: options.key,
      ...(options.alpn ? { ALPNProtocols: options.alpn } : {}),
      // Records the SNI before the handshake finishes, so the test never races the server.
      SNICallback: (servername, callback) => {
        sni.push(servername);
        callback(null, context);
      },
    },
    onSecure,
  );
  return { port: await serve(server), sni };
}

/** A server that accepts connections and never says a word: the timeout case. */
export function serveSilence(): Promise<number> {
  return serve(net.createServer(() => {}));
}

/** A loopback port nothing listens on: bound once to get it, then released. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether this machine can listen on ::1 (some containers have IPv6 switched off). */
export async function hasIpv6Loopback(): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}
