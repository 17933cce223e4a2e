/**
 * `load`'s answer kept for `ttlMs`: calls within that time get the same answer without running
 * `load` again, and calls while a load is running share it. A failed load is not kept.
 *
 * /metrics counts orders by state with a query that reads the whole orders table; with this, two
 * scrapers (or a scraper and a dashboard) a few seconds apart pay for one count.
 *
 * @example
 * const countOrders = cachedFor(5000, () => orders.countByStatus());
 */
export function cachedFor<T>(
  ttlMs: number,
  load: () => Promise<T>,
  now: () => number = () => performance.now(),
): () => Promise<T> {
  let kept: { value: T; at: number } | undefined;
  let loading: Promise<T> | undefined;
  return () => {
    if (kept && now() - kept.at < ttlMs) return Promise.resolve(kept.value);
    loading ??= load().then(
      (value) => {
        kept = { value, at: now() };
        loading = undefined;
        return value;
      },
      (err: unknown) => {
        loading = undefined;
        throw err;
      },
    );
    return loading;
  };
}
