import { randomBytes } from 'node:crypto';
import { Client, Message } from 'node-hl7-client';
import type { CertificatePair } from '../keystore/state.js';
import { probeAddress, type ProbeResult } from './tls-handshake.js';

const ACCEPTED = new Set(['AA', 'CA']);

/**
 * The default probe message: HL7 network management (NMD^N02, chapter 14), meant for exactly this
 * kind of link check: no patient, no order, nothing an engine acts on. MSH-10 is new every time.
 */
export function defaultProbeMessage(now = new Date()): string {
  const ts = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return [`MSH|^~\\&|WARDCERT|PROBE|ANY|ANY|${ts}||NMD^N02^NMD_N02|WC${randomBytes(6).toString('hex').toUpperCase()}|P|2.5.1`, `NCK|${ts}`].join('\r');
}

/**
 * Sends one HL7 v2 message over MLLP/TLS through an hl7 front with node-hl7-client and expects an
 * ACK with MSA-1 AA or CA. The chain is verified against the hospital root; the host name is not
 * (loopback, see the handshake probe, which has already compared the serial).
 */
export function probeHl7(o: { host: string; port: number; trust: string; client?: CertificatePair; message?: string; timeoutMs: number }): Promise<ProbeResult> {
  let text = o.message ?? defaultProbeMessage();
  text = text.replace(/\r?\n/g, '\r').replace(/\r+$/, '');
  let message: Message;
  try {
    message = new Message({ text });
  } catch (err) {
    return Promise.resolve({ ok: false, detail: `the probe message is not HL7 v2: ${(err as Error).message}` });
  }
  return new Promise((resolve) => {
    const client = new Client({
      host: probeAddress(o.host),
      maxConnectionAttempts: 1,
      tls: { ca: o.trust, minVersion: 'TLSv1.2', checkServerIdentity: () => undefined, ...(o.client ? { key: o.client.key, cert: o.client.chain } : {}) },
    });
    let settled = false;
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void connection.close().catch(() => undefined);
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, detail: `no ACK within ${o.timeoutMs} ms` }), o.timeoutMs);
    const connection = client.createConnection({ port: o.port, waitAck: true }, async (reply) => {
      const code = reply.getMessage().get('MSA.1').toString();
      finish(ACCEPTED.has(code) ? { ok: true, detail: `ACK ${code}` } : { ok: false, detail: `ACK ${code || 'without MSA-1'}` });
    });
    connection.on('client.error', (err: Error) => finish({ ok: false, detail: err?.message ?? String(err) }));
    connection.sendMessage(message).catch((err: Error) => finish({ ok: false, detail: err.message }));
  });
}
