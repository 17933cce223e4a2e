/**
 * A few Prometheus metrics, written out in the text exposition format. The set is small
 * (orders by state, notifications by outcome, upstream latency), so a dependency would add
 * more than it saves.
 */
const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

interface Histogram {
  buckets: number[];
  sum: number;
  count: number;
}

export interface Metrics {
  notification(outcome: string): void;
  upstream(api: string, outcome: string, ms: number): void;
  /** Renders every metric; `orderCounts` is read from the database at scrape time. */
  render(orderCounts: Readonly<Record<string, number>>): string;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function createMetrics(): Metrics {
  const notifications = new Map<string, number>();
  const upstreamCalls = new Map<string, number>();
  const latency = new Map<string, Histogram>();
  return {
    notification(outcome) {
      notifications.set(outcome, (notifications.get(outcome) ?? 0) + 1);
    },
    upstream(api, outcome, ms) {
      const callKey = `api="${escapeLabel(api)}",outcome="${escapeLabel(outcome)}"`;
      upstreamCalls.set(callKey, (upstreamCalls.get(callKey) ?? 0) + 1);
      let h = latency.get(api);
      if (!h) {
        h = { buckets: LATENCY_BUCKETS_MS.map(() => 0), sum: 0, count: 0 };
        latency.set(api, h);
      }
      LATENCY_BUCKETS_MS.forEach((le, i) => {
        if (ms <= le) h.buckets[i]! += 1;
      });
      h.sum += ms / 1000;
      h.count += 1;
    },
    render(orderCounts) {
      const lines: string[] = ['# HELP weapp_pay_orders Orders by state.', '# TYPE weapp_pay_orders gauge'];
      for (const [state, n] of Object.entries(orderCounts))
        lines.push(`weapp_pay_orders{state="${state}"} ${n}`);
      lines.push('# HELP weapp_pay_notifications_total Payment notifications by outcome.');
      lines.push('# TYPE weapp_pay_notifications_total counter');
      for (const [outcome, n] of notifications) {
        lines.push(`weapp_pay_notifications_total{outcome="${escapeLabel(outcome)}"} ${n}`);
      }
      lines.push('# HELP weapp_pay_upstream_requests_total Calls to WeChat by API and outcome.');
      lines.push('# TYPE weapp_pay_upstream_requests_total counter');
      for (const [labels, n] of upstreamCalls)
        lines.push(`weapp_pay_upstream_requests_total{${labels}} ${n}`);
      lines.push('# HELP weapp_pay_upstream_duration_seconds Latency of calls to WeChat.');
      lines.push('# TYPE weapp_pay_upstream_duration_seconds histogram');
      for (const [api, h] of latency) {
        const a = escapeLabel(api);
        LATENCY_BUCKETS_MS.forEach((le, i) => {
          lines.push(
            `weapp_pay_upstream_duration_seconds_bucket{api="${a}",le="${le / 1000}"} ${h.buckets[i]}`,
          );
        });
        lines.push(`weapp_pay_upstream_duration_seconds_bucket{api="${a}",le="+Inf"} ${h.count}`);
        lines.push(`weapp_pay_upstream_duration_seconds_sum{api="${a}"} ${h.sum}`);
        lines.push(`weapp_pay_upstream_duration_seconds_count{api="${a}"} ${h.count}`);
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
