import { describe, expect, it } from 'vitest';
import { nextStatus, ORDER_STATUSES, type OrderStatus, statusesAllowing, TRANSITION_NAMES } from './order.js';

/** Every pair the table allows, written out by hand: anything not listed must be refused. */
const ALLOWED: Record<string, OrderStatus> = {
  'PENDING pay': 'PAID',
  'CLOSED pay': 'PAID',
  'PENDING close': 'CLOSED',
  'PAID partial_refund': 'PARTIALLY_REFUNDED',
  'PARTIALLY_REFUNDED partial_refund': 'PARTIALLY_REFUNDED',
  'PAID refund': 'REFUNDED',
  'PARTIALLY_REFUNDED refund': 'REFUNDED',
  'PENDING flag': 'REVIEW',
  'CLOSED flag': 'REVIEW',
};

describe('the order transition table', () => {
  const pairs = ORDER_STATUSES.flatMap((from) => TRANSITION_NAMES.map((event) => [from, event] as const));

  it('names the five events and covers every status × event pair below', () => {
    expect([...TRANSITION_NAMES].sort()).toEqual(['close', 'flag', 'partial_refund', 'pay', 'refund']);
    expect(pairs).toHaveLength(6 * 5);
  });

  it.each(pairs)('%s --%s--> as listed, or refused', (from, event) => {
    expect(nextStatus(from, event)).toBe(ALLOWED[`${from} ${event}`]);
  });

  it('gives the store exactly the old states it allows for each event', () => {
    expect(statusesAllowing('pay')).toEqual(['PENDING', 'CLOSED']);
    expect(statusesAllowing('close')).toEqual(['PENDING']);
    expect(statusesAllowing('partial_refund')).toEqual(['PAID', 'PARTIALLY_REFUNDED']);
    expect(statusesAllowing('refund')).toEqual(['PAID', 'PARTIALLY_REFUNDED']);
    expect(statusesAllowing('flag')).toEqual(['PENDING', 'CLOSED']);
  });

  it('never lets REVIEW or REFUNDED move: a person or a refund record owns them', () => {
    for (const event of TRANSITION_NAMES) {
      expect(nextStatus('REVIEW', event)).toBeUndefined();
      expect(nextStatus('REFUNDED', event)).toBeUndefined();
    }
  });
});
