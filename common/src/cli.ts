import { CommanderError, type Command } from 'commander';

/**
 * Runs a command line program; every failure becomes one clear line on stderr and a non-zero exit
 * status (WARDCERT_DEBUG=1 adds the stack).
 */
export async function runCli(program: Command, argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`${program.name()}: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.WARDCERT_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  }
}
