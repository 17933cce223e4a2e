import { describe, expect, it } from 'vitest';
import { readSse, type SseMessage } from './sse-reader.js';

async function read(chunks: string[]): Promise<SseMessage[]> {
  const encoder = new TextEncoder();
  async function* body() {
    for (const c of chunks) yield encoder.encode(c);
  }
  const messages: SseMessage[] = [];
  for await (const m of readSse(body())) messages.push(m);
  return messages;
}

describe('reading Server-Sent Events', () => {
  it('reads id, event and data, skipping comments, across chunk boundaries and line endings', async () => {
    const messages = await read([
      'retry: 2000\nid: 4\n\n: heartbeat\n\nid: 5\nev',
      'ent: payment.succeeded\r\ndata: {"a":',
      '1}\r\n\r\ndata: one\ndata: two\n\n',
    ]);
    expect(messages).toEqual([
      { id: '4', event: 'message', data: '' },
      { id: '5', event: 'payment.succeeded', data: '{"a":1}' },
      { id: '5', event: 'message', data: 'one\ntwo' },
    ]);
  });

  it('drops a message the stream did not finish', async () => {
    expect(await read(['id: 9\nevent: x\ndata: half'])).toEqual([]);
  });
});
