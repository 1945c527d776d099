/**
 * `shipbatch labels`: a batch's labels as one merged PDF of 4×6 in pages (one label per page, row order)
 * or as concatenated ZPL, optionally split into files of N labels.
 *
 * GIF labels are decoded (omggif) and embedded as 1-bit image XObjects: thermal labels are two-colour,
 * so this is lossless for them, small (a 4×6 label at 203 dpi is ~15 KB deflated) and needs no PNG
 * round trip. A landscape image (as real UPS GIFs are) is turned to fit the portrait page.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { GifReader as GifReaderType } from 'omggif';
import {
  concatTransformationMatrix,
  drawObject,
  PDFDocument,
  popGraphicsState,
  pushGraphicsState,
  type PDFPage,
} from 'pdf-lib';
import type { BatchLabel } from './ledger';
import { BatchInputError } from './errors';
import { checkOutputPath, OutputFiles } from './output-file';

const requireHere = createRequire(import.meta.url);

/** A 4×6 in page in PDF points. */
export const PAGE_WIDTH_PT = 4 * 72;
export const PAGE_HEIGHT_PT = 6 * 72;

export interface LabelsOutput {
  /** Files written, in order. */
  files: string[];
  /** Labels written (= pages for PDF). */
  labels: number;
  format: 'pdf' | 'zpl';
}

/** A decoded label image: 1 bit per pixel, 1 = white (DeviceGray), rows padded to whole bytes. */
export interface BitImage {
  width: number;
  height: number;
  bits: Uint8Array;
}

/** Decode a GIF (first frame) into a 1-bit image: dark pixels (luminance < 50 %, opaque) are black. */
export function gifToBits(gif: Uint8Array): BitImage {
  // Loaded on first use: importing the client library must not need the GIF decoder.
  const { GifReader } = requireHere('omggif') as { GifReader: typeof GifReaderType };
  let reader: GifReaderType;
  try {
    reader = new GifReader(Buffer.from(gif));
  } catch (err) {
    throw new Error(`not a readable GIF: ${(err as Error).message}`, { cause: err });
  }
  const { width, height } = reader;
  if (width < 1 || height < 1 || width * height > 40_000_000)
    throw new Error(`GIF of ${width}×${height} pixels refused`);
  const rgba = new Uint8Array(width * height * 4);
  reader.decodeAndBlitFrameRGBA(0, rgba);
  const stride = Math.ceil(width / 8);
  const bits = new Uint8Array(stride * height).fill(0xff);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const dark = rgba[i + 3]! >= 128 && rgba[i]! * 299 + rgba[i + 1]! * 587 + rgba[i + 2]! * 114 < 128_000;
      if (dark) bits[y * stride + (x >> 3)]! &= ~(0x80 >> (x & 7));
    }
  }
  return { width, height, bits };
}

/** Draw a 1-bit image centred on a 4×6 page, scaled to fit, turned a quarter when it is landscape. */
function drawBits(doc: PDFDocument, page: PDFPage, img: BitImage): void {
  const stream = doc.context.flateStream(img.bits, {
    Type: 'XObject',
    Subtype: 'Image',
    Width: img.width,
    Height: img.height,
    ColorSpace: 'DeviceGray',
    BitsPerComponent: 1,
  });
  const name = page.node.newXObject('Label', doc.context.register(stream));
  const landscape = img.width > img.height;
  // Shown size on the page: the long side along the page's height.
  const [shownW, shownH] = landscape ? [img.height, img.width] : [img.width, img.height];
  const scale = Math.min(PAGE_WIDTH_PT / shownW, PAGE_HEIGHT_PT / shownH);
  const w = shownW * scale;
  const h = shownH * scale;
  const x = (PAGE_WIDTH_PT - w) / 2;
  const y = (PAGE_HEIGHT_PT - h) / 2;
  // The image occupies the unit square; map it to the page (quarter turn counter-clockwise if landscape).
  const m: [number, number, number, number, number, number] = landscape
    ? [0, h, -w, 0, x + w, y]
    : [w, 0, 0, h, x, y];
  page.pushOperators(
    pushGraphicsState(),
    concatTransformationMatrix(...m),
    drawObject(name),
    popGraphicsState(),
  );
}

async function addLabelPage(doc: PDFDocument, label: BatchLabel): Promise<void> {
  const where = `row ${label.rowNo} package ${label.packageIndex + 1} (${label.trackingNumber})`;
  try {
    if (label.format === 'GIF') {
      drawBits(doc, doc.addPage([PAGE_WIDTH_PT, PAGE_HEIGHT_PT]), gifToBits(label.image));
    } else if (label.format === 'PNG') {
      const png = await doc.embedPng(label.image);
      const page = doc.addPage([PAGE_WIDTH_PT, PAGE_HEIGHT_PT]);
      const s = png.scaleToFit(PAGE_WIDTH_PT, PAGE_HEIGHT_PT);
      page.drawImage(png, { x: (PAGE_WIDTH_PT - s.width) / 2, y: (PAGE_HEIGHT_PT - s.height) / 2, ...s });
    } else if (label.format === 'PDF') {
      const [embedded] = await doc.embedPdf(label.image, [0]);
      const page = doc.addPage([PAGE_WIDTH_PT, PAGE_HEIGHT_PT]);
      const s = embedded!.scale(Math.min(PAGE_WIDTH_PT / embedded!.width, PAGE_HEIGHT_PT / embedded!.height));
      page.drawPage(embedded!, {
        x: (PAGE_WIDTH_PT - s.width) / 2,
        y: (PAGE_HEIGHT_PT - s.height) / 2,
        ...s,
      });
    } else {
      throw new BatchInputError(`the label of ${where} is ZPL`, {
        fix: 'this batch printed ZPL labels: use --format zpl',
      });
    }
  } catch (err) {
    if (err instanceof BatchInputError) throw err;
    throw new Error(`the label of ${where} cannot be read: ${(err as Error).message}`, { cause: err });
  }
}

