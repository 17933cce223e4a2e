import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XmlError, type XmlErrorCode } from '../errors.js';
import { buildXml, DEFAULT_MAX_XML_BYTES, parseXml } from './xml.js';

function errorOf(input: Buffer | string, options?: Parameters<typeof parseXml>[1]): XmlError {
  try {
    parseXml(input, options);
  } catch (err) {
    expect(err).toBeInstanceOf(XmlError);
    return err as XmlError;
  }
  throw new Error(`expected parseXml to refuse ${JSON.stringify(String(input).slice(0, 80))}`);
}

const codeOf = (input: Buffer | string, options?: Parameters<typeof parseXml>[1]): XmlErrorCode =>
  errorOf(input, options).code;

const notification =
  '<xml><appid><![CDATA[wx1234567890abcdef]]></appid><total_fee>1</total_fee><body><![CDATA[测试商品-咖啡]]></body></xml>';

describe('DOCTYPE and external entities', () => {
  let server: Server;
  let hits = 0;
  let url = '';
  let dir = '';
  const secret = `file-marker-${process.pid}-never-read`;

  beforeAll(async () => {
    server = createServer((_, res) => {
      hits++;
      res.end(secret);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/xxe`;
    dir = mkdtempSync(join(tmpdir(), 'xxe-'));
    writeFileSync(join(dir, 'secret.txt'), secret);
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    [
      'an external file entity',
      () => `<!DOCTYPE xml [<!ENTITY x SYSTEM "file://${dir}/secret.txt">]><xml><a>&x;</a></xml>`,
    ],
    ['an external URL entity', () => `<!DOCTYPE xml [<!ENTITY x SYSTEM "${url}">]><xml><a>&x;</a></xml>`],
    ['a parameter entity', () => `<!DOCTYPE xml [<!ENTITY % p SYSTEM "${url}"> %p;]><xml><a>1</a></xml>`],
    ['an external DTD', () => `<!DOCTYPE xml SYSTEM "${url}"><xml><a>1</a></xml>`],
    ['a DOCTYPE after the XML declaration', () => `<?xml version="1.0"?>\n<!DOCTYPE xml><xml><a>1</a></xml>`],
    ['a lower-case doctype', () => '<!doctype xml><xml><a>1</a></xml>'],
    ['a bare ENTITY declaration', () => '<!ENTITY x "y"><xml><a>1</a></xml>'],
    ['a DOCTYPE inside the root', () => `<xml><!DOCTYPE xml [<!ENTITY x SYSTEM "${url}">]><a>&x;</a></xml>`],
    ['a DOCTYPE inside a field', () => `<xml><a><!DOCTYPE x></a></xml>`],
  ])('refuses %s before resolving anything', (_, make) => {
    const error = errorOf(make());
    expect(error.code).toBe('XML_DOCTYPE');
    expect(error.message).not.toContain(secret);
    expect(hits).toBe(0);
  });
});

describe('entity expansion', () => {
  const laughs = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE lolz [<!ENTITY lol "lol">',
    ...Array.from(
      { length: 9 },
      (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`,
    ),
    ']>',
    '<xml><a>&lol9;</a></xml>',
  ].join('');

  it('refuses the billion laughs at its DOCTYPE', () => {
    expect(codeOf(laughs)).toBe('XML_DOCTYPE');
  });

  it('refuses 10,000 numeric character references at the first one', () => {
    const doc = `<xml><a>${'&#65;'.repeat(10_000)}</a></xml>`;
    const error = errorOf(doc);
    expect(error.code).toBe('XML_ENTITY');
    expect(error.offset).toBe(doc.indexOf('&#65;'));
  });

  it.each(['&#65;', '&#x41;', '&lol9;', '&nbsp;', '&amp', '& ', '&;', '&AMP;'])(
    'refuses the reference %j (only the five predefined entities exist here)',
    (ref) => {
      expect(codeOf(`<xml><a>x${ref}y</a></xml>`)).toBe('XML_ENTITY');
    },
  );

  it('decodes the five predefined entities, once', () => {
    expect(parseXml('<xml><a>&lt;&gt;&amp;&quot;&apos;</a><b>&amp;lt;</b></xml>')).toEqual({
      a: `<>&"'`,
      b: '&lt;',
    });
  });
});

describe('size', () => {
  const padded = (size: number) => {
    const head = '<xml><a>';
    const tail = '</a></xml>';
    return Buffer.from(head + 'x'.repeat(size - head.length - tail.length) + tail);
  };

  it('accepts exactly 64 KiB and refuses one byte more', () => {
    expect(parseXml(padded(DEFAULT_MAX_XML_BYTES)).a).toHaveLength(DEFAULT_MAX_XML_BYTES - 18);
    expect(codeOf(padded(DEFAULT_MAX_XML_BYTES + 1))).toBe('XML_TOO_LARGE');
  });

  it('counts bytes, not characters, for string input', () => {
    const chinese = `<xml><a>${'中'.repeat(30_000)}</a></xml>`;
    expect(chinese.length).toBeLessThan(DEFAULT_MAX_XML_BYTES);
    expect(codeOf(chinese)).toBe('XML_TOO_LARGE');
  });

  it('honours a smaller limit', () => {
    expect(codeOf(notification, { maxBytes: 64 })).toBe('XML_TOO_LARGE');
    expect(parseXml(notification, { maxBytes: 1024 }).total_fee).toBe('1');
  });
});

describe('encoding', () => {
  const wrap = (bytes: number[]) =>
    Buffer.concat([Buffer.from('<xml><a>'), Buffer.from(bytes), Buffer.from('</a></xml>')]);

  it.each([
    ['a 0xFF byte', [0xff]],
    ['an overlong slash', [0xc0, 0xaf]],
    ['a lone continuation byte', [0x80]],
    ['a truncated 3-byte character', [0xe4, 0xb8]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['GBK-encoded 中文', [0xd6, 0xd0, 0xce, 0xc4]],
  ])('refuses %s', (_, bytes) => {
    expect(codeOf(wrap(bytes))).toBe('XML_NOT_UTF8');
  });

  it('refuses a byte-order mark, as bytes and as a string', () => {
    expect(codeOf(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(notification)]))).toBe(
      'XML_BOM',
    );
    expect(codeOf(`\uFEFF${notification}`)).toBe('XML_BOM');
  });

  it('refuses a declaration naming another encoding, and accepts UTF-8 ones', () => {
    expect(codeOf(`<?xml version="1.0" encoding="GBK"?>${notification}`)).toBe('XML_NOT_UTF8');
    expect(parseXml(`<?xml version="1.0" encoding="UTF-8"?>\n${notification}`).body).toBe('测试商品-咖啡');
    expect(parseXml(`<?xml version='1.0' encoding='utf-8' standalone='yes'?>${notification}`).appid).toBe(
      'wx1234567890abcdef',
    );
    expect(parseXml(`<?xml version="1.0"?>${notification}`).total_fee).toBe('1');
  });

  it('reads multi-byte UTF-8 from bytes', () => {
    expect(parseXml(Buffer.from(notification)).body).toBe('测试商品-咖啡');
  });
});

describe('structure', () => {
  it.each([
    [
      'a repeated tag',
      '<xml><total_fee>1</total_fee><total_fee>10000</total_fee></xml>',
      'XML_DUPLICATE_FIELD',
    ],
    ['a repeated tag, second one empty', '<xml><a>1</a><a/></xml>', 'XML_DUPLICATE_FIELD'],
    ['a nested element', '<xml><a><b>1</b></a></xml>', 'XML_NESTED'],
    ['a nested root', '<xml><xml><a>1</a></xml></xml>', 'XML_NESTED'],
    ['an unclosed field', '<xml><a>1</xml>', 'XML_MALFORMED'],
    ['a mismatched close', '<xml><a>1</b></xml>', 'XML_MALFORMED'],
    ['an unclosed root', '<xml><a>1</a>', 'XML_MALFORMED'],
    ['a stray close', '<xml></a></xml>', 'XML_MALFORMED'],
    ['text beside fields', '<xml>hi<a>1</a></xml>', 'XML_MALFORMED'],
    ['content after the root', '<xml><a>1</a></xml>trailing', 'XML_MALFORMED'],
    ['a second root', '<xml><a>1</a></xml><xml></xml>', 'XML_MALFORMED'],
    ['an unterminated CDATA', '<xml><a><![CDATA[1</a></xml>', 'XML_MALFORMED'],
    ['a broken CDATA opener', '<xml><a><![CDATA]1]]></a></xml>', 'XML_UNSUPPORTED_MARKUP'],
    ['an attribute on a field', '<xml><a x="1">1</a></xml>', 'XML_ATTRIBUTES'],
    ['an attribute on the root', '<xml lang="en"><a>1</a></xml>', 'XML_ATTRIBUTES'],
    ['another root', '<root><a>1</a></root>', 'XML_ROOT'],
    ['an empty body', '', 'XML_ROOT'],
    ['plain text', 'success', 'XML_ROOT'],
    ['JSON', '{"return_code":"SUCCESS"}', 'XML_ROOT'],
    ['a processing instruction', '<xml><?php echo 1; ?><a>1</a></xml>', 'XML_PROCESSING_INSTRUCTION'],
    ['a comment', '<xml><!-- hi --><a>1</a></xml>', 'XML_UNSUPPORTED_MARKUP'],
    ['a comment in a value', '<xml><a>1<!-- hi --></a></xml>', 'XML_UNSUPPORTED_MARKUP'],
    ['an invalid element name', '<xml><1a>1</1a></xml>', 'XML_MALFORMED'],
  ])('refuses %s', (_, doc, code) => {
    expect(codeOf(doc)).toBe(code);
  });

  it('refuses every truncation of a valid document', () => {
    const doc = `<?xml version="1.0"?><xml><a><![CDATA[x]]></a><b>&amp;</b><c/></xml>`;
    expect(Object.keys(parseXml(doc))).toEqual(['a', 'b', 'c']);
    for (let end = 0; end < doc.length; end++) {
      expect(() => parseXml(doc.slice(0, end)), `cut at ${end}`).toThrow(XmlError);
    }
  });

  it('finds the root of the refund plaintext only when asked for <root>', () => {
    expect(parseXml('<root><a>1</a></root>', { root: 'root' })).toEqual({ a: '1' });
    expect(codeOf('<xml><a>1</a></xml>', { root: 'root' })).toBe('XML_ROOT');
  });
});

describe('values', () => {
  it('reads bare, CDATA, mixed and empty values, untrimmed', () => {
    const doc =
      '<xml>\n  <a>1</a>\n  <b><![CDATA[two words]]></b>\n  <c>x<![CDATA[<y>]]>z</c>\n  <d></d>\n  <e/>\n  <f><![CDATA[]]></f>\n  <g>  padded  </g>\n</xml>';
    expect(parseXml(doc)).toEqual({
      a: '1',
      b: 'two words',
      c: 'x<y>z',
      d: '',
      e: '',
      f: '',
      g: '  padded  ',
    });
  });

  it('keeps carriage returns as sent, so a signed value verifies byte for byte', () => {
    expect(parseXml('<xml><a>1\r\n2\r</a></xml>').a).toBe('1\r\n2\r');
  });

  it('treats __proto__ and constructor as plain fields without polluting prototypes', () => {
    const fields = parseXml('<xml><__proto__>x</__proto__><constructor>y</constructor></xml>');
    expect(Object.keys(fields)).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(fields, '__proto__')?.value).toBe('x');
    expect(fields.constructor).toBe('y');
    expect(Object.getPrototypeOf(fields)).toBeNull();
  });

  it('round-trips a value containing ]]> through two CDATA sections', () => {
    const xml = buildXml({ a: 'x]]>y', b: ']]>]]>' });
    expect(xml).toBe(
      '<xml><a><![CDATA[x]]]]><![CDATA[>y]]></a><b><![CDATA[]]]]><![CDATA[>]]]]><![CDATA[>]]></b></xml>',
    );
    expect(parseXml(xml)).toEqual({ a: 'x]]>y', b: ']]>]]>' });
  });

  it('writes plain tokens bare, everything else in CDATA, or all CDATA on request', () => {
    expect(buildXml({ total_fee: '1', body: '咖啡', empty: '' })).toBe(
      '<xml><total_fee>1</total_fee><body><![CDATA[咖啡]]></body><empty></empty></xml>',
    );
    expect(buildXml({ total_fee: '1' }, 'root', { cdata: 'always' })).toBe(
      '<root><total_fee><![CDATA[1]]></total_fee></root>',
    );
  });

  it.each([
    ['an empty name', { '': 'x' }],
    ['a name with a space', { 'a b': 'x' }],
    ['a name with markup', { 'a><b': 'x' }],
    ['a NUL character', { a: 'x\u0000' }],
    ['a lone surrogate', { a: 'x\uD800' }],
  ])('refuses to build %s', (_, fields) => {
    expect(() => buildXml(fields)).toThrow(TypeError);
  });
});
