import type { Command } from 'commander';
import { formatDuration } from '../config/duration.js';
import { BUNDLED_PROFILES_DIR, loadProfiles } from '../pki/profiles.js';
import { info } from './output.js';

export function registerProfileCommands(program: Command): void {
  program
    .command('profile')
    .description('certificate profiles')
    .command('check')
    .description('validate every profile in a directory (default: the bundled profiles)')
    .argument('[dir]', 'profile directory', BUNDLED_PROFILES_DIR)
    .action(async (dir: string) => {
      const profiles = await loadProfiles(dir);
      for (const p of profiles.values()) {
        const legacy = p.legacyRsa2048 ? ' +legacy rsa-2048' : '';
        info(
          `ok ${p.name}: ${p.extendedKeyUsage.join('+')}, ${p.identifiers.types.join('/')} (max ${p.identifiers.max}), ` +
            `validity ${formatDuration(p.validity.default)} (max ${formatDuration(p.validity.max)}), keys ${p.keyAlgorithms.join(' ')}${legacy}`,
        );
      }
    });
}
