import { BSI_TLS } from '@wardcert/common';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { createServer, type Server, type TLSSocket } from 'node:tls';

/** One RFC 5424 message as the repository read it, its XML checked and parsed. */
export interface ReceivedAudit {
  pri: number;
  hostname: string;
  appName: string;
  msgid: string;
  sequenceId: number;
  /** The XML exactly as sent, after the BOM. */
  xml: string;
  /** fast-xml-parser's view of it, attributes under "@". */
  message: any;
}

export interface SyslogListener {
  port: number;
  received: ReceivedAudit[];
  /** Frames or XML that did not parse; a correct sender leaves this empty. */
  errors: string[];
  connections: number;
  /** Until `n` messages arrived, or throws after `ms`. */
  waitFor(n: number, ms?: number): Promise<void>;
  close(): Promise<void>;
}

const HEADER = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) \[meta sequenceId="(\d+)"\] \uFEFF/;
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['ActiveParticipant', 'ParticipantObjectDetail', 'ParticipantObjectIdentification'].includes(name) });

/**
 * An Audit Record Repository for tests: syslog over TLS on 127.0.0.1 (RFC 5425), reading
 * octet-counted frames. `dropAfter` closes the first connection abruptly once that many messages
 * came in, as a repository that restarts would.
 */
export async function startSyslogListener(o: { key: string; cert: string; port?: number; dropAfter?: number }): Promise<SyslogListener> {
  const received: ReceivedAudit[] = [];
  const errors: string[] = [];
  let connections = 0;
  const sockets = new Set<TLSSocket>();
  const server: Server = createServer({ ...BSI_TLS, key: o.key, cert: o.cert }, (socket) => {
    connections += 1;
    const first = connections === 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const space = buffer.indexOf(0x20);
        if (space < 0) break;
        const lengthText = buffer.subarray(0, space).toString('ascii');
        if (!/^[1-9]\d{0,7}$/.test(lengthText)) {
          errors.push(`bad MSG-LEN "${lengthText.slice(0, 20)}"`);
          socket.destroy();
          return;
        }
        const length = Number(lengthText);
        if (buffer.length < space + 1 + length) break;
        const text = buffer.subarray(space + 1, space + 1 + length).toString('utf8');
        buffer = buffer.subarray(space + 1 + length);
        take(text);
        if (first && o.dropAfter !== undefined && received.length >= o.dropAfter) {
          socket.destroy(); // no close_notify, no FIN first: a crash as the sender sees it
          return;
        }
      }
    });
  });
  const take = (text: string) => {
    const h = HEADER.exec(text);
    if (!h) return errors.push(`bad syslog header: ${text.slice(0, 80)}`);
    const xml = text.slice(h[0].length);
    const valid = XMLValidator.validate(xml);
    if (valid !== true) return errors.push(`bad XML: ${JSON.stringify(valid.err)}`);
    received.push({ pri: Number(h[1]), hostname: h[3]!, appName: h[4]!, msgid: h[6]!, sequenceId: Number(h[7]), xml, message: parser.parse(xml) });
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    received,
    errors,
    get connections() {
      return connections;
    },
    async waitFor(n, ms = 20_000) {
      const end = Date.now() + ms;
      while (received.length < n) {
        if (Date.now() > end) throw new Error(`only ${received.length} of ${n} audit messages arrived (errors: ${errors.join('; ')})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
