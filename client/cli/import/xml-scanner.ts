/**
 * A streaming XML tokenizer for the parts of an XLSX workbook, bounded by construction. Text is handed over as
 * it arrives (the handler counts and limits it), comments are skipped as they stream by, and the only thing
 * ever held is one unfinished tag or instruction, at most MAX_MARKUP_CHARS. Nesting is limited to MAX_DEPTH
 * elements. There is no DTD: a DOCTYPE is refused, and the only entities are XML's five and character
 * references, so nothing expands. General-purpose parsers (saxes, under exceljs) gather a whole text node or
 * attribute in memory before anyone can look at it, which is how one 300 M-character cell was built in full.
 */

/** Why a part is not XML this tokenizer accepts; the reader adds the file and the part. */
export class XmlError extends Error {
  override readonly name = 'XmlError';
}

/** Receives the tokens; `name` is the local name (`x:row` → `row`); return true to pause the scan after it. */
export interface XmlHandler {
  open(name: string, attrs: XmlAttributes, depth: number): boolean | void;
  close(name: string, depth: number): boolean | void;
  /** Text of the current element, entities decoded; one text node may come in several pieces. */
  text(text: string): void;
}

/** An element's attributes, as written (qualified names). */
export class XmlAttributes {
  constructor(private readonly pairs: string[]) {}

  /** The value of attribute `name` (qualified, e.g. `r:id`), if present. */
  get(name: string): string | undefined {
    for (let i = 0; i < this.pairs.length; i += 2) if (this.pairs[i] === name) return this.pairs[i + 1];
    return undefined;
  }

  /** The value of the first attribute whose local name is `local` whatever its prefix (`r:id`, `rel:id`). */
  getLocal(local: string): string | undefined {
    for (let i = 0; i < this.pairs.length; i += 2) {
      const n = this.pairs[i] ?? '';
      if (n === local || (n.endsWith(`:${local}`) && !n.startsWith('xmlns'))) return this.pairs[i + 1];
    }
    return undefined;
  }
}

/** Deepest nesting of elements; SpreadsheetML needs fewer than 10. */
export const MAX_DEPTH = 64;
/** Longest tag, processing instruction or pending entity reference. */
export const MAX_MARKUP_CHARS = 64 * 1024;

