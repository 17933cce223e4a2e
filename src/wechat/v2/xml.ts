import { isUtf8 } from 'node:buffer';
import { XmlError } from '../errors.js';

/**
 * The strict codec for API v2 XML.
 *
 * WeChat's v2 messages are always one flat `<xml>` element whose children each hold text or
 * CDATA. This scanner accepts exactly that and refuses everything else, before anything in the
 * document is resolved: no DTD, no entity beyond the five predefined ones (numeric character
 * references included, they are how "thousands of `&#65;`" attacks are written), no processing
 * instruction, no comment, no nesting, no repeated field, no attribute, no bytes that are not
 * UTF-8. A general XML parser is where the XXE and entity-expansion CVEs live (CVE-2018-13439,
 * CVE-2018-20318, CVE-2026-26278); this one cannot expand anything.
 *
 * One concession: an XML declaration (`<?xml version="1.0" encoding="UTF-8"?>`) at the very
 * start is accepted, because common SDKs emit one. It must declare UTF-8 if it names an encoding.
 */

/** A real notification is 1–2 KB; 64 KiB is ample. */
export const DEFAULT_MAX_XML_BYTES = 64 * 1024;

export interface ParseXmlOptions {
  /** Reject input larger than this many bytes. Default {@link DEFAULT_MAX_XML_BYTES}. */
  maxBytes?: number;
  /** Name of the root element. `xml` for messages; the decrypted refund `req_info` uses `root`. */
  root?: string;
}

const ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * Parses a flat v2 document into a map of field → text. The map has no prototype, so a field
 * called `__proto__` or `constructor` is just a field.
 *
 * @throws {XmlError} with a code that says what was wrong.
 * @example
 * parseXml('<xml><return_code><![CDATA[SUCCESS]]></return_code><total_fee>1</total_fee></xml>')
 * // { return_code: 'SUCCESS', total_fee: '1' }
 */
export function parseXml(
  input: Buffer | Uint8Array | string,
  options: ParseXmlOptions = {},
): Record<string, string> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_XML_BYTES;
  const text = decode(input, maxBytes);
  return scan(text, options.root ?? 'xml');
}

function decode(input: Buffer | Uint8Array | string, maxBytes: number): string {
  if (typeof input === 'string') {
    if (input.length > maxBytes || (input.length * 3 > maxBytes && Buffer.byteLength(input) > maxBytes)) {
      throw new XmlError('XML_TOO_LARGE', `XML body is larger than ${maxBytes} bytes`);
    }
    if (input.charCodeAt(0) === 0xfeff)
      throw new XmlError('XML_BOM', 'XML body starts with a byte-order mark', 0);
    return input;
  }
  if (input.length > maxBytes)
    throw new XmlError('XML_TOO_LARGE', `XML body is larger than ${maxBytes} bytes`);
  if (input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf) {
    throw new XmlError('XML_BOM', 'XML body starts with a byte-order mark', 0);
  }
  if (!isUtf8(input)) throw new XmlError('XML_NOT_UTF8', 'XML body is not valid UTF-8');
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e;
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i;
}

/** Explains a `<!…` or `<?…` found where it is not allowed. */
function markupError(s: string, i: number): XmlError {
  if (s.charCodeAt(i + 1) === 0x3f) {
    return new XmlError('XML_PROCESSING_INSTRUCTION', 'processing instructions are not allowed', i);
  }
  const head = s.slice(i, i + 9).toUpperCase();
  if (head.startsWith('<!DOCTYPE') || head.startsWith('<!ENTITY') || head.startsWith('<!ELEMENT')) {
    return new XmlError('XML_DOCTYPE', 'DOCTYPE and ENTITY declarations are not allowed', i);
  }
  if (head.startsWith('<![CDATA[')) return new XmlError('XML_MALFORMED', 'CDATA outside a field', i);
  return new XmlError('XML_UNSUPPORTED_MARKUP', `unsupported markup ${JSON.stringify(s.slice(i, i + 4))}`, i);
}

function skipDeclaration(s: string, i: number): number {
  if (!s.startsWith('<?xml', i) || !isSpace(s.charCodeAt(i + 5))) return i;
  const end = s.indexOf('?>', i);
  if (end < 0) throw new XmlError('XML_MALFORMED', 'unterminated XML declaration', i);
  const encoding = /encoding\s*=\s*["']([^"']*)["']/.exec(s.slice(i, end));
  if (encoding && encoding[1]?.toLowerCase() !== 'utf-8') {
    throw new XmlError('XML_NOT_UTF8', `XML declares encoding ${encoding[1]}; only UTF-8 is accepted`, i);
  }
  return end + 2;
}

