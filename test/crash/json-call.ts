/** One HTTP call of a test driver, its answer read as JSON when it is JSON (a relay's 502 is not). */
export interface JsonAnswer {
  status: number;
  json: unknown;
  headers: Headers;
}

export async function callJson(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonAnswer> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (a 502 from the relay): keep the text.
  }
  return { status: res.status, json, headers: res.headers };
}
