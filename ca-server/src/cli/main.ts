import { runCli } from '@wardcert/common';
import { Command } from 'commander';
import { registerAuditCommands } from './audit.js';
import { registerIntermediateCommands } from './intermediate.js';
import { registerIssueCommand } from './issue.js';
import { registerProfileCommands } from './profile.js';
import { registerRootCommands } from './root.js';
import { registerDeviceCommands } from './device.js';
import { registerEabCommands } from './eab.js';
import { registerQuickstartCommand } from './quickstart.js';
import { registerRenewNowCommand } from './renew-now.js';
import { registerServeCommand } from './serve.js';
import { registerUserCommands } from './user.js';

export function buildProgram(): Command {
  const program = new Command('wardcert-ca')
    .description('Wardcert: an intranet ACME certificate authority for hospital DICOM and HL7 networks')
    .showHelpAfterError()
    .exitOverride();
  registerRootCommands(program);
  registerIntermediateCommands(program);
  registerIssueCommand(program);
  registerProfileCommands(program);
  registerServeCommand(program);
  registerQuickstartCommand(program);
  registerEabCommands(program);
  registerDeviceCommands(program);
  registerUserCommands(program);
  registerRenewNowCommand(program);
  registerAuditCommands(program);
  return program;
}

/** Runs the CLI; every failure becomes one clear line on stderr and a non-zero exit status. */
export function main(argv: string[]): Promise<void> {
  return runCli(buildProgram(), argv);
}
