// The slice of jsdom the page renderer's set-up uses (jsdom ships no types of its own, and the
// project's TypeScript has no DOM lib: only Node and the mini program's typings).
declare module 'jsdom' {
  export interface DomWindow {
    document: { createElement(tag: string): unknown };
    getComputedStyle(element: unknown): unknown;
    requestAnimationFrame(callback: (time: number) => void): number;
  }
  export class JSDOM {
    constructor(html?: string, options?: { pretendToBeVisual?: boolean });
    readonly window: DomWindow;
  }
}