const LT = 60;
const GT = 62;
const SLASH = 47;
const QUOT = 34;
const APOS = 39;
const BANG = 33;
const QUESTION = 63;
/** An element or attribute name: no whitespace, quotes, markup characters or `=`. */
const NAME = /^[^\s"'<>/=&]+$/;
const ALL_SPACE = /^\s*$/;

enum Mode {
  Text,
  Comment,
  CData,
}

function isXmlChar(c: number): boolean {
  return (
    c === 0x9 ||
    c === 0xa ||
    c === 0xd ||
    (c >= 0x20 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) ||
    (c >= 0x10000 && c <= 0x10ffff)
  );
}

/** `s` with its entity and character references replaced; any other reference is an error. */
export function decodeEntities(s: string): string {
  let amp = s.indexOf('&');
  if (amp < 0) return s;
  let out = '';
  let from = 0;
  while (amp >= 0) {
    const semi = s.indexOf(';', amp + 1);
    if (semi < 0 || semi - amp > 12) {
      throw new XmlError(`a malformed entity reference ${JSON.stringify(s.slice(amp, amp + 12))}`);
    }
    const ref = s.slice(amp + 1, semi);
    let ch: string | undefined;
    switch (ref) {
      case 'lt':
        ch = '<';
        break;
      case 'gt':
        ch = '>';
        break;
      case 'amp':
        ch = '&';
        break;
      case 'quot':
        ch = '"';
        break;
      case 'apos':
        ch = "'";
        break;
      default: {
        const m = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(ref);
        const code = m ? (m[1] !== undefined ? parseInt(m[1], 16) : Number(m[2])) : -1;
        if (isXmlChar(code)) ch = String.fromCodePoint(code);
      }
    }
    if (ch === undefined) {
      throw new XmlError(
        `an entity reference "&${ref};" that XML does not define (no DTD entity is expanded)`,
      );
    }
    out += s.slice(from, amp) + ch;
    from = semi + 1;
    amp = s.indexOf('&', from);
  }
  return out + s.slice(from);
}

function tooLong(): XmlError {
  return new XmlError(`an XML tag or instruction longer than ${MAX_MARKUP_CHARS} characters`);
}

function localName(qname: string): string {
  const colon = qname.indexOf(':');
  return colon < 0 ? qname : qname.slice(colon + 1);
}

/**
 * Feed it text with feed(), call scan() until it returns false (true: the handler paused it, call again),
 * then finish() at the end of the part.
 */
export class XmlScanner {
  private buf = '';
  private pos = 0;
  private mode = Mode.Text;
  private readonly stack: string[] = [];
  private started = false;
  private rootSeen = false;

  constructor(private readonly handler: XmlHandler) {}

  feed(text: string): void {
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.buf = this.pos < this.buf.length ? this.buf.slice(this.pos) + text : text;
    this.pos = 0;
  }

  /** Tokenize what was fed; true when the handler asked to pause (more may be left), false when all is used. */
  scan(): boolean {
    const buf = this.buf;
    while (this.pos < buf.length) {
      const pos = this.pos;
      if (this.mode === Mode.Comment) {
        const end = buf.indexOf('-->', pos);
        if (end < 0) {
          this.pos = Math.max(pos, buf.length - 2);
          break;
        }
        this.pos = end + 3;
        this.mode = Mode.Text;
        continue;
      }
      if (this.mode === Mode.CData) {
        const end = buf.indexOf(']]>', pos);
        const stop = end < 0 ? Math.max(pos, buf.length - 2) : end;
        if (stop > pos) this.textOut(buf.slice(pos, stop), false);
        if (end < 0) {
          this.pos = stop;
          break;
        }
        this.pos = end + 3;
        this.mode = Mode.Text;
        continue;
      }
      const lt = buf.indexOf('<', pos);
      if (lt < 0) {
        // All text; a reference cut by the chunk's end waits for the rest.
        let end = buf.length;
        const amp = buf.lastIndexOf('&');
        if (amp >= pos && buf.indexOf(';', amp) < 0 && buf.length - amp <= 12) end = amp;
        if (end > pos) this.textOut(buf.slice(pos, end), true);
        this.pos = end;
        break;
      }
      if (lt > pos) {
        this.textOut(buf.slice(pos, lt), true);
        this.pos = lt;
      }
      const paused = this.markup(buf, lt);
      if (paused === undefined) break; // incomplete: wait for more text
      if (paused) return true;
    }
    if (this.buf.length - this.pos > MAX_MARKUP_CHARS) throw tooLong();
    return false;
  }

  /** The end of the part: everything opened must be closed. */
  finish(): void {
    if (this.mode !== Mode.Text)
      throw new XmlError('the XML ends inside a comment or CDATA section (truncated)');
    const rest = this.buf.slice(this.pos);
    if (rest.includes('<')) throw new XmlError('the XML ends inside a tag (truncated)');
    if (rest !== '') this.textOut(rest, true);
    const open = this.stack[this.stack.length - 1];
    if (open !== undefined) throw new XmlError(`the XML ends before </${open}> (truncated)`);
    if (!this.rootSeen) throw new XmlError('no XML element');
  }

  private textOut(raw: string, decode: boolean): void {
    if (this.stack.length === 0) {
      if (!ALL_SPACE.test(raw)) throw new XmlError('text outside the root element');
      return;
    }
    this.handler.text(decode ? decodeEntities(raw) : raw);
  }

  /** The markup at `lt`: undefined when incomplete, else whether the handler paused. */
  private markup(buf: string, lt: number): boolean | undefined {
    const next = buf.charCodeAt(lt + 1);
    if (Number.isNaN(next)) return undefined;
    if (next === BANG) {
      if (buf.startsWith('<!--', lt)) {
        this.mode = Mode.Comment;
        this.pos = lt + 4;
        return false;
      }
      if (buf.startsWith('<![CDATA[', lt)) {
        this.mode = Mode.CData;
        this.pos = lt + 9;
        return false;
      }
      const head = buf.slice(lt, lt + 9);
      if (head.length < 9 && ('<!--'.startsWith(head) || '<![CDATA['.startsWith(head))) return undefined;
      if (buf.startsWith('<!DOCTYPE', lt)) {
        throw new XmlError(
          'a DOCTYPE (document type declaration), which an XLSX part never needs and which can expand entities',
        );
      }
      throw new XmlError(`a markup declaration ${JSON.stringify(head)} outside any DTD`);
    }
    if (next === QUESTION) {
      const end = buf.indexOf('?>', lt + 2);
      if (end < 0) return undefined;
      if (end - lt > MAX_MARKUP_CHARS) throw tooLong();
      this.instruction(buf.slice(lt + 2, end));
      this.pos = end + 2;
      return false;
    }
    const gt = tagEnd(buf, lt + 1);
    if (gt < 0) return undefined;
    if (gt - lt > MAX_MARKUP_CHARS) throw tooLong();
    this.pos = gt + 1;
    return next === SLASH ? this.closeTag(buf, lt + 2, gt) : this.openTag(buf, lt + 1, gt);
  }

  private instruction(body: string): void {
    if (!/^xml\s/i.test(body)) return;
    const enc = /\bencoding\s*=\s*["']([^"']*)["']/.exec(body)?.[1];
    if (enc !== undefined && !/^utf-?(8|16)$/i.test(enc)) {
      throw new XmlError(`text in encoding "${enc}"; only UTF-8 and UTF-16 are read`);
    }
  }

  private openTag(buf: string, from: number, gt: number): boolean {
    let end = gt;
    const empty = buf.charCodeAt(gt - 1) === SLASH;
    if (empty) end--;
    let i = from;
    while (i < end && !isSpace(buf.charCodeAt(i))) i++;
    const qname = buf.slice(from, i);
    if (!NAME.test(qname)) throw new XmlError(`a malformed tag ${JSON.stringify(qname.slice(0, 40))}`);
    const attrs = i < end ? parseAttributes(buf, i, end, qname) : NO_ATTRIBUTES;
    if (this.stack.length === 0 && this.rootSeen) throw new XmlError('a second root element');
    this.rootSeen = true;
    this.stack.push(qname);
    const depth = this.stack.length;
    if (depth > MAX_DEPTH) throw new XmlError(`XML nested deeper than ${MAX_DEPTH} elements`);
    const local = localName(qname);
    const paused = this.handler.open(local, attrs, depth) === true;
    if (!empty) return paused;
    this.stack.pop();
    return this.handler.close(local, depth) === true || paused;
  }

  /** The end tag between `from` (after `</`) and `gt`: it must close the element open last. */
  private closeTag(buf: string, from: number, gt: number): boolean {
    const depth = this.stack.length;
    const open = this.stack.pop();
    let i = from + (open?.length ?? 0);
    while (i < gt && isSpace(buf.charCodeAt(i))) i++;
    if (open === undefined || i !== gt || !buf.startsWith(open, from)) {
      const name = buf.slice(from, gt).trim().slice(0, 40);
      throw new XmlError(
        open === undefined ? `a closing </${name}> with nothing open` : `</${name}> closes <${open}>`,
      );
    }
    return this.handler.close(localName(open), depth) === true;
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x9 || c === 0xa || c === 0xd;
}

const NO_ATTRIBUTES = new XmlAttributes([]);

/** The attributes `name="value"` (or single quotes) between `from` and `end`, whitespace before each. */
function parseAttributes(buf: string, from: number, end: number, tag: string): XmlAttributes {
  const pairs: string[] = [];
  const malformed = (): XmlError => new XmlError(`a malformed attribute in <${tag.slice(0, 40)}>`);
  let i = from;
  for (;;) {
    const start = i;
    while (i < end && isSpace(buf.charCodeAt(i))) i++;
    if (i >= end) break;
    if (i === start) throw malformed(); // attributes are separated by whitespace
    const eq = buf.indexOf('=', i);
    if (eq < 0 || eq >= end) throw malformed();
    let nameEnd = eq;
    while (nameEnd > i && isSpace(buf.charCodeAt(nameEnd - 1))) nameEnd--;
    const name = buf.slice(i, nameEnd);
    if (!NAME.test(name)) throw malformed();
    let q = eq + 1;
    while (q < end && isSpace(buf.charCodeAt(q))) q++;
    const quote = buf.charCodeAt(q);
    if (quote !== QUOT && quote !== APOS) throw malformed();
    const close = buf.indexOf(quote === QUOT ? '"' : "'", q + 1);
    if (close < 0 || close >= end) throw malformed();
    const value = buf.slice(q + 1, close);
    if (value.includes('<')) throw malformed();
    pairs.push(name, value.includes('&') ? decodeEntities(value) : value);
    i = close + 1;
  }
  return new XmlAttributes(pairs);
}

/** The `>` ending the tag that starts at `from`, outside quoted attribute values; -1 when not yet in `buf`. */
function tagEnd(buf: string, from: number): number {
  let quote = 0;
  for (let i = from; i < buf.length; i++) {
    const c = buf.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === GT) return i;
    else if (c === QUOT || c === APOS) quote = c;
    else if (c === LT) throw new XmlError('a "<" inside a tag');
  }
  return -1;
}
