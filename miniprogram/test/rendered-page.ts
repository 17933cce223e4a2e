/**
 * A rendered page as a person meets it: the text on screen, buttons found by their label,
 * taps, and waiting (in real time, bounded) for the backend's answer to show up.
 */
import type { RootComponent } from 'miniprogram-simulate';

// biome-ignore lint/suspicious/noExplicitAny: the renderer's component type is generic over page data.
type Rendered = RootComponent<any, any, any>;

export interface Button {
  id: string;
  label: string;
  disabled: boolean;
}

export interface RenderedPage {
  comp: Rendered;
  /** Everything on screen, whitespace collapsed. */
  text(): string;
  /** The buttons on screen, in order, with their label and whether they are disabled. */
  buttons(): Button[];
  /** Taps the button with this id, after checking it says `label`. */
  tap(id: string, label: string): void;
  waitForText(text: string, timeoutMs?: number): Promise<void>;
  waitFor(check: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  detach(): void;
}

interface Node {
  tagName?: string;
  attrs?: Array<{ name: string; value: unknown }>;
  children?: Array<Node | string>;
}

/** `root` is the element the page is drawn into, as WeChat gives each page its own. */
export function renderedPage(comp: Rendered, root: unknown): RenderedPage {
  comp.attach(root as Parameters<Rendered['attach']>[0]);
  const text = () => (comp.dom?.textContent ?? '').replace(/\s+/g, ' ').trim();
  const buttons = () => findButtons(comp.toJSON() as Node);

  async function waitFor(check: () => boolean, what: string, timeoutMs = 8000) {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the page shows: ${text()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  return {
    comp,
    text,
    buttons,
    tap(id, label) {
      const shown = buttons().find((b) => b.id === id);
      if (shown?.label !== label) throw new Error(`no button "${label}" (#${id}); the page shows: ${text()}`);
      comp.querySelector(`#${id}`)?.dispatchEvent('tap');
    },
    waitForText: (wanted, timeoutMs) => waitFor(() => text().includes(wanted), `"${wanted}"`, timeoutMs),
    waitFor,
    detach: () => comp.detach(),
  };
}

/** Buttons as the renderer holds them: the attributes the template bound, and the label. */
function findButtons(node: Node | string): Button[] {
  if (typeof node === 'string') return [];
  if (node.tagName === 'wx-button') {
    const attr = (name: string) => node.attrs?.find((a) => a.name === name)?.value;
    return [
      {
        id: String(attr('id') ?? ''),
        label: textOf(node).trim(),
        disabled: attr('disabled') === true,
      },
    ];
  }
  return (node.children ?? []).flatMap(findButtons);
}

function textOf(node: Node | string): string {
  return typeof node === 'string' ? node : (node.children ?? []).map(textOf).join('');
}
