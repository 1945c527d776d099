/**
 * Labels PDF/ZPL writer: one 4×6 page per label in the given order, the GIF's pixels carried exactly,
 * landscape labels turned, --split, ZPL concatenation, and clear errors for mismatched or broken labels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { PDFArray, PDFDocument, PDFRawStream } from 'pdf-lib';
import type { BatchLabel } from '../../client/ledger';
import { BatchInputError } from '../../client/errors';
import {
  bitsToRgba,
  gifToBits,
  PAGE_HEIGHT_PT,
  PAGE_WIDTH_PT,
  readLabelPages,
  writeLabels,
} from '../../client/labels';

const gifenc = createRequire(import.meta.url)('gifenc') as {
  GIFEncoder(): {
    writeFrame(index: Uint8Array, w: number, h: number, o: { palette: number[][] }): void;
    finish(): void;
    bytesView(): Uint8Array;
  };
};

/** A two-colour GIF whose pixel (x, y) is black when `dark(x, y)`. */
function gif(width: number, height: number, dark: (x: number, y: number) => boolean): Buffer {
  const index = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) index[y * width + x] = dark(x, y) ? 1 : 0;
  const enc = gifenc.GIFEncoder();
  enc.writeFrame(index, width, height, {
    palette: [
      [255, 255, 255],
      [0, 0, 0],
    ],
  });
  enc.finish();
  return Buffer.from(enc.bytesView());
}

const pattern = (seed: number) => (x: number, y: number) => (x * 7 + y * 13 + seed) % 5 === 0 || x === seed;

async function* from(labels: BatchLabel[]): AsyncGenerator<BatchLabel> {
  for (const l of labels) yield await Promise.resolve(l);
}

const label = (rowNo: number, image: Buffer, format: BatchLabel['format'] = 'GIF'): BatchLabel => ({
  rowNo,
  packageIndex: 0,
  trackingNumber: `1ZTEST${rowNo}`,
  format,
  image,
});

async function tmp(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'labels-test-'));
}

test('gifToBits keeps every pixel: dark → 0 bit, light → 1 bit, rows padded to bytes', () => {
  const dark = pattern(3);
  const img = gifToBits(gif(13, 7, dark));
  assert.equal(img.width, 13);
  assert.equal(img.height, 7);
  assert.equal(img.bits.length, 2 * 7);
  const rgba = bitsToRgba(img);
  for (let y = 0; y < 7; y++) {
    for (let x = 0; x < 13; x++)
      assert.equal(rgba[(y * 13 + x) * 4], dark(x, y) ? 0 : 255, `pixel ${x},${y}`);
  }
});

test('one 4×6 page per label, in the order given, each carrying its own GIF exactly', async () => {
  const dir = await tmp();
  const out = path.join(dir, 'labels.pdf');
  const gifs = [1, 2, 3].map((seed) => gif(40, 60, pattern(seed)));
  const res = await writeLabels(from(gifs.map((g, i) => label(i + 1, g))), { out });
  assert.deepEqual(res, { files: [out], labels: 3, format: 'pdf' });
  const pages = await readLabelPages(await readFile(out));
  assert.equal(pages.length, 3);
  pages.forEach((p, i) => {
    assert.equal(p.widthPt, PAGE_WIDTH_PT);
    assert.equal(p.heightPt, PAGE_HEIGHT_PT);
    assert.deepEqual(p.image, gifToBits(gifs[i]!), `page ${i + 1} holds label ${i + 1}`);
  });
});

test('a landscape label is turned to fit the portrait page', async () => {
  const dir = await tmp();
  const out = path.join(dir, 'l.pdf');
  await writeLabels(from([label(1, gif(60, 40, pattern(1)))]), { out });
  const doc = await PDFDocument.load(await readFile(out));
  const contents = doc.getPages()[0]!.node.Contents();
  const streams =
    contents instanceof PDFArray ? contents.asArray().map((r) => doc.context.lookup(r)) : [contents];
  const ops = streams
    .map((st) => (st instanceof PDFRawStream ? inflateSync(st.contents).toString('latin1') : ''))
    .join('\n');
  // The quarter-turn matrix (0 h -w 0 e f): the image's width runs up the page, filling it.
  assert.match(ops, /\b0 432 -288 0 288 0 cm\b/, ops);
  const [page] = await readLabelPages(await readFile(out));
  assert.equal(page!.widthPt, PAGE_WIDTH_PT);
  assert.equal(page!.image!.width, 60);
});

test('--split writes files of N labels: name-001.pdf, name-002.pdf…', async () => {
  const dir = await tmp();
  const labels = Array.from({ length: 5 }, (_, i) => label(i + 1, gif(8, 12, pattern(i))));
  const res = await writeLabels(from(labels), { out: path.join(dir, 'b.pdf'), split: 2 });
  assert.equal(res.labels, 5);
  assert.deepEqual((await readdir(dir)).sort(), ['b-001.pdf', 'b-002.pdf', 'b-003.pdf']);
  const counts = await Promise.all(
    res.files.map(async (f) => (await readLabelPages(await readFile(f))).length),
  );
  assert.deepEqual(counts, [2, 2, 1]);
});

