import { type V3Outcome, v3Error } from './outcomes.js';

/**
 * The shape checks WeChat runs on a v3 JSON body before its business rules: types, required
 * fields, lengths in UTF-8 bytes, fixed values. A failure is `400 PARAM_ERROR` with `detail`
 * naming the field as a JSON pointer, like WeChat's `#/properties/payer`.
 */

export type JsonSpec =
  | { type: 'string'; required?: boolean; maxBytes?: number; oneOf?: readonly string[] }
  | { type: 'integer'; required?: boolean }
  | { type: 'boolean'; required?: boolean }
  | { type: 'array'; required?: boolean }
  | { type: 'object'; required?: boolean; fields?: Record<string, JsonSpec> };

export type JsonFields = Record<string, JsonSpec>;

const typeOf = (v: unknown): string =>
  Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : v === null ? 'null' : typeof v;

function problem(value: unknown, spec: JsonSpec, pointer: string): V3Outcome | undefined {
  const at = { field: pointer, location: 'body' };
  if (value === undefined) {
    return spec.required
      ? v3Error(400, 'PARAM_ERROR', `缺少参数 ${pointer}`, { ...at, issue: '必填' })
      : undefined;
  }
  if (typeOf(value) !== spec.type) {
    return v3Error(400, 'PARAM_ERROR', `参数类型错误 ${pointer}`, {
      ...at,
      value,
      issue: `应为${spec.type}`,
    });
  }
  if (spec.type === 'string') {
    const s = value as string;
    if (spec.maxBytes !== undefined && Buffer.byteLength(s, 'utf8') > spec.maxBytes) {
      return v3Error(400, 'PARAM_ERROR', `参数长度超限 ${pointer}`, {
        ...at,
        value: s,
        issue: `最多${spec.maxBytes}字节`,
      });
    }
    if (spec.oneOf && !spec.oneOf.includes(s)) {
      return v3Error(400, 'PARAM_ERROR', `参数值无效 ${pointer}`, {
        ...at,
        value: s,
        issue: spec.oneOf.join('|'),
      });
    }
  }
  if (spec.type === 'object' && spec.fields)
    return checkJson(value as Record<string, unknown>, spec.fields, pointer);
  return undefined;
}

/** The first problem of `body` against `fields`, or `undefined`. */
export function checkJson(
  body: Record<string, unknown>,
  fields: JsonFields,
  pointer = '#',
): V3Outcome | undefined {
  for (const [name, spec] of Object.entries(fields)) {
    const found = problem(body[name], spec, `${pointer}/properties/${name}`);
    if (found) return found;
  }
  return undefined;
}

/** The body as a JSON object, or WeChat's answer to one that is not. */
export function parseJsonObject(
  raw: string,
): { ok: true; value: Record<string, unknown> } | { ok: false; outcome: V3Outcome } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: false, outcome: v3Error(400, 'PARAM_ERROR', '请求体不是合法的JSON') };
  }
  if (typeOf(parsed) !== 'object')
    return { ok: false, outcome: v3Error(400, 'PARAM_ERROR', '请求体应为JSON对象') };
  return { ok: true, value: parsed as Record<string, unknown> };
}
