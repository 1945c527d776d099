/**
 * The label's public input types and its physical size, shared by every part of the renderer.
 */
import type { StoredParty } from '../store';

/** A party as printed on a label: the UPS Shipper / ShipTo fields the store keeps. */
export type LabelParty = StoredParty;

/** Everything printed on one package's label. */
export interface LabelInput {
  /** e.g. `1ZA1B2C30312345678` (18 characters, no spaces; spaces are tolerated and dropped). */
  trackingNumber: string;
  /** UPS service code, e.g. "03". */
  serviceCode: string;
  /** e.g. "UPS Ground" (printed upper case). */
  serviceName: string;
  shipper: LabelParty & { ShipperNumber: string };
  shipTo: LabelParty;
  weight: string;
  weightUnit: 'LBS' | 'KGS';
  /** 1-based: printed as "1 OF 2". */
  packageIndex: number;
  packageCount: number;
  /** Our reference number, printed as "REF 1: ...". */
  reference?: string;
  /** YYYY-MM-DD. */
  shipDate: string;
}

/** 4 in at 203 dpi. */
export const LABEL_WIDTH_PX = 812;
/** 6 in at 203 dpi. */
export const LABEL_HEIGHT_PX = 1218;