function readName(s: string, i: number): number {
  if (!isNameStart(s.charCodeAt(i))) return i;
  let j = i + 1;
  while (j < s.length && isNameChar(s.charCodeAt(j))) j++;
  return j;
}

function decodeEntities(raw: string, offset: number): string {
  let out = '';
  let from = 0;
  for (let amp = raw.indexOf('&'); amp >= 0; amp = raw.indexOf('&', from)) {
    const semi = raw.indexOf(';', amp);
    const name = semi > amp ? raw.slice(amp + 1, semi) : '';
    const value = semi > amp && semi - amp <= 5 ? ENTITIES[name] : undefined;
    if (value === undefined) {
      const shown = semi > amp && semi - amp <= 12 ? raw.slice(amp, semi + 1) : raw.slice(amp, amp + 8);
      throw new XmlError(
        'XML_ENTITY',
        `entity reference ${JSON.stringify(shown)} is not allowed`,
        offset + amp,
      );
    }
    out += raw.slice(from, amp) + value;
    from = semi + 1;
  }
  return out + raw.slice(from);
}

/**
 * `<name>text</name>` (text without `<` or `&`) or `<name><![CDATA[…]]></name>`, at one index.
 * The CDATA body is everything up to its first `]]>`, found by a lazy match inside a lookahead:
 * a lookahead is never re-entered, so a body that is not followed by `</name>` fails at once
 * instead of being tried again at every shorter length.
 */
const SIMPLE_FIELD = /<([A-Za-z_][A-Za-z0-9_.-]*)>(?:([^<&]*)|<!\[CDATA\[(?=([\s\S]*?)\]\]>)\3\]\]>)<\/\1>/y;

function scan(s: string, root: string): Record<string, string> {
  // Filled as a plain object and given its null prototype at the end: V8 keeps that object's
  // properties fast, where `Object.create(null)` starts in dictionary mode, which made this
  // parse and every read of the result after it about twice as slow (docs/performance.md).
  const fields: Record<string, string> = {};
  let i = skipSpace(s, skipDeclaration(s, skipSpace(s, 0)));
  const open = `<${root}>`;
  if (!s.startsWith(open, i)) {
    if (s.charCodeAt(i) === 0x3c && (s.charCodeAt(i + 1) === 0x21 || s.charCodeAt(i + 1) === 0x3f)) {
      throw markupError(s, i);
    }
    if (s.startsWith(`<${root}`, i) && isSpace(s.charCodeAt(i + root.length + 1))) {
      throw new XmlError('XML_ATTRIBUTES', `<${root}> must not have attributes`, i);
    }
    throw new XmlError('XML_ROOT', `expected the document to start with <${root}>`, i);
  }
  i += open.length;
  const close = `</${root}>`;
  for (;;) {
    i = skipSpace(s, i);
    // The shapes every real message uses, read by one sticky regex: `<name>text</name>` with no
    // markup or entity in the text, and `<name><![CDATA[…]]></name>` with one section. Anything
    // else (entities, several sections, `<name/>`, every error) fails to match here and is read
    // by the general path below, which gives the same value for these two shapes.
    SIMPLE_FIELD.lastIndex = i;
    const simple = SIMPLE_FIELD.exec(s);
    if (simple !== null) {
      put(fields, simple[1] as string, simple[2] ?? (simple[3] as string), i);
      i = SIMPLE_FIELD.lastIndex;
      continue;
    }
    if (i >= s.length) throw new XmlError('XML_MALFORMED', `document ends before ${close}`, i);
    if (s.charCodeAt(i) !== 0x3c) throw new XmlError('XML_MALFORMED', 'text outside a field', i);
    if (s.startsWith(close, i)) {
      i += close.length;
      break;
    }
    const next = s.charCodeAt(i + 1);
    if (next === 0x21 || next === 0x3f) throw markupError(s, i);
    if (next === 0x2f) throw new XmlError('XML_MALFORMED', 'closing tag does not match', i);
    const nameEnd = readName(s, i + 1);
    if (nameEnd === i + 1) throw new XmlError('XML_MALFORMED', 'invalid element name', i);
    const name = s.slice(i + 1, nameEnd);
    const j = skipSpace(s, nameEnd);
    let value = '';
    if (s.startsWith('/>', j)) {
      i = j + 2;
    } else if (s.charCodeAt(j) === 0x3e) {
      [value, i] = readValue(s, j + 1, name);
    } else if (j < s.length && j > nameEnd) {
      throw new XmlError('XML_ATTRIBUTES', `<${name}> must not have attributes`, i);
    } else {
      throw new XmlError('XML_MALFORMED', `unterminated tag <${name}`, i);
    }
    put(fields, name, value, i);
  }
  i = skipSpace(s, i);
  if (i < s.length) {
    const next = s.charCodeAt(i + 1);
    if (s.charCodeAt(i) === 0x3c && (next === 0x21 || next === 0x3f)) throw markupError(s, i);
    throw new XmlError('XML_MALFORMED', `content after ${close}`, i);
  }
  return Object.setPrototypeOf(fields, null);
}

