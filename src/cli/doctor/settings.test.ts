import { describe, expect, it } from 'vitest';
import { checkNotifyUrl } from './settings.js';

describe('checkNotifyUrl', () => {
  it("passes each API version's own notification route", () => {
    expect(checkNotifyUrl('https://shop.example.com/payment/wxnotify', 'v2').status).toBe('ok');
    expect(checkNotifyUrl('https://shop.example.com/payment/wxnotify/v3', 'v3').status).toBe('ok');
  });

  it("warns when the URL is the other version's route, and says so", () => {
    const v3OnV2Route = checkNotifyUrl('https://shop.example.com/payment/wxnotify', 'v3');
    expect(v3OnV2Route.status).toBe('warn');
    expect(v3OnV2Route.message).toContain('does not end in /payment/wxnotify/v3');
    expect(v3OnV2Route.message).toContain('the API v2 route, and this service speaks v3');
    expect(v3OnV2Route.fix).toContain('WECHAT_NOTIFY_URL=https://shop.example.com/payment/wxnotify/v3');

    const v2OnV3Route = checkNotifyUrl('https://shop.example.com/payment/wxnotify/v3', 'v2');
    expect(v2OnV3Route.status).toBe('warn');
    expect(v2OnV3Route.message).toContain('the API v3 route, and this service speaks v2');
  });

  it('warns on any other path, which only a rewriting proxy makes right', () => {
    const other = checkNotifyUrl('https://shop.example.com/pay/notify', 'v3');
    expect(other.status).toBe('warn');
    expect(other.message).toBe('WECHAT_NOTIFY_URL does not end in /payment/wxnotify/v3 (it is /pay/notify)');
    expect(other.fix).toMatch(/^fine if a proxy rewrites it; otherwise /);
  });
});
