import { InvalidArgumentError } from 'commander';

/** Collects a repeatable option (`--permit-dns a --permit-dns b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function integerIn(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return Number(value);
  };
}
