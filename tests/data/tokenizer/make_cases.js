// Regenerates cases.jsonl: GPT-2 ids from the npm reference encoder.
//   cd "$(mktemp -d)" && npm install gpt-3-encoder@1.1.4
//   node /path/to/tests/data/tokenizer/make_cases.js > /path/to/tests/data/tokenizer/cases.jsonl
// (run from the directory holding node_modules). See README.md for what each
// "reference" value means.
'use strict';
const fs = require('fs');
const path = require('path');

// The package exports only encode/decode. Its own source is evaluated once more
// with its internals (pattern, byte alphabet, bpe, vocabulary) exported too, so
// the byte-level cases below run the package's code, not a re-implementation.
const encoderPath = require.resolve('gpt-3-encoder/Encoder.js', { paths: [process.cwd()] });
const pkg = require(encoderPath);
const internals = (() => {
  const src = fs.readFileSync(encoderPath, 'utf8') +
    '\nmodule.exports.internals = { pat, byte_encoder, bpe, encoder };';
  const mod = { exports: {} };
  new Function('require', 'module', 'exports', '__dirname', src)(require, mod, mod.exports, path.dirname(encoderPath));
  return mod.exports.internals;
})();

// encode() of the package with two substitutions, both at its byte level:
//  - the text is given as bytes; an invalid UTF-8 byte b becomes the lone
//    surrogate U+DC00+b (Python's "surrogateescape"), which the pattern treats
//    as neither letter, number nor space, and which turns back into b itself;
//  - optionally \s in the pattern is the Unicode White_Space property, as in
//    OpenAI's encoder.py (Python `regex`) and tiktoken; JavaScript's \s differs
//    on U+0085 and U+FEFF.
const WHITE_SPACE = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const whiteSpacePattern = new RegExp(
  `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WHITE_SPACE}\\p{L}\\p{N}]+|[${WHITE_SPACE}]+(?![^${WHITE_SPACE}])|[${WHITE_SPACE}]+`, 'gu');

function bytesToEscapedString(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const n = utf8Length(bytes, i);
    if (n === 0) { out += String.fromCharCode(0xdc00 + bytes[i]); i += 1; continue; }
    out += Buffer.from(bytes.slice(i, i + n)).toString('utf8');
    i += n;
  }
  return out;
}

function utf8Length(b, i) {  // length of the well-formed sequence at i, or 0 (Unicode Table 3-7)
  const c = b[i];
  if (c < 0x80) return 1;
  let n, lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) { n = 3; if (c === 0xe0) lo = 0xa0; if (c === 0xed) hi = 0x9f; }
  else if (c >= 0xf0 && c <= 0xf4) { n = 4; if (c === 0xf0) lo = 0x90; if (c === 0xf4) hi = 0x8f; }
  else return 0;
  if (i + n > b.length || b[i + 1] < lo || b[i + 1] > hi) return 0;
  for (let k = 2; k < n; k++) if ((b[i + k] & 0xc0) !== 0x80) return 0;
  return n;
}

function escapedStringToBytes(s) {
  const out = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    if (cp >= 0xdc80 && cp <= 0xdcff) out.push(cp - 0xdc00);
    else out.push(...Buffer.from(ch, 'utf8'));
  }
  return out;
}

function encodeBytes(bytes, pattern) {
  const { byte_encoder, bpe, encoder } = internals;
  const ids = [];
  for (const m of bytesToEscapedString(bytes).matchAll(pattern)) {
    const spelled = escapedStringToBytes(m[0]).map(b => byte_encoder[b]).join('');
    for (const t of bpe(spelled).split(' ')) ids.push(encoder[t]);
  }
  return ids;
}

