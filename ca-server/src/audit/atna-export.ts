import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { auditSyslogSchema } from '../config/server-config.js';
import type { AuditEntry } from '../store/index.js';
import { atnaMessage, type AtnaSource } from './atna-message.js';
import { startAtnaSender, type AtnaSender } from './atna-sender.js';
import { atnaSpool } from './atna-spool.js';
import { octetCountedFrame, syslogMessage } from './syslog-frame.js';

export type AuditSyslogConfig = z.infer<typeof auditSyslogSchema>;

/** Spools each stored entry as an ATNA syslog frame; for a recorder's onStored. */
export type SpoolEntries = (entries: AuditEntry[]) => Promise<void>;

/** The spool writer alone: CLI commands spool, the server beside them sends. */
export function atnaSpoolWriter(dataDir: string, afterPut: () => void = () => undefined): SpoolEntries {
  const spool = atnaSpool(dataDir);
  const host = hostname();
  const source: AtnaSource = { sourceId: `wardcert-ca@${host}`, hostname: host };
  return async (entries) => {
    if (entries.length === 0) return;
    const frames = entries.map((e) =>
      octetCountedFrame(syslogMessage({ at: e.at, hostname: host, failure: e.outcome === 'failure', seq: e.seq, xml: atnaMessage(e, source) })),
    );
    await spool.put(entries[0]!.seq, Buffer.concat(frames));
    afterPut();
  };
}

export interface AtnaExport {
  spoolEntries: SpoolEntries;
  stop(): Promise<void>;
}

/** The server's ATNA export: a spool in the data directory and the sender that empties it. */
export async function startAtnaExport(dataDir: string, config: AuditSyslogConfig, logger: Logger): Promise<AtnaExport> {
  const url = /^tls:\/\/\[?([^\]]+?)\]?:(\d+)$/.exec(config.url);
  const port = Number(url?.[2]);
  if (!url || !(port >= 1 && port <= 65535)) throw new Error(`audit.syslog.url: "${config.url}" is not tls://HOST:PORT`);
  const read = (key: string, file: string) =>
    readFile(file, 'utf8').catch((err: Error) => {
      throw new Error(`audit.syslog.${key}: cannot read ${file}: ${err.message}`);
    });
  const sender: AtnaSender = startAtnaSender({
    spool: atnaSpool(dataDir),
    host: url[1]!,
    port,
    trust: await read('trust', config.trust),
    ...(config.cert && config.key ? { cert: await read('cert', config.cert), key: await read('key', config.key) } : {}),
    logger,
  });
  logger.info({ event: 'atna.enabled', url: config.url }, 'audit events go to the Audit Record Repository');
  return { spoolEntries: atnaSpoolWriter(dataDir, () => sender.poke()), stop: () => sender.stop() };
}
