import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BarcodeFormat,
  BinaryBitmap,
  DecodeHintType,
  HybridBinarizer,
  MultiFormatReader,
  RGBLuminanceSource,
} from '@zxing/library';
import { makeUpsTrackingNumber } from '../../ups-sandbox/tracking-number';
import {
  LABEL_HEIGHT_PX,
  LABEL_WIDTH_PX,
  renderLabelGif,
  renderLabelZpl,
  type LabelInput,
} from '../../ups-sandbox/label';
import { decodeGif } from '../helpers/labels';

const W = LABEL_WIDTH_PX;
const H = LABEL_HEIGHT_PX;

function sampleInput(overrides: Partial<LabelInput> = {}): LabelInput {
  return {
    trackingNumber: makeUpsTrackingNumber('A1B2C3', '03', 1234567),
    serviceCode: '03',
    serviceName: 'UPS Ground',
    shipper: {
      Name: 'Acme Widgets Inc.',
      AttentionName: 'Shipping Dept',
      Phone: { Number: '404-555-0100' },
      ShipperNumber: 'A1B2C3',
      Address: {
        AddressLine: ['100 Industrial Pkwy'],
        City: 'Atlanta',
        StateProvinceCode: 'GA',
        PostalCode: '30301',
        CountryCode: 'US',
      },
    },
    shipTo: {
      Name: 'Jane Q. Customer',
      AttentionName: 'Jane Customer',
      Phone: { Number: '770-555-0199' },
      Address: {
        AddressLine: ['1234 Peachtree Industrial Blvd', 'Suite 500'],
        City: 'Roswell',
        StateProvinceCode: 'GA',
        PostalCode: '30076',
        CountryCode: 'US',
      },
    },
    weight: '10.5',
    weightUnit: 'LBS',
    packageIndex: 1,
    packageCount: 2,
    reference: 'ORDER-10042',
    shipDate: '2024-05-01',
    ...overrides,
  };
}

/** Decoded label: one byte per pixel, 1 = black. */
interface Decoded {
  width: number;
  height: number;
  black: Uint8Array;
  /** Distinct RGBA colours seen, as "r,g,b,a". */
  colours: Set<string>;
}

function decode(gif: Buffer): Decoded {
  const { width, height, rgba } = decodeGif(gif);
  const black = new Uint8Array(width * height);
  const colours = new Set<string>();
  for (let i = 0; i < black.length; i++) {
    const r = rgba[i * 4] ?? 0;
    black[i] = r < 128 ? 1 : 0;
    colours.add(`${r},${rgba[i * 4 + 1]},${rgba[i * 4 + 2]},${rgba[i * 4 + 3]}`);
  }
  return { width, height, black, colours };
}

interface Scan {
  text: string;
  /** A row the reader decoded on. */
  y: number;
}

function scanCode128(img: Decoded): Scan {
  const luminance = new Uint8ClampedArray(img.black.length);
  for (let i = 0; i < luminance.length; i++) luminance[i] = img.black[i] ? 0 : 255;
  const source = new RGBLuminanceSource(luminance, img.width, img.height, img.width, img.height, 0, 0);
  const reader = new MultiFormatReader();
  const hints = new Map<DecodeHintType, unknown>([
    [DecodeHintType.POSSIBLE_FORMATS, [BarcodeFormat.CODE_128]],
    [DecodeHintType.TRY_HARDER, true],
  ]);
  const result = reader.decode(new BinaryBitmap(new HybridBinarizer(source)), hints);
  assert.equal(result.getBarcodeFormat(), BarcodeFormat.CODE_128);
  const point = result.getResultPoints()[0];
  assert.ok(point, 'the reader reports where it found the barcode');
  return { text: result.getText(), y: Math.round(point.getY()) };
}

function blackCount(img: Decoded, y0: number, y1: number): number {
  let n = 0;
  for (let i = y0 * img.width; i < y1 * img.width; i++) n += img.black[i] ?? 0;
  return n;
}

test('renderLabelGif returns a real 4x6 in, 203 dpi, two-colour GIF', () => {
  assert.equal(W, 812);
  assert.equal(H, 1218);
  assert.equal(W * 6, H * 4, '4:6 aspect');

  const gif = renderLabelGif(sampleInput());
  assert.ok(Buffer.isBuffer(gif), 'a Buffer');
  assert.equal(gif.subarray(0, 4).toString('latin1'), 'GIF8');
  assert.match(gif.subarray(0, 6).toString('latin1'), /^GIF8[79]a$/);

  const img = decode(gif);
  assert.equal(img.width, 812);
  assert.equal(img.height, 1218);
  assert.deepEqual([...img.colours].sort(), ['0,0,0,255', '255,255,255,255'], 'pure black and white only');
  // Compressed, but not suspiciously small for a label full of text and barcodes.
  assert.ok(gif.length > 5_000 && gif.length < 200_000, `GIF is ${gif.length} bytes`);
});