const T = (name, text) => ({ name, bytes: [...Buffer.from(text, 'utf8')], text });
const B = (name, bytes) => ({ name, bytes });
const cases = [
  T('empty', ''),
  // contractions
  T('contraction its', "it's"), T('contraction im', "I'm"), T('contraction well', "we'll"),
  T('contraction theyve', "they've"), T('contraction youre', "you're"), T('contraction id', "I'd"),
  T('contraction dont', "don't"), T('contraction upper', "IT'S WE'LL"), T('contraction leading', "'s 're 've"),
  T('contraction double', "''s''"), T('contraction name', "O'Neil's rock'n'roll"),
  T('contraction curly', 'it\u2019s'), T('contraction space', "dog 's"),
  // digits
  T('digits', '123'), T('digits long', '1234567890987654321'), T('digits year', 'In 2024 and 1999'),
  T('digits decimal', '3.14159'), T('digits grouped', '1,000,000'), T('digits arabic-indic', '\u0663\u0664\u0665'),
  T('digits circled', '\u2460\u2461'), T('digits roman', '\u216b'), T('digits fraction', '\u00bd x\u00b2'),
  T('digits mixed', 'abc123def'),
  // letters and marks
  T('latin accents', 'caf\u00e9 na\u00efve \u00c5ngstr\u00f6m'), T('combining mark', 'cafe\u0301'),
  T('greek', '\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac'), T('cyrillic', '\u0440\u0443\u0441\u0441\u043a\u0438\u0439 \u044f\u0437\u044b\u043a'),
  T('hebrew', '\u05e2\u05d1\u05e8\u05d9\u05ea'), T('arabic', '\u0627\u0644\u0639\u0631\u0628\u064a\u0629'),
  T('devanagari', '\u0939\u093f\u0928\u094d\u0926\u0940'), T('thai', '\u0e44\u0e17\u0e22'),
  T('german', 'Stra\u00dfe \u00df'), T('turkish', '\u0130stanbul'), T('titlecase', '\u01c5ungla'),
  // CJK
  T('japanese', '\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8'), T('chinese', '\u4e2d\u6587\u5b57\u7b26'),
  T('korean', '\ud55c\uad6d\uc5b4'), T('kanji kana', '\u6f22\u5b57\u304b\u306a\u30ab\u30ca'),
  T('fullwidth', '\uff21\uff22\uff23\uff11\uff12\uff13'),
  // emoji
  T('emoji', '\ud83d\ude00'), T('emoji skin tone', '\ud83d\udc4d\ud83c\udffd'),
  T('emoji zwj family', '\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67'), T('emoji flag', '\ud83c\uddf5\ud83c\uddf1'),
  T('emoji heart vs16', '\u2764\ufe0f'), T('emoji in text', 'I love it \ud83d\ude0d!!'),
  // spaces and newlines
  T('two spaces', 'a  b'), T('three spaces', 'a   b'), T('only spaces', '   '), T('newline', '\n'),
  T('newlines', '\n\n\n'), T('paragraph', 'a\n\nb'), T('space newline space', ' \n '), T('tabs', '\t\tx'),
  T('trailing spaces', 'trailing   '), T('leading spaces', '   leading'), T('crlf', 'line\r\nnext'),
  T('nbsp', 'a \u00a0b'), T('ideographic space', '\u3000x'), T('line separator', 'x\u2028y'),
  T('zero width space', 'a\u200bb'), T('many spaces', ' '.repeat(40) + 'x'), T('space before newline', 'a \nb'),
  // punctuation, markup, code
  T('hello world', 'Hello, world!'), T('ellipsis', 'Wait... what?!?'), T('dashes', 'a -- b --- c'),
  T('quotes', '"quoted" and (parenthetical)'), T('endoftext', '<|endoftext|>'),
  T('endoftext in text', 'end <|endoftext|> start'), T('url', 'http://example.com/path?q=1&r=2#frag'),
  T('email', 'foo.bar@example.org'), T('hashtag', '#hashtag @user'), T('money', '$100.00 \u20ac50 \u00a320'),
  T('languages', 'C++ & C# vs. F#'), T('snake case', 'snake_case_name camelCaseName ALLCAPS'),
  T('code', 'def f(x):\n    return x**2\n'), T('json', '{"key": [1, 2, 3]}'), T('html', '<p class="x">Hi</p>'),
  T('long letters', 'a'.repeat(200)), T('long punct', '='.repeat(100)), T('long word', 'antidisestablishmentarianism'),
  T('nul byte', 'a\u0000b'), T('control chars', '\u0001\u0002\u001f x'),
  T('mixed scripts', 'Tokyo \u6771\u4eac Moscow \u041c\u043e\u0441\u043a\u0432\u0430 2024!'),
  // white space that JavaScript and Python disagree on
  T('next line U+0085', 'a\u0085b'), T('bom U+FEFF', '\ufeffBOM text'), T('bom inside', 'x \ufeff y'),
  // invalid UTF-8
  B('invalid ff', [0xff]), B('invalid between letters', [0x61, 0xff, 0x62]), B('truncated 2-byte', [0xc3]),
  B('truncated at end', [0x63, 0x61, 0x66, 0xc3]), B('truncated 3-byte', [0xe2, 0x82, 0x61]),
  B('surrogate', [0xed, 0xa0, 0x80]), B('overlong', [0xc0, 0xaf]), B('above max', [0xf4, 0x90, 0x80, 0x80]),
  B('space then invalid', [0x20, 0xff, 0xfe]), B('spaces then invalid', [0x20, 0x20, 0xff]),
  B('continuations', [0x80, 0x80, 0x80]), B('invalid after contraction', [0x69, 0x74, 0x27, 0x73, 0xff]),
  B('invalid before contraction', [0xff, 0x27, 0x73]), B('invalid in word', [0x77, 0x6f, 0xfe, 0x72, 0x64]),
  B('invalid in number', [0x31, 0x32, 0xff, 0x33]), B('truncated emoji', [0xf0, 0x9f, 0x98, 0x21]),
  B('latin-1 cafe', [0x63, 0x61, 0x66, 0xe9, 0x20, 0x6f, 0x6b]), B('utf-16 bom', [0xfe, 0xff, 0x00, 0x41]),
  B('invalid then newline', [0xff, 0x0a, 0x0a, 0x61]), B('invalid then punct', [0x21, 0xff, 0x3f]),
];

const usesJsOnlySpace = s => /[\u0085\ufeff]/.test(s);
for (const c of cases) {
  const valid = c.text !== undefined;
  let ids, reference;
  if (valid && !usesJsOnlySpace(c.text)) {
    ids = pkg.encode(c.text);
    reference = 'gpt-3-encoder@1.1.4 encode';
  } else if (valid) {
    ids = encodeBytes(c.bytes, whiteSpacePattern);
    reference = 'gpt-3-encoder@1.1.4 bpe, White_Space pattern';
  } else {
    ids = encodeBytes(c.bytes, internals.pat);
    reference = 'gpt-3-encoder@1.1.4 bpe, surrogateescape bytes';
  }
  if (valid && reference === 'gpt-3-encoder@1.1.4 encode') {
    // The byte path must agree with the package's encode() wherever both apply.
    const again = encodeBytes(c.bytes, internals.pat);
    if (JSON.stringify(again) !== JSON.stringify(ids)) throw new Error(`byte path disagrees on ${c.name}`);
  }
  if (ids.some(x => typeof x !== 'number')) throw new Error(`unknown token in ${c.name}`);
  const row = { name: c.name, bytes_b64: Buffer.from(c.bytes).toString('base64'), ids, reference };
  if (valid) row.text = c.text;
  process.stdout.write(JSON.stringify(row) + '\n');
}
