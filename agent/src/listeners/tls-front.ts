import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { readFileSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { BSI_TLS } from '@wardcert/common';
import type { ListenerSpec } from '../config/schema.js';
import type { CertificatePair } from '../keystore/state.js';
import { splitPem } from '../keystore/pem.js';

export interface TlsFront {
  readonly spec: ListenerSpec;
  start(): Promise<{ host: string; port: number }>;
  /** New handshakes get the new certificate; connections already open keep theirs and go on. */
  reload(pair: CertificatePair): void;
  servedSerial(): string;
  connections(): number;
  stop(): Promise<void>;
}

const serialOf = (pair: CertificatePair) => new x509.X509Certificate(splitPem(pair.chain)[0]!).serialNumber.toLowerCase();

/**
 * A TLS front for a device that speaks only plaintext DICOM or MLLP: TLS 1.2/1.3 with the BSI
 * TR-02102-2 suites outside, the plain backend inside, optional mutual TLS against the hospital root.
 */
export function createTlsFront(spec: ListenerSpec, initial: CertificatePair, logger: Logger): TlsFront {
  const mtls = spec.mtls ? { requestCert: true, rejectUnauthorized: spec.mtls.require, ca: readFileSync(spec.mtls.trust, 'utf8') } : {};
  let serial = serialOf(initial);
  const open = new Set<TLSSocket>();
  const server: Server = createServer({
    ...BSI_TLS,
    ...mtls,
    key: initial.key,
    cert: initial.chain,
    // DCMTK offers ALPN "dicom"; agreeing is harmless and tells it the right protocol answers.
    ...(spec.kind === 'dicom' ? { ALPNProtocols: ['dicom'] } : {}),
  });

  server.on('secureConnection', (client) => {
    if (open.size >= spec.maxConnections) {
      logger.warn({ event: 'listener.full', listen: spec.listen.text, peer: client.remoteAddress }, 'connection limit reached; closing');
      client.destroy();
      return;
    }
    open.add(client);
    const backend: Socket = connectTcp({ host: spec.backend.host, port: spec.backend.port });
    const close = () => {
      open.delete(client);
      client.destroy();
      backend.destroy();
    };
    backend.on('error', (err) => {
      logger.error({ event: 'listener.backendError', listen: spec.listen.text, backend: spec.backend.text, err: err.message }, 'backend unreachable');
      close();
    });
    client.on('error', close);
    client.on('close', close);
    backend.on('close', close);
    client.pipe(backend);
    backend.pipe(client);
  });
  // A peer that resets mid-handshake leaves a TLS socket that no longer knows its address; the TCP
  // socket under it does, once asked while it was connected.
  const peers = new WeakMap<Socket, string>();
  server.on('connection', (raw: Socket) => peers.set(raw, `${raw.remoteAddress}:${raw.remotePort}`));
  server.on('tlsClientError', (err, socket) => {
    const tcp = (socket as TLSSocket & { _parent?: Socket })._parent;
    const peer = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : ((tcp && peers.get(tcp)) ?? 'unknown');
    logger.warn({ event: 'listener.handshakeFailed', listen: spec.listen.text, peer, err: err.message }, 'TLS handshake failed');
  });

  return {
    spec,
    start: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(spec.listen.port, spec.listen.host, () => {
          server.off('error', reject);
          const a = server.address() as { address: string; port: number };
          resolve({ host: a.address, port: a.port });
        });
      }),
    reload(pair) {
      server.setSecureContext({ ...BSI_TLS, ...mtls, key: pair.key, cert: pair.chain });
      serial = serialOf(pair);
    },
    servedSerial: () => serial,
    connections: () => open.size,
    stop: () =>
      new Promise((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