/** Adds one field, refusing a repeat; `__proto__` is stored as a field, never as the prototype. */
function put(fields: Record<string, string>, name: string, value: string, at: number): void {
  if (Object.hasOwn(fields, name)) {
    throw new XmlError('XML_DUPLICATE_FIELD', `field <${name}> appears more than once`, at);
  }
  if (name === '__proto__') {
    Object.defineProperty(fields, name, { value, writable: true, enumerable: true, configurable: true });
  } else {
    fields[name] = value;
  }
}

/** Reads text and CDATA up to `</name>`; returns the value and the index after the closing tag. */
function readValue(s: string, from: number, name: string): [string, number] {
  let value = '';
  let i = from;
  for (;;) {
    const lt = s.indexOf('<', i);
    if (lt < 0) throw new XmlError('XML_MALFORMED', `field <${name}> is not closed`, from);
    if (lt > i) {
      const raw = s.slice(i, lt);
      value += raw.includes('&') ? decodeEntities(raw, i) : raw;
    }
    const next = s.charCodeAt(lt + 1);
    if (next === 0x21 && s.startsWith('<![CDATA[', lt)) {
      const end = s.indexOf(']]>', lt + 9);
      if (end < 0) throw new XmlError('XML_MALFORMED', `unterminated CDATA in <${name}>`, lt);
      value += s.slice(lt + 9, end);
      i = end + 3;
      continue;
    }
    if (next === 0x2f) {
      const end = lt + 2 + name.length;
      if (s.startsWith(name, lt + 2) && s.charCodeAt(end) === 0x3e) return [value, end + 1];
      throw new XmlError('XML_MALFORMED', `closing tag does not match <${name}>`, lt);
    }
    if (next === 0x21 || next === 0x3f) throw markupError(s, lt);
    throw new XmlError('XML_NESTED', `field <${name}> contains an element; v2 messages are flat`, lt);
  }
}

// Characters XML 1.0 cannot carry at all, even in CDATA.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const FORBIDDEN_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
// In `u` mode this matches only a surrogate that is not half of a pair: UTF-8 cannot encode it,
// and Buffer would silently turn it into U+FFFD, so the signed value and the sent value would differ.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const BARE_VALUE = /^[0-9A-Za-z_.-]*$/;

export interface BuildXmlOptions {
  /**
   * `auto` (default): plain tokens bare, everything else in CDATA. `always`: every value in
   * CDATA, the way WeChat writes its replies and the refund `req_info` plaintext.
   */
  cdata?: 'auto' | 'always';
}

/**
 * Builds a flat v2 document. Values that are not plain tokens go in CDATA; a value containing
 * `]]>` is split across two CDATA sections so it round-trips exactly.
 *
 * @throws {TypeError} for a field name that is not an XML name or a value XML cannot carry.
 * @example
 * buildXml({ return_code: 'SUCCESS', return_msg: 'OK' })
 * // '<xml><return_code>SUCCESS</return_code><return_msg>OK</return_msg></xml>'
 */
export function buildXml(
  fields: Readonly<Record<string, string>>,
  root = 'xml',
  options: BuildXmlOptions = {},
): string {
  const always = options.cdata === 'always';
  let out = `<${root}>`;
  for (const name in fields) {
    const value = fields[name];
    if (value === undefined) continue;
    if (name === '' || readName(name, 0) !== name.length)
      throw new TypeError(`invalid XML field name ${JSON.stringify(name)}`);
    if (FORBIDDEN_CHARS.test(value) || LONE_SURROGATE.test(value)) {
      throw new TypeError(`field ${name} holds a character that XML cannot carry`);
    }
    const body =
      !always && BARE_VALUE.test(value) ? value : `<![CDATA[${value.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
    out += `<${name}>${body}</${name}>`;
  }
  return `${out}</${root}>`;
}
