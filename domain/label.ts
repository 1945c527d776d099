/** A shipping label as UPS returns it and the ledger stores it: one per package. */

/** The image formats UPS labels come in. */
export type LabelFormat = 'GIF' | 'ZPL' | 'PNG' | 'PDF';

/** One package's label: its tracking number and the image bytes. */
export interface PackageLabel {
  trackingNumber: string;
  format: LabelFormat;
  image: Buffer;
}