test('the Code 128 barcode scans back as the tracking number, large and with quiet zones', () => {
  const numbers = [
    makeUpsTrackingNumber('A1B2C3', '03', 1234567),
    makeUpsTrackingNumber('X9Y8Z7', '01', 42),
    makeUpsTrackingNumber('0W4R12', '02', 9_999_999),
  ];
  for (const trackingNumber of numbers) {
    const img = decode(renderLabelGif(sampleInput({ trackingNumber })));
    const scan = scanCode128(img);
    assert.equal(scan.text, trackingNumber);

    // Measure the symbol on the row that decoded: first and last black pixel, then the bar height.
    const row = img.black.subarray(scan.y * W, (scan.y + 1) * W);
    const x0 = row.indexOf(1);
    const x1 = row.lastIndexOf(1);
    assert.ok(x1 - x0 + 1 >= 2.5 * 203, `barcode ${x1 - x0 + 1} px wide, want about 3 in`);
    assert.ok(x0 >= 30 && W - 1 - x1 >= 30, `quiet zones ${x0} and ${W - 1 - x1} px, want >= 10 modules`);
    let top = scan.y;
    while (top > 0 && img.black[(top - 1) * W + x0]) top--;
    let bottom = scan.y;
    while (bottom < H - 1 && img.black[(bottom + 1) * W + x0]) bottom++;
    const barHeight = bottom - top + 1;
    assert.ok(barHeight >= 0.9 * 203 && barHeight <= 1.2 * 203, `bars ${barHeight} px tall, want about 1 in`);
  }
});

test('the label is not blank, and the ship-to block is drawn where it should be', () => {
  const base = decode(renderLabelGif(sampleInput()));
  const fraction = blackCount(base, 0, H) / (W * H);
  assert.ok(fraction > 0.05 && fraction < 0.4, `black fraction ${fraction.toFixed(3)}`);

  // Ship-to lives in the upper part of the label, below the ship-from block (about 1.0 to 2.3 in).
  const shipTo = [Math.round(1.0 * 203), Math.round(2.3 * 203)] as const;
  const shipToBlack = blackCount(base, shipTo[0], shipTo[1]);
  assert.ok(
    shipToBlack > 0.05 * W * (shipTo[1] - shipTo[0]),
    `ship-to region has ${shipToBlack} black pixels`,
  );

  // Changing only the recipient changes pixels in that region, and none in the ship-from block above.
  const other = decode(
    renderLabelGif(
      sampleInput({
        shipTo: {
          Name: 'Bob Example',
          Address: {
            AddressLine: ['9 Elm St'],
            City: 'Boise',
            StateProvinceCode: 'ID',
            PostalCode: '83702',
            CountryCode: 'US',
          },
        },
      }),
    ),
  );
  let changedInShipTo = 0;
  let firstChangedRow = H;
  for (let i = 0; i < W * H; i++) {
    if (base.black[i] === other.black[i]) continue;
    const y = Math.floor(i / W);
    firstChangedRow = Math.min(firstChangedRow, y);
    if (y >= shipTo[0] && y < shipTo[1]) changedInShipTo++;
  }
  assert.ok(changedInShipTo > 1_000, `${changedInShipTo} ship-to pixels changed`);
  assert.ok(
    firstChangedRow >= shipTo[0],
    `ship-from block untouched (first change on row ${firstChangedRow})`,
  );
});

test('awkward input still renders a scannable label', () => {
  const trackingNumber = makeUpsTrackingNumber('ZZ9999', '65', 7);
  const input = sampleInput({
    trackingNumber: ` ${trackingNumber.toLowerCase().replace(/(.{4})/g, '$1 ')} `,
    serviceCode: '65',
    serviceName: 'UPS Worldwide Saver',
    shipTo: {
      Name: 'Zoë Ångström-Müller, a Very Long Company Name International Holdings GmbH & Co. KG',
      Address: {
        AddressLine: ['Flat 12, Building 7, An Extremely Long Street Name Avenue Road', 'Line\ttwo\r\n', ''],
        City: 'London',
        PostalCode: 'SW1A 1AA',
        CountryCode: 'GB',
      },
    },
    reference: undefined,
    weight: '123.4',
    weightUnit: 'KGS',
  });
  const img = decode(renderLabelGif(input));
  assert.equal(scanCode128(img).text, trackingNumber);

  assert.throws(() => renderLabelGif(sampleInput({ trackingNumber: '1Z\u00e9' })), /printable ASCII/);
});

