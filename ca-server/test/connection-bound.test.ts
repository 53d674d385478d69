import { readFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caLayout } from '../src/pki/layout.js';
import type { RunningServer } from '../src/server/server.js';
import { startAcmeFixture, type AcmeFixture } from './helpers/acme-fixture.js';
import { serverOnFixture } from './helpers/running-server.js';

/** admission.maxConnections and handshakeTimeout bound the HTTPS sockets (and so their memory) one instance holds. */

let f: AcmeFixture;
let server: RunningServer;
let rootPem: string;
beforeAll(async () => {
  f = await startAcmeFixture();
  server = await serverOnFixture(f, ['admission: { maxConnections: 2, handshakeTimeout: 1s }']);
  rootPem = await readFile(caLayout(f.dir).root, 'utf8');
});
afterAll(async () => {
  await server?.close();
  await f?.close();
});

/** Resolves with the socket once the handshake is done, or with the error that ended it. */
function tlsConnect(): Promise<TLSSocket | Error> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: server.acmePort, ca: rootPem, servername: 'localhost', checkServerIdentity: () => undefined });
    s.once('secureConnect', () => resolve(s));
    s.once('error', (err) => resolve(err));
    s.once('close', () => resolve(new Error('closed before the handshake')));
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
  });
}

describe('the HTTPS connection bound', () => {
  it('closes connections past maxConnections at accept, and accepts again once one is gone', async () => {
    const first = await tlsConnect();
    const second = await tlsConnect();
    expect(first).not.toBeInstanceOf(Error);
    expect(second).not.toBeInstanceOf(Error);
    const third = await tlsConnect();
    expect(third).toBeInstanceOf(Error);
    (first as TLSSocket).destroy();
    await new Promise((r) => setTimeout(r, 200));
    const again = await tlsConnect();
    expect(again).not.toBeInstanceOf(Error);
    (second as TLSSocket).destroy();
    (again as TLSSocket).destroy();
    await new Promise((r) => setTimeout(r, 300));
  });

  it('closes a connection that never starts its TLS handshake after handshakeTimeout, freeing its slot', async () => {
    const started = Date.now();
    const silent = tcpConnect({ host: '127.0.0.1', port: server.acmePort });
    await new Promise<void>((resolve) => silent.once('close', () => resolve()));
    const heldMs = Date.now() - started;
    expect(heldMs).toBeGreaterThanOrEqual(900);
    expect(heldMs).toBeLessThan(5000);
  });
});
