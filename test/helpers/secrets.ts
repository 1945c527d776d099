/**
 * Secret strings for leak tests, and the search for them: as written, and base64-encoded at any alignment
 * (payloads are base64 in exported histories), standard and URL-safe alphabets.
 */
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';

/** A distinctive fake secret: `SEKRET-<what>-<random>`. */
export function fakeSecret(what: string): string {
  return `SEKRET-${what}-${randomBytes(6).toString('hex')}`;
}

/**
 * Every base64 rendering of `secret` inside a longer encoded text: the secret can start at any of the three
 * byte positions of a base64 group, so for each offset the characters that encode only its own bytes.
 */
export function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const end = Math.floor((offset + bytes.length) / 3) * 4;
    const form = encoded.slice(offset === 0 ? 0 : 4, end);
    forms.push(form, form.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...new Set(forms)];
}

/** Where in `text` any of `secrets` shows, plainly or in base64 (undefined when nowhere). */
export function findSecret(text: string, secrets: readonly string[]): string | undefined {
  for (const secret of secrets) {
    for (const form of [secret, ...base64Forms(secret)]) {
      const at = text.indexOf(form);
      if (at >= 0) {
        const around = text.slice(Math.max(0, at - 120), at + form.length + 120);
        return `${form === secret ? secret : `${secret} (base64 ${form})`} in …${around}…`;
      }
    }
  }
  return undefined;
}

/** Fails naming the secret, the place and the text around it when `text` holds any of `secrets`. */
export function assertNoSecret(text: string, secrets: readonly string[], where: string): void {
  const found = findSecret(text, secrets);
  assert.equal(found, undefined, `a secret leaked into ${where}: ${found}`);
}

/**
 * JSON as exported (a history from historyToJSON, say) followed by the text of every base64 `data` field
 * in it: the payloads, decoded.
 */
export function withDecodedPayloads(json: string): string {
  const parts: string[] = [json];
  JSON.parse(json, (key, value: unknown) => {
    if (key === 'data' && typeof value === 'string')
      parts.push(Buffer.from(value, 'base64').toString('utf8'));
    return value;
  });
  return parts.join('\n');
}

/** JSON of any value, byte arrays (proto payloads) as base64 and as text. */
export function jsonWithBytes(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v instanceof Uint8Array
      ? { base64: Buffer.from(v).toString('base64'), text: Buffer.from(v).toString('utf8') }
      : typeof v === 'bigint'
        ? String(v)
        : v,
  );
}
