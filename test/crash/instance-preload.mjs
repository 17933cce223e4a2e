// Preloaded into every service instance of a crash run (node --import). Test harness only.
//
// 1. Moves the instance's clock forward by CRASH_CLOCK_OFFSET_MS. A restarted instance then
//    lives "a minute later", as it would after a real crash and restart, so claims its dead
//    predecessor left behind (Idempotency-Key claims, reconciler leases) are stale without the
//    test waiting a real minute.
//    The chaos runs also move it while it runs: a message { clockOffsetMs } on the IPC channel
//    sets the offset (answered { clockOffsetMs } once applied), as a clock jump would.
// 2. Dies with the test: if the process that started it goes away (a test runner killed or
//    timed out), the instance stops instead of running on as an orphan.
let offset = Number(process.env.CRASH_CLOCK_OFFSET_MS ?? 0);
const realNow = Date.now;
Date.now = () => realNow() + offset;
if (process.send) {
  process.on('message', (message) => {
    if (typeof message?.clockOffsetMs !== 'number') return;
    offset = message.clockOffsetMs;
    process.send?.({ clockOffsetMs: offset });
  });
  // The channel must not keep a gracefully stopped instance alive.
  process.channel?.unref();
}
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
}, 500).unref();
