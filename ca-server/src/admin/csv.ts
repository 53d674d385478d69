import { Readable } from 'node:stream';

/**
 * One CSV cell (RFC 4180). A cell that a spreadsheet would read as a formula (= + - @, or a tab or
 * carriage return before one) gets a leading apostrophe, so an exported name cannot run code.
 */
export function csvCell(value: string | number | null | undefined): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const csvRow = (cells: (string | number | null | undefined)[]): string => `${cells.map(csvCell).join(',')}\r\n`;

/** Streams a header and rows as CSV, without holding the whole set in memory. */
export function csvStream<T>(header: string[], rows: AsyncIterable<T>, toCells: (row: T) => (string | number | null | undefined)[]): Readable {
  return Readable.from(
    (async function* () {
      yield csvRow(header);
      for await (const row of rows) yield csvRow(toCells(row));
    })(),
  );
}