test('renderLabelZpl: a 4x6 ZPL II label with the same content', () => {
  const input = sampleInput();
  const zpl = renderLabelZpl(input);
  assert.ok(zpl.startsWith('^XA'), 'starts with ^XA');
  assert.ok(zpl.trimEnd().endsWith('^XZ'), 'ends with ^XZ');
  assert.ok(zpl.includes('^PW812'), '^PW812');
  assert.ok(zpl.includes('^LL1218'), '^LL1218');
  assert.ok(zpl.includes('^CI28'), 'UTF-8');
  assert.ok(zpl.includes(`^BCN,203,N,N,N^FD>:${input.trackingNumber}^FS`), 'Code 128 field');
  assert.match(zpl, /\^BY3\^BCN/);
  assert.match(zpl, /\^GB812,8,8\^FS/, 'thick rules');
  assert.ok(zpl.includes('ROSWELL GA 30076'), 'ship-to city line');
  const grouped = `1Z A1B 2C3 03 1234 567${input.trackingNumber.slice(-1)}`;
  for (const text of [
    'JANE Q. CUSTOMER',
    'UPS GROUND',
    `TRACKING #: ${grouped}`,
    'BILLING: P/P',
    'REF 1: ORDER-10042',
    'DATE: 01 MAY 2024',
  ]) {
    assert.ok(zpl.includes(`^FD${text}^FS`), `field ${text}`);
  }
  assert.match(zpl, /\^BD2,1,1\^FH_\^FD003840300760000\[\)>_1E01_1D96/, 'MaxiCode mode 2 for a US ZIP');
});

test('renderLabelZpl: user text cannot inject ZPL commands', () => {
  const evil = 'EVIL^XZ^XA^FO0,0^GB812,1218,1218^FS~JA_';
  const zpl = renderLabelZpl(
    sampleInput({
      reference: evil,
      shipTo: { ...sampleInput().shipTo, Name: evil, AttentionName: '~DGR:X.GRF' },
      shipper: { ...sampleInput().shipper, Name: 'A^B~C' },
    }),
  );
  assert.equal(zpl.split('^XA').length - 1, 1, 'one ^XA');
  assert.equal(zpl.split('^XZ').length - 1, 1, 'one ^XZ');
  assert.ok(zpl.trimEnd().endsWith('^XZ'), 'ends with ^XZ');
  assert.ok(!zpl.includes('~'), 'no tilde (immediate) commands');
  assert.ok(!zpl.includes('^GB812,1218'), 'injected graphic box is not a command');
  // Every caret starts one of the commands the renderer itself writes.
  const allowed = new Set([
    'XA',
    'PW',
    'LL',
    'LH',
    'CI',
    'FO',
    'A0',
    'FH',
    'FD',
    'FS',
    'FB',
    'GB',
    'BD',
    'BY',
    'BC',
    'XZ',
  ]);
  for (const part of zpl.split('^').slice(1))
    assert.ok(allowed.has(part.slice(0, 2)), `unexpected ^${part.slice(0, 8)}`);
  // The text survives as ^FH hex escapes.
  assert.ok(
    zpl.includes('REF 1: EVIL_5EXZ_5EXA_5EFO0,0_5EGB812,1218,1218_5EFS_7EJA_5F'),
    'escaped reference',
  );
  assert.ok(zpl.includes('^FDA_5EB_7EC^FS'), 'escaped shipper name');
});

test('the two-colour GIF encoder: omggif decodes every pixel back, through dictionary resets and every code width', async () => {
  const { encodeTwoColourGif } = await import('../../ups-sandbox/label/gif-encoder');
  const gifenc = (await import('node:module')).createRequire(import.meta.url)('gifenc') as {
    GIFEncoder(): {
      writeFrame(index: Uint8Array, w: number, h: number, o: { palette: number[][] }): void;
      finish(): void;
      bytesView(): Uint8Array;
    };
  };
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
  const cases: [string, number, number, (i: number) => number][] = [
    ['one pixel', 1, 1, () => 1],
    ['all white', 64, 64, () => 0],
    ['noise (the dictionary fills and is cleared many times)', 300, 200, () => (random() < 0.5 ? 1 : 0)],
    ['sparse noise (long strings, 12-bit codes)', 812, 400, () => (random() < 0.02 ? 1 : 0)],
    ['stripes', 97, 31, (i) => (i % 3 === 0 ? 1 : 0)],
  ];
  for (const [name, w, h, pixel] of cases) {
    const index = Uint8Array.from({ length: w * h }, (_, i) => pixel(i));
    const gif = encodeTwoColourGif(index, w, h);
    const img = decodeGif(gif);
    assert.equal(img.width, w, name);
    assert.equal(img.height, h, name);
    for (let i = 0; i < w * h; i++) {
      const black = img.rgba[i * 4]! === 0;
      if (black !== (index[i] === 1)) assert.fail(`${name}: pixel ${i} decoded ${black ? 'black' : 'white'}`);
    }
    // No larger than what a general encoder makes of the same pixels.
    const ref = gifenc.GIFEncoder();
    ref.writeFrame(index, w, h, {
      palette: [
        [255, 255, 255],
        [0, 0, 0],
      ],
    });
    ref.finish();
    assert.ok(gif.length <= ref.bytesView().length + 16, `${name}: ${gif.length} bytes`);
  }
  assert.throws(() => encodeTwoColourGif(new Uint8Array(3), 2, 2), /expected 4 pixels/);
});
