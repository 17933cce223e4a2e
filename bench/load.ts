/**
 * autocannon, the same way for every measurement: fixed connections, no pipelining, a fixed
 * duration, and a request source that can hand out a different body on each request.
 */
import autocannon from 'autocannon';

export interface LoadResult {
  requests: number;
  durationS: number;
  rps: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  /** Connection errors, timeouts, non-2xx answers and bodies that were not the expected one. */
  failures: number;
  failureDetail: string;
  /** Server CPU time per answered request, in microseconds (user + system, all threads). */
  serverCpuUsPerRequest?: number;
  /** Server CPU seconds per wall-clock second during the run: near 1 means one core saturated. */
  serverCpuLoad?: number;
  /** The load generator's (this process's) CPU time per request, in microseconds. */
  generatorCpuUsPerRequest: number;
}

export interface NextRequest {
  path?: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface LoadOptions {
  url: string;
  /** The process answering, to measure its CPU time during the run. */
  server?: { cpuSeconds(): number | undefined };
  connections: number;
  durationS: number;
  /** The next request; `undefined` once there is nothing left to send, which ends the run early. */
  next?: (context: Record<string, unknown>) => NextRequest | undefined;
  /** Called with each answer and the context `next` was given for that request. */
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
  /** An answer whose body differs from this counts as a failure. */
  expectBody?: string;
  /** Requests per second across all connections; absent: as fast as the server answers. */
  overallRate?: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let instance: autocannon.Instance | undefined;
  let exhausted = false;
  let last: NextRequest | undefined;
  const request: autocannon.Request = {};
  // A context is per connection and a connection has one request in flight (no pipelining), so
  // this marks the answer to a repeated request: sent after the source ran out, not measured.
  const REPEAT = Symbol('repeat');
  let repeatedFailures = 0;
  if (options.next) {
    const next = options.next;
    request.setupRequest = (req, context) => {
      const chosen = exhausted ? undefined : next(context as Record<string, unknown>);
      (context as Record<symbol, boolean>)[REPEAT] = chosen === undefined;
      if (!chosen) {
        // autocannon has no "done" signal here: stop it, and repeat the last request meanwhile.
        if (!exhausted) setImmediate(() => instance?.stop());
        exhausted = true;
      } else {
        last = chosen;
      }
      const use = chosen ?? last ?? {};
      return {
        ...req,
        ...(use.path ? { path: use.path } : {}),
        ...(use.method ? { method: use.method } : {}),
        ...(use.headers ? { headers: { ...req.headers, ...use.headers } } : {}),
        ...(use.body !== undefined ? { body: use.body } : {}),
      };
    };
  }
  // autocannon's own expectBody refuses to work together with `requests`.
  let mismatches = 0;
  const { onResponse, expectBody } = options;
  if (onResponse || expectBody !== undefined || options.next) {
    request.onResponse = (status, body, context) => {
      if ((context as Record<symbol, boolean>)[REPEAT]) {
        // A one-time body sent again (a used login code, a notification already answered) is
        // expected to fail; only the measured requests count.
        if (status >= 300) repeatedFailures++;
        return;
      }
      if (expectBody !== undefined && status < 300 && body !== expectBody) mismatches++;
      onResponse?.(status, body, context as Record<string, unknown>);
    };
  }
  const cpuBefore = options.server?.cpuSeconds();
  const ownBefore = process.cpuUsage();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        duration: options.durationS,
        ...(options.overallRate ? { overallRate: options.overallRate } : {}),
        requests: [request],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
  const requests = result.requests.total;
  const own = process.cpuUsage(ownBefore);
  const cpuAfter = options.server?.cpuSeconds();
  const cpu = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
  const failures = result.errors + result.non2xx - repeatedFailures + mismatches;
  return {
    requests,
    durationS: result.duration,
    rps: requests / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures,
    failureDetail:
      failures === 0
        ? ''
        : `errors=${result.errors} timeouts=${result.timeouts} non2xx=${result.non2xx - repeatedFailures} mismatches=${mismatches}`,
    generatorCpuUsPerRequest: requests > 0 ? (own.user + own.system) / requests : 0,
    ...(cpu !== undefined && requests > 0
      ? { serverCpuUsPerRequest: (cpu * 1e6) / requests, serverCpuLoad: cpu / result.duration }
      : {}),
  };
}
