import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { loadServerConfig } from '../../src/config/server-config.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { freePort } from '../../../test/helpers/tools.js';
import { FIXTURE_PASSPHRASE, type AcmeFixture } from './acme-fixture.js';

/**
 * A real `serve` on the fixture's CA and store, its config in DIR/etc beside them: `files` are
 * written there (0600) and `yaml` lines are added to the config.
 */
export async function serverOnFixture(f: AcmeFixture, yaml: string[] = [], files: Record<string, string> = {}): Promise<RunningServer> {
  const etc = join(f.dir, 'etc');
  await mkdir(etc, { recursive: true });
  await writeFile(join(etc, 'ca.pass'), `${FIXTURE_PASSPHRASE}\n`, { mode: 0o600 });
  for (const [name, text] of Object.entries(files)) await writeFile(join(etc, name), text, { mode: 0o600 });
  await writeFile(join(etc, 'ca.yaml'), [
    'data: ..',
    'passphraseFile: ca.pass',
    `listen: { host: 127.0.0.1, port: ${await freePort()}, httpPort: ${await freePort()} }`,
    'server: { names: [127.0.0.1] }',
    'acme: { allow: { dns: [hospital.test], ip: [127.0.0.0/8] } }',
    ...yaml,
    '',
  ].join('\n'));
  return startServer(await loadServerConfig(join(etc, 'ca.yaml')), { logger: pino({ level: 'silent' }) });
}
