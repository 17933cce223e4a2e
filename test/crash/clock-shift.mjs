// Preloaded into a crash run's service (node --import): moves the instance's clock forward by
// CRASH_CLOCK_OFFSET_MS. A restarted instance then lives "a minute later", as it would after a
// real crash and restart, so claims its dead predecessor left behind (Idempotency-Key claims,
// reconciler leases) are stale without the test waiting a real minute.
const offset = Number(process.env.CRASH_CLOCK_OFFSET_MS ?? 0);
if (offset !== 0) {
  const realNow = Date.now;
  Date.now = () => realNow() + offset;
}