test('ZPL labels are concatenated in order; a GIF in ZPL mode and a ZPL in PDF mode are refused', async () => {
  const dir = await tmp();
  const zpl = (n: number) => Buffer.from(`^XA^FO50,50^FDrow ${n}^FS^XZ\n`);
  const res = await writeLabels(from([label(1, zpl(1), 'ZPL'), label(2, zpl(2), 'ZPL')]), {
    out: path.join(dir, 'l.zpl'),
    format: 'zpl',
  });
  assert.equal(res.labels, 2);
  assert.equal(
    await readFile(path.join(dir, 'l.zpl'), 'utf8'),
    '^XA^FO50,50^FDrow 1^FS^XZ\n^XA^FO50,50^FDrow 2^FS^XZ\n',
  );

  await assert.rejects(
    writeLabels(from([label(1, gif(4, 4, pattern(0)))]), { out: path.join(dir, 'x.zpl'), format: 'zpl' }),
    (e: unknown) => e instanceof BatchInputError && /row 1 is GIF, not ZPL/.test(e.message),
  );
  await assert.rejects(
    writeLabels(from([label(7, zpl(7), 'ZPL')]), { out: path.join(dir, 'x.pdf') }),
    (e: unknown) =>
      e instanceof BatchInputError && /row 7/.test(e.message) && /--format zpl/.test(e.fix ?? ''),
  );
});

test('a broken GIF names its row and tracking number; no labels → no file', async () => {
  const dir = await tmp();
  await assert.rejects(
    writeLabels(from([label(4, Buffer.from('GIF89a-not-really'))]), { out: path.join(dir, 'x.pdf') }),
    /row 4 package 1 \(1ZTEST4\) cannot be read/,
  );
  const none = await writeLabels(from([]), { out: path.join(dir, 'none.pdf') });
  assert.deepEqual(none, { files: [], labels: 0, format: 'pdf' });
  assert.ok(!(await readdir(dir)).includes('none.pdf'));
});

/** The error refusing `file`: input (exit 2), naming it, pointing at --force. */
const refusing = (file: string) => (e: unknown) =>
  e instanceof BatchInputError && e.message.includes(file) && /already exists/.test(e.message);

test('an existing --out is refused unless force: named, left as it was; force replaces it', async () => {
  const dir = await tmp();
  const out = path.join(dir, 'labels.pdf');
  await writeFile(out, 'recipients of last week\n');
  const two = () => from([label(1, gif(8, 12, pattern(1))), label(2, gif(8, 12, pattern(2)))]);
  await assert.rejects(writeLabels(two(), { out }), refusing(out));
  assert.equal(await readFile(out, 'utf8'), 'recipients of last week\n');
  assert.deepEqual(await readdir(dir), ['labels.pdf'], 'nothing else left behind');

  const res = await writeLabels(two(), { out, force: true });
  assert.deepEqual(res.files, [out]);
  assert.equal((await readLabelPages(await readFile(out))).length, 2);
  assert.deepEqual(await readdir(dir), ['labels.pdf']);
});

test('a symbolic link at --out is never followed: refused, and with force replaced (its target untouched)', async () => {
  const dir = await tmp();
  const target = path.join(dir, 'addresses.txt');
  await writeFile(target, 'precious\n');
  const out = path.join(dir, 'labels.pdf');
  await symlink(target, out);
  const one = () => from([label(1, gif(8, 12, pattern(1)))]);
  await assert.rejects(writeLabels(one(), { out }), refusing(out));
  assert.equal(await readFile(target, 'utf8'), 'precious\n');

  await writeLabels(one(), { out, force: true });
  assert.equal(await readFile(target, 'utf8'), 'precious\n', 'the target is untouched');
  assert.ok((await lstat(out)).isFile(), 'the link itself was replaced by the labels');
  assert.equal((await readLabelPages(await readFile(out))).length, 1);

  // A dangling link: writing through it would create its target.
  const dangling = path.join(dir, 'dangling.zpl');
  const nowhere = path.join(dir, 'created-through-the-link.zpl');
  await symlink(nowhere, dangling);
  await assert.rejects(
    writeLabels(from([label(1, Buffer.from('^XA^XZ'), 'ZPL')]), { out: dangling, format: 'zpl' }),
    refusing(dangling),
  );
  await assert.rejects(lstat(nowhere), /ENOENT/);
});

test('--split: a part that exists is refused and no other part is left behind; a bad label leaves no part', async () => {
  const dir = await tmp();
  const labels = () => from(Array.from({ length: 5 }, (_, i) => label(i + 1, gif(8, 12, pattern(i)))));
  const out = path.join(dir, 'b.pdf');
  await writeFile(path.join(dir, 'b-002.pdf'), 'mine\n');
  await assert.rejects(writeLabels(labels(), { out, split: 2 }), refusing(path.join(dir, 'b-002.pdf')));
  assert.deepEqual(await readdir(dir), ['b-002.pdf'], 'b-001.pdf was not left behind');
  assert.equal(await readFile(path.join(dir, 'b-002.pdf'), 'utf8'), 'mine\n');

  const broken = from([label(1, gif(8, 12, pattern(1))), label(2, Buffer.from('GIF89a-not-really'))]);
  await assert.rejects(writeLabels(broken, { out: path.join(dir, 'c.pdf'), split: 1 }), /row 2/);
  assert.deepEqual(await readdir(dir), ['b-002.pdf'], 'c-001.pdf was not left behind');
});

test('a directory at --out is refused by name, with or without force, and left as it was', async () => {
  const dir = await tmp();
  const out = path.join(dir, 'labels.pdf');
  await mkdir(out);
  await writeFile(path.join(out, 'inside'), 'x');
  for (const force of [false, true]) {
    await assert.rejects(
      writeLabels(from([label(1, gif(8, 12, pattern(1)))]), { out, force }),
      (e: unknown) => e instanceof BatchInputError && e.message.includes(`${out} is a directory`),
    );
  }
  assert.deepEqual(await readdir(out), ['inside']);
  assert.deepEqual(await readdir(dir), ['labels.pdf']);
});