/** `labels.pdf` → `labels-001.pdf` for part 1 of a split. */
export function partFile(out: string, part: number, parts: boolean): string {
  if (!parts) return out;
  const ext = path.extname(out);
  return `${out.slice(0, out.length - ext.length)}-${String(part).padStart(3, '0')}${ext}`;
}

/** What to do when an output file exists: the fix named in the refusal. */
const OUT_TAKEN_FIX = 'choose another --out, or add --force to replace it';

/**
 * Write labels (already in row order) to `out`: a PDF with one 4×6 page per label, or the ZPL of each
 * label one after the other. `split` writes files of that many labels (`out-001.pdf`, …). No label
 * means no file and a BatchInputError (there is nothing to print yet).
 *
 * A file already at an output path (a symbolic link included) is refused with a BatchInputError naming
 * it, unless `force`; with `force` it is replaced, a link by the file itself (its target is never
 * written). The files appear only once every label is in them: a refusal or a bad label leaves none.
 */
export async function writeLabels(
  labels: AsyncIterable<BatchLabel>,
  opts: { out: string; format?: 'pdf' | 'zpl'; split?: number; force?: boolean },
): Promise<LabelsOutput> {
  const format = opts.format ?? 'pdf';
  const split = opts.split ?? 0;
  if (!Number.isInteger(split) || split < 0)
    throw new BatchInputError(`--split must be a whole number, got ${split}`);
  const outputs = { force: opts.force, fix: OUT_TAKEN_FIX };
  await checkOutputPath(partFile(opts.out, 1, split > 0), outputs);
  await mkdir(path.dirname(path.resolve(opts.out)), { recursive: true });
  const files = new OutputFiles(outputs);
  let parts = 0;
  let count = 0;
  let inPart = 0;
  let doc: PDFDocument | undefined;
  let zpl: string[] = [];
  const flush = async () => {
    if (inPart === 0) return;
    const file = partFile(opts.out, ++parts, split > 0);
    await files.write(file, format === 'pdf' ? await doc!.save() : zpl.join('\n') + '\n');
    doc = undefined;
    zpl = [];
    inPart = 0;
  };
  try {
    for await (const label of labels) {
      if (format === 'pdf') {
        doc ??= await PDFDocument.create();
        if (inPart === 0) doc.setTitle(path.basename(partFile(opts.out, parts + 1, split > 0)));
        await addLabelPage(doc, label);
      } else {
        if (label.format !== 'ZPL') {
          throw new BatchInputError(`the label of row ${label.rowNo} is ${label.format}, not ZPL`, {
            fix: 'use --format pdf, or start the batch with ZPL labels (options.labelFormat "ZPL")',
          });
        }
        zpl.push(label.image.toString('utf8').trim());
      }
      count++;
      inPart++;
      if (split > 0 && inPart >= split) await flush();
    }
    await flush();
    return { files: await files.commit(), labels: count, format };
  } finally {
    await files.discard();
  }
}

/**
 * Read back the label images of a PDF written by {@link writeLabels} (one per page): size of the page,
 * the image's pixel size and its 1-bit pixels. For checks and tests; other PDFs may not match.
 */
export async function readLabelPages(
  pdf: Uint8Array,
): Promise<{ widthPt: number; heightPt: number; image?: BitImage }[]> {
  const { inflateSync } = await import('node:zlib');
  const { PDFDict, PDFName, PDFNumber, PDFRawStream } = await import('pdf-lib');
  const doc = await PDFDocument.load(pdf);
  return doc.getPages().map((page) => {
    const { width, height } = page.getSize();
    const xobjects = page.node.Resources()?.lookupMaybe(PDFName.of('XObject'), PDFDict);
    for (const [, ref] of xobjects?.entries() ?? []) {
      const stream = doc.context.lookup(ref);
      if (!(stream instanceof PDFRawStream)) continue;
      const num = (k: string) => stream.dict.lookupMaybe(PDFName.of(k), PDFNumber)?.asNumber() ?? 0;
      if (stream.dict.get(PDFName.of('Subtype'))?.toString() !== '/Image') continue;
      return {
        widthPt: width,
        heightPt: height,
        image: {
          width: num('Width'),
          height: num('Height'),
          bits: new Uint8Array(inflateSync(stream.contents)),
        },
      };
    }
    return { widthPt: width, heightPt: height };
  });
}

/** A 1-bit image as RGBA (for barcode readers and pixel checks). */
export function bitsToRgba(img: BitImage): Uint8Array {
  const stride = Math.ceil(img.width / 8);
  const rgba = new Uint8Array(img.width * img.height * 4);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const white = (img.bits[y * stride + (x >> 3)]! & (0x80 >> (x & 7))) !== 0;
      const i = (y * img.width + x) * 4;
      rgba[i] = rgba[i + 1] = rgba[i + 2] = white ? 255 : 0;
      rgba[i + 3] = 255;
    }
  }
  return rgba;
}
