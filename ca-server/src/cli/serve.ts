import type { Command } from 'commander';
import { loadServerConfig } from '../config/server-config.js';
import { startServer, type RunningServer } from '../server/server.js';
import { integerIn } from './options.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the CA: ACME over HTTPS; CRL, OCSP, CA certificates and /metrics over HTTP')
    .requiredOption('--config <FILE>', 'server configuration (YAML)')
    .option('--port <n>', 'HTTPS (ACME) port, overriding the config', integerIn(0, 65535))
    .option('--http-port <n>', 'HTTP port, overriding the config', integerIn(0, 65535))
    .action(async (opts: { config: string; port?: number; httpPort?: number }) => {
      const config = await loadServerConfig(opts.config);
      if (opts.port !== undefined) config.listen.port = opts.port;
      if (opts.httpPort !== undefined) config.listen.httpPort = opts.httpPort;
      await runUntilSignal(await startServer(config));
    });
}

/** Keeps the server up until SIGINT or SIGTERM, then closes it cleanly. */
export function runUntilSignal(server: RunningServer): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      server.logger.info({ event: 'server.stopping', signal }, 'stopping');
      void server.close().then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
