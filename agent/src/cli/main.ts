import { runCli } from '@wardcert/common';
import { Command } from 'commander';
import { createRequire } from 'node:module';
import pino from 'pino';
import { createAgent } from '../agent.js';
import { loadAgentConfig } from '../config/load.js';
import { askDaemon } from '../control-socket.js';
import { stateLayout } from '../keystore/state.js';
import { readStatus } from '../status.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command('wardcert-agent')
    .description('Wardcert agent: keeps a DICOM/HL7 gateway certificate valid and its TLS listeners current')
    .version(version)
    .exitOverride();

  program
    .command('run')
    .description('the daemon: renew on time, keep listeners current, answer the control socket')
    .requiredOption('--config <FILE>', 'agent configuration (YAML)')
    .action(async (opts: { config: string }) => {
      const agent = createAgent(await loadAgentConfig(opts.config));
      // Handlers first: a stop may come while the first renewal is still under way. Files are written
      // atomically, so leaving a renewal unfinished loses nothing.
      const stop = () => void agent.stop().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await agent.start();
    });

  program
    .command('renew')
    .description('make sure a valid certificate exists (asks a running daemon, else renews itself)')
    .requiredOption('--config <FILE>', 'agent configuration (YAML)')
    .option('--force', 'renew now, even if the certificate is not due')
    .action(async (opts: { config: string; force?: boolean }) => {
      const config = await loadAgentConfig(opts.config);
      const answer = await askDaemon(stateLayout(config.state).socket, { cmd: 'renew', force: !!opts.force });
      if (answer) {
        if (!answer.ok) throw new Error(answer.error ?? 'the daemon could not renew');
        process.stdout.write(`${JSON.stringify(answer.result)}\n`);
        return;
      }
      // One-shot: the result is stdout, for scripts; the log goes to stderr.
      const agent = createAgent(config, pino({ level: 'info', base: { service: 'wardcert-agent' } }, pino.destination(2)));
      await agent.load();
      process.stdout.write(`${JSON.stringify(await agent.ensureCertificate({ force: !!opts.force }))}\n`);
    });

  program
    .command('status')
    .description("the certificate, the next renewal, the listeners' health and the last error")
    .requiredOption('--config <FILE>', 'agent configuration (YAML)')
    .option('--json', 'print JSON')
    .action(async (opts: { config: string; json?: boolean }) => {
      const config = await loadAgentConfig(opts.config);
      const paths = stateLayout(config.state);
      const live = await askDaemon(paths.socket, { cmd: 'status' }, 10_000);
      const status = live?.ok ? live.result : ((await readStatus(paths.status)) ?? (await statusFromState(config)));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(status)}\n`);
        return;
      }
      const s = status as ReturnType<ReturnType<typeof createAgent>['status']>;
      process.stdout.write(
        [
          `certificate: ${s.certificate ? `${s.certificate.serial}, valid until ${s.certificate.notAfter}, ${s.certificate.identifiers.join(', ')}` : 'none'}`,
          `next renewal: ${s.nextRenewal ?? 'unknown'}`,
          ...s.listeners.map((l) => `listener ${l.kind} ${l.listen}: ${l.ok === null ? 'not probed' : l.ok ? 'ok' : 'FAILING'} (serves ${l.servedSerial ?? '-'})`),
          `last error: ${s.lastError ?? 'none'}`,
          '',
        ].join('\n'),
      );
    });
  return program;
}

/** With no daemon and no saved status: what the state directory alone says. */
async function statusFromState(config: Awaited<ReturnType<typeof loadAgentConfig>>) {
  const agent = createAgent(config, pino({ level: 'silent' }));
  await agent.load();
  return agent.status();
}

export function main(argv: string[]): Promise<void> {
  return runCli(buildProgram(), argv);
}
