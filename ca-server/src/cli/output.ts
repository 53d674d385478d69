/** What the CLI tells a person: results on stdout, warnings on stderr, both plain lines for scripts. */
export function wrote(path: string, what: string): void {
  process.stdout.write(`wrote ${path} (${what})\n`);
}

export function info(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function warn(line: string): void {
  process.stderr.write(`warning: ${line}\n`);
}
