import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export function buildProgram(): Command {
  return new Command('wardcert-agent')
    .description('Wardcert agent: keeps a DICOM/HL7 gateway certificate valid and its TLS listeners current')
    .version(version)
    .exitOverride();
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`wardcert-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
