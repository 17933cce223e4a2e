/**
 * Integer fen to a yuan label, with integer arithmetic only (1999 → "¥19.99").
 *
 * @example
 * formatFen(1999); // '¥19.99'
 */
export function formatFen(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}¥${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
