/**
 * Reading labels back as a scanner would: decode the GIF (omggif) and read its Code 128 barcode with
 * ZXing, independently of the code that drew them.
 */
import {
  BarcodeFormat,
  BinaryBitmap,
  DecodeHintType,
  HybridBinarizer,
  MultiFormatReader,
  RGBLuminanceSource,
} from '@zxing/library';
import { GifReader } from 'omggif';

export interface DecodedImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

export function decodeGif(gif: Uint8Array): DecodedImage {
  const reader = new GifReader(Buffer.from(gif));
  const rgba = new Uint8Array(reader.width * reader.height * 4);
  reader.decodeAndBlitFrameRGBA(0, rgba);
  return { width: reader.width, height: reader.height, rgba };
}

/** Fraction of dark pixels in a rectangle of the image (all of it by default). */
export function darkFraction(img: DecodedImage, x0 = 0, y0 = 0, w = img.width, h = img.height): number {
  let dark = 0;
  for (let y = y0; y < y0 + h; y++) {
    for (let x = x0; x < x0 + w; x++) {
      const i = (y * img.width + x) * 4;
      if (img.rgba[i]! + img.rgba[i + 1]! + img.rgba[i + 2]! < 384) dark++;
    }
  }
  return dark / (w * h);
}

/** The Code 128 barcodes ZXing reads in the image (searched in horizontal bands). */
export function readCode128(img: DecodedImage): string[] {
  const hints = new Map<DecodeHintType, unknown>([
    [DecodeHintType.POSSIBLE_FORMATS, [BarcodeFormat.CODE_128]],
    [DecodeHintType.TRY_HARDER, true],
  ]);
  const found = new Set<string>();
  const band = Math.round(img.height / 4);
  for (let top = 0; top + band <= img.height; top += Math.round(band / 2)) {
    const luminance = new Uint8ClampedArray(img.width * band);
    for (let y = 0; y < band; y++) {
      for (let x = 0; x < img.width; x++) {
        const i = ((top + y) * img.width + x) * 4;
        luminance[y * img.width + x] = (img.rgba[i]! + img.rgba[i + 1]! + img.rgba[i + 2]!) / 3;
      }
    }
    const reader = new MultiFormatReader();
    reader.setHints(hints);
    try {
      const bitmap = new BinaryBitmap(
        new HybridBinarizer(new RGBLuminanceSource(luminance, img.width, band)),
      );
      found.add(reader.decode(bitmap).getText());
    } catch {
      // no barcode in this band
    }
  }
  return [...found];
}
