import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { buildXml, parseXml } from './xml.js';

/**
 * Differential test: on generated flat documents our strict scanner must read exactly what
 * fast-xml-parser reads. fast-xml-parser is only the oracle here (a dev dependency); it is
 * configured to mean what our codec means: values stay strings (no number parsing), untrimmed,
 * the predefined entities decoded, CDATA merged into the surrounding text, declaration ignored.
 *
 * The generator stays inside what both accept: names that are not JavaScript prototype keys
 * (fast-xml-parser refuses those), and no carriage return, which XML end-of-line handling turns
 * into \n while we keep the bytes that were signed (see xml.test.ts).
 */
const oracle = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
  cdataPropName: false,
});

function oracleFields(doc: string): Record<string, string> {
  const root = (oracle.parse(doc) as { xml: Record<string, string> | string }).xml;
  if (typeof root === 'string') return {}; // `<xml></xml>` and whitespace-only roots
  const { '#text': _whitespaceBetweenFields, ...fields } = root;
  return fields;
}

const RESERVED = new Set(Object.getOwnPropertyNames(Object.prototype));
const name = fc
  .stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,15}$/)
  .filter((n) => !RESERVED.has(n) && !n.toLowerCase().startsWith('xml'));

// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters XML cannot carry
const UNCARRIABLE = /[\u0000-\u0008\u000B-\u001F\uFFFE\uFFFF]/gu;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above, but carriage returns allowed
const UNCARRIABLE_EXCEPT_CR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/gu;
const piece = fc.oneof(
  fc.constantFrom(
    '&',
    '<',
    '>',
    '"',
    "'",
    ']]>',
    ']]',
    ']',
    '[',
    ' ',
    '\n',
    '\t',
    '中文',
    '😀',
    'é',
    '&amp;',
  ),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
);
const value = fc.array(piece, { maxLength: 6 }).map((parts) => parts.join('').replace(UNCARRIABLE, ''));

/** One way of writing a value: a random mix of escaped text and CDATA sections. */
const encoding = fc.array(fc.record({ cdata: fc.boolean(), quotes: fc.boolean(), share: fc.nat(100) }), {
  minLength: 1,
  maxLength: 3,
});

function escapeText(text: string, quotes: boolean): string {
  let out = text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  if (quotes) out = out.replaceAll('"', '&quot;').replaceAll("'", '&apos;');
  return out;
}

function encode(text: string, plan: Array<{ cdata: boolean; quotes: boolean; share: number }>): string {
  let out = '';
  let rest = Array.from(text); // split on code points, never inside a surrogate pair
  plan.forEach((step, i) => {
    const take = i === plan.length - 1 ? rest.length : Math.floor((rest.length * step.share) / 100);
    const part = rest.slice(0, take).join('');
    rest = rest.slice(take);
    out += step.cdata
      ? `<![CDATA[${part.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`
      : escapeText(part, step.quotes);
  });
  return out;
}

const field = fc.record({ value, plan: encoding, selfClose: fc.boolean() });
const spacing = fc.constantFrom('', '', '\n', '  ', '\n\t');
const document = fc.record({
  fields: fc.dictionary(name, field, { maxKeys: 8 }),
  declaration: fc.boolean(),
  gaps: fc.array(spacing, { minLength: 10, maxLength: 10 }),
});

function render(doc: typeof document extends fc.Arbitrary<infer T> ? T : never): string {
  let out = doc.declaration ? '<?xml version="1.0" encoding="UTF-8"?>\n<xml>' : '<xml>';
  Object.entries(doc.fields).forEach(([key, f], i) => {
    out += doc.gaps[i % doc.gaps.length];
    out += f.value === '' && f.selfClose ? `<${key}/>` : `<${key}>${encode(f.value, f.plan)}</${key}>`;
  });
  return `${out}${doc.gaps[9]}</xml>`;
}

describe('parseXml against fast-xml-parser', () => {
  it('reads every generated flat document exactly as the oracle does', () => {
    fc.assert(
      fc.property(document, (doc) => {
        const xml = render(doc);
        const expected = Object.fromEntries(Object.entries(doc.fields).map(([k, f]) => [k, f.value]));
        expect(oracleFields(xml)).toEqual(expected); // the generator means what the oracle reads
        expect({ ...parseXml(Buffer.from(xml)) }).toEqual(oracleFields(xml));
      }),
      { numRuns: 300 },
    );
  });
});

describe('buildXml → parseXml', () => {
  it('round-trips any field map over the wire as UTF-8 bytes, carriage returns included', () => {
    const carried = fc
      .array(fc.oneof(piece, fc.constant('\r\n'), fc.constant('\r')), { maxLength: 6 })
      .map((parts) => parts.join('').replace(UNCARRIABLE_EXCEPT_CR, ''));
    fc.assert(
      fc.property(fc.dictionary(name, carried, { maxKeys: 10 }), fc.boolean(), (fields, always) => {
        const xml = buildXml(fields, 'xml', { cdata: always ? 'always' : 'auto' });
        expect({ ...parseXml(Buffer.from(xml, 'utf8')) }).toEqual(fields);
        // Whatever we build, the oracle reads the same (apart from \r, which XML normalises).
        if (!Object.values(fields).some((v) => v.includes('\r'))) expect(oracleFields(xml)).toEqual(fields);
      }),
      { numRuns: 300 },
    );
  });
});
