import { BSI_TLS } from '@wardcert/common';
import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { AtnaSpool } from './atna-spool.js';

export interface AtnaSenderOptions {
  spool: AtnaSpool;
  host: string;
  port: number;
  /** PEM: the CA certificate(s) the repository's certificate must chain to. */
  trust: string;
  /** PEM client certificate chain and key, for repositories that authenticate senders. */
  cert?: string;
  key?: string;
  logger: Logger;
  /** How often the spool is looked at without a poke. */
  pollMs?: number;
  /** How long a written file stays in the spool while the connection holds (see settle below). */
  settleMs?: number;
  /** Wait before reconnecting grows from the first to the second value. */
  retryMs?: [number, number];
}

export interface AtnaSender {
  /** New files were spooled: send now. */
  poke(): void;
  /** Sends what is spooled (briefly), closes the connection, and stops. Unsent files stay for the next start. */
  stop(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;

/**
 * Sends the spool to the Audit Record Repository over TLS (RFC 5425), file by file in order.
 *
 * Syslog has no acknowledgement, and bytes the kernel accepted can still die with a connection
 * the repository drops. So a written file is deleted only once the connection has stayed up for
 * `settleMs` after it was written, or was closed by us in good order; if it drops sooner, every
 * file written on it since is sent again on the next connection. Delivery is therefore
 * at-least-once, in sequence order: a repository sees a repeat only after a dropped connection,
 * and can tell it by the RFC 5424 meta sequenceId, which is the audit entry's sequence number.
 */
export function startAtnaSender(o: AtnaSenderOptions): AtnaSender {
  const pollMs = o.pollMs ?? 1000;
  const settleMs = o.settleMs ?? 2000;
  const [retryMin, retryMax] = o.retryMs ?? [1000, 30_000];
  let socket: TLSSocket | undefined;
  /** Files written on the current connection, oldest first, with when. */
  let written: { name: string; at: number }[] = [];
  let stopped = false;
  let wake: (() => void) | undefined;
  let failing = false;

  const open = () =>
    new Promise<TLSSocket>((resolve, reject) => {
      const s = connect({
        ...BSI_TLS,
        host: o.host,
        port: o.port,
        ...(isIP(o.host) ? {} : { servername: o.host }),
        ca: o.trust,
        ...(o.cert && o.key ? { cert: o.cert, key: o.key } : {}),
      });
      s.setTimeout(CONNECT_TIMEOUT_MS, () => s.destroy(new Error('TLS connection timed out')));
      s.once('error', reject);
      s.once('secureConnect', () => {
        s.off('error', reject);
        s.setTimeout(0);
        s.on('error', (err) => o.logger.warn({ err, event: 'atna.connectionError' }, 'Audit Record Repository connection failed'));
        // A drop: whatever was written on this connection and not yet settled goes again.
        s.once('close', () => {
          if (socket === s) {
            socket = undefined;
            written = [];
          }
        });
        s.resume(); // a repository says nothing back; never let its bytes pile up
        resolve(s);
      });
    });

  const write = (s: TLSSocket, data: Buffer) =>
    new Promise<void>((resolve, reject) => {
      if (s.destroyed || !s.writable) return reject(new Error('the connection closed'));
      s.write(data, (err) => (err ? reject(err) : resolve()));
    });

  const settle = async () => {
    while (written.length && Date.now() - written[0]!.at >= settleMs) {
      await o.spool.remove(written.shift()!.name);
    }
  };

  const pass = async () => {
    await settle();
    const sent = new Set(written.map((w) => w.name));
    const names = (await o.spool.pending()).filter((n) => !sent.has(n));
    if (names.length === 0) return;
    socket ??= await open();
    const s = socket;
    for (const name of names) {
      const data = await o.spool.read(name);
      if (data === undefined) continue;
      await write(s, data);
      if (socket === s) written.push({ name, at: Date.now() });
    }
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(t);
        wake = undefined;
        resolve();
      };
    });

  const loop = (async () => {
    let retry = retryMin;
    while (!stopped) {
      try {
        await pass();
        if (failing) o.logger.info({ event: 'atna.resumed' }, 'Audit Record Repository reachable again; sending the spool');
        failing = false;
        retry = retryMin;
        await sleep(written.length ? Math.min(pollMs, settleMs) : pollMs);
      } catch (err) {
        socket?.destroy();
        socket = undefined;
        written = [];
        if (!failing) o.logger.warn({ err, event: 'atna.unreachable', host: o.host, port: o.port }, 'Audit Record Repository unreachable; messages stay spooled');
        failing = true;
        await sleep(retry);
        retry = Math.min(retry * 2, retryMax);
      }
    }
  })();

  return {
    // While the repository is down the backoff decides, not every new event.
    poke: () => {
      if (!failing) wake?.();
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      const s = socket;
      if (!s) return;
      try {
        await Promise.race([pass(), new Promise((_, reject) => setTimeout(() => reject(new Error('stop grace ran out')), STOP_GRACE_MS).unref())]);
        // Our own orderly close: the repository read up to our FIN, so what was written has arrived.
        const done = written.map((w) => w.name);
        const closed = new Promise<boolean>((resolve) => s.once('close', (hadError) => resolve(!hadError)));
        s.end();
        const clean = await Promise.race([closed, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), STOP_GRACE_MS).unref())]);
        if (clean) for (const name of done) await o.spool.remove(name);
      } catch (err) {
        o.logger.warn({ err, event: 'atna.stopUnsent' }, 'some audit messages stay spooled for the next start');
      } finally {
        s.destroy();
      }
    },
  };
}
