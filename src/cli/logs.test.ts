import { describe, expect, it } from 'vitest';
import { painter, wantsColour } from './colour.js';
import { formatEntry } from './logs.js';

const entry = {
  seq: 7,
  time: '2026-12-02T06:57:40.106Z',
  level: 'warn' as const,
  kind: 'notification' as const,
  method: 'POST',
  path: '/payment/wxnotify',
  status: 200,
  outcome: 'bad_signature',
  durationMs: 21.7,
  orderId: '4b1c',
};

describe('a logs line', () => {
  it('reads time, level, what, status, duration, outcome and order, plain without colour', () => {
    expect(formatEntry(entry, painter(false))).toBe(
      '06:57:40.106 WARN  notification POST /payment/wxnotify 200 21.7 ms  bad_signature  order 4b1c\n',
    );
  });

  it('does not repeat an order id the path already shows', () => {
    const line = formatEntry(
      { ...entry, kind: 'request', path: '/api/orders/4b1c', outcome: null },
      painter(false),
    );
    expect(line).toBe('06:57:40.106 WARN  POST /api/orders/4b1c 200 21.7 ms\n');
  });

  it('is coloured on a terminal, and not when NO_COLOR is set or output is piped', () => {
    const coloured = formatEntry(entry, painter(wantsColour(true, {})));
    expect(coloured).toContain('\u001b[33mWARN \u001b[0m');
    expect(coloured).toContain('\u001b[32m200\u001b[0m');
    expect(formatEntry(entry, painter(wantsColour(true, { NO_COLOR: '1' })))).not.toContain('\u001b[');
    expect(formatEntry(entry, painter(wantsColour(false, {})))).not.toContain('\u001b[');
  });
});
