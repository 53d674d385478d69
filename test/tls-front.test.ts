import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTlsFront, type TlsFront } from '../agent/src/listeners/tls-front.js';
import type { ListenerSpec } from '../agent/src/config/schema.js';

const hostPort = (host: string, port: number) => ({ host, port, text: `${host}:${port}` });

describe('a TLS front', () => {
  let dir: string;
  let backend: Server;
  let front: TlsFront;
  let port: number;
  const lines: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wardcert-front-'));
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=front.hospital.test', '-days', '1']);
    backend = createServer((s) => s.pipe(s));
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const spec = {
      kind: 'dicom',
      listen: hostPort('127.0.0.1', 0),
      backend: hostPort('127.0.0.1', (backend.address() as { port: number }).port),
      mtls: { require: true, trust: cert },
      maxConnections: 4,
    } as ListenerSpec;
    const sink = new Writable({ write: (chunk, _enc, done) => { lines.push(String(chunk)); done(); } });
    front = createTlsFront(spec, { key: await readFile(key, 'utf8'), chain: await readFile(cert, 'utf8') }, pino(sink));
    ({ port } = await front.start());
  });

  afterAll(async () => {
    await front.stop();
    backend.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs the peer of a handshake that the peer reset, not undefined', async () => {
    const client = connect(port, '127.0.0.1');
    client.on('error', () => {});
    await new Promise<void>((resolve) => client.on('connect', resolve));
    const local = `${client.localAddress}:${client.localPort}`;
    client.resetAndDestroy();
    await vi.waitFor(() => expect(lines.join('')).toContain('listener.handshakeFailed'), { timeout: 5000 });
    const logged = lines.map((l) => JSON.parse(l) as { event?: string; peer?: string }).find((l) => l.event === 'listener.handshakeFailed');
    expect(logged?.peer).toBe(local);
  });
});
