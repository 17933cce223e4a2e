/** Colour when writing to a terminal and the user has not set NO_COLOR (https://no-color.org). */
export function wantsColour(isTty: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  return isTty && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

export const COLOURS = { green: '32', red: '31', yellow: '33', cyan: '36', dim: '2', bold: '1' } as const;
export type Colour = keyof typeof COLOURS;

/** `paint('red', text)` is the text in red when `enabled`, the text alone otherwise. */
export function painter(enabled: boolean): (colour: Colour, text: string) => string {
  return enabled ? (colour, text) => `\x1b[${COLOURS[colour]}m${text}\x1b[0m` : (_colour, text) => text;
}
