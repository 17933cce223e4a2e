/** One Server-Sent Events message: `id` is set by a bare `id:` block too (then `data` is empty). */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * Reads a text/event-stream body into messages, as the WHATWG EventSource does: fields per line,
 * a blank line ends a message, `:` lines are comments (heartbeats), and a block with an id but no
 * data still moves the last event id. Any chunk at all (a heartbeat included) calls `alive`.
 */
export async function* readSse(
  body: AsyncIterable<Uint8Array>,
  alive: () => void = () => {},
): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  let sawId = false;
  for await (const chunk of body) {
    alive();
    buffer += decoder.decode(chunk, { stream: true });
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        if (data.length > 0 || sawId) yield { id, event: event || 'message', data: data.join('\n') };
        event = '';
        data = [];
        sawId = false;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
      else if (field === 'id' && !value.includes('\0')) {
        id = value;
        sawId = true;
      }
    }
  }
}
