import { describe, expect, it } from 'vitest';
import { csvCell, csvRow, csvStream } from '../src/admin/csv.js';

describe('CSV export cells', () => {
  it('quotes commas, quotes and line breaks as RFC 4180 says', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(null)).toBe('');
    expect(csvCell(42)).toBe('42');
  });

  it('defuses cells a spreadsheet would run as formulas', () => {
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-cmd')).toBe("'-cmd");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell('a=b')).toBe('a=b');
  });

  it('streams a header and rows with CRLF line ends', async () => {
    async function* rows() {
      yield { a: 'x', b: 1 };
      yield { a: '=y', b: 2 };
    }
    let out = '';
    for await (const chunk of csvStream(['a', 'b'], rows(), (r) => [r.a, r.b])) out += chunk;
    expect(out).toBe("a,b\r\nx,1\r\n'=y,2\r\n");
    expect(csvRow(['1', '2'])).toBe('1,2\r\n');
  });
});
