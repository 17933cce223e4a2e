/**
 * CSV as RFC 4180 reads it: comma-separated, CRLF line ends, a field quoted when it holds a comma,
 * a quote, CR or LF, with quotes doubled. A text cell that a spreadsheet would run as a formula
 * (it starts with = + - @, or a tab or CR that some spreadsheets skip first) gets a leading
 * apostrophe, as OWASP's "CSV Injection" advice says. Numbers are written as numbers.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function toCsv(
  header: readonly string[],
  rows: readonly (readonly (string | number | null)[])[],
): string {
  return [header, ...rows].map((row) => `${row.map(csvCell).join(',')}\r\n`).join('');
}
