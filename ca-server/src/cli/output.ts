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

/** A listing: one JSON array for scripts (--json), else a line per item, or "no ITEMS". */
export function printListing<T>(items: readonly T[], json: boolean | undefined, plural: string, line: (item: T) => string): void {
  if (json) info(JSON.stringify(items));
  else if (items.length === 0) info(`no ${plural}`);
  else for (const item of items) info(line(item));
}
