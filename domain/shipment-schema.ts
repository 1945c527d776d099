/**
 * zod schemas of the UPS ShipmentRequest parts shipbatch sends (docs/design.md §4). Pure: no Node imports.
 * Every rule is checked so that validation reports ALL errors of a row, not only the first.
 */
import { z } from 'zod';

/** UPS service codes → names (the preview shows names). */
export const SERVICE_CODES: Readonly<Record<string, string>> = {
  '01': 'UPS Next Day Air',
  '02': 'UPS 2nd Day Air',
  '03': 'UPS Ground',
  '07': 'UPS Worldwide Express',
  '08': 'UPS Worldwide Expedited',
  '11': 'UPS Standard',
  '12': 'UPS 3 Day Select',
  '13': 'UPS Next Day Air Saver',
  '14': 'UPS Next Day Air Early',
  '54': 'UPS Worldwide Express Plus',
  '59': 'UPS 2nd Day Air A.M.',
  '65': 'UPS Worldwide Saver',
  '93': 'UPS Ground Saver',
};

/** UPS packaging codes → names. */
export const PACKAGING_CODES: Readonly<Record<string, string>> = {
  '01': 'UPS Letter',
  '02': 'Customer Supplied Package',
  '03': 'Tube',
  '04': 'PAK',
  '21': 'UPS Express Box',
  '24': 'UPS 25KG Box',
  '25': 'UPS 10KG Box',
  '30': 'Pallet',
  '2a': 'Small Express Box',
  '2b': 'Medium Express Box',
  '2c': 'Large Express Box',
};

export function serviceName(code: string): string {
  return SERVICE_CODES[code] ?? `UPS service ${code}`;
}

const str = (max: number, what: string) =>
  z
    .string({ error: `${what} must be text` })
    .min(1, { error: `${what} must not be empty` })
    .max(max, { error: `${what} is longer than ${max} characters` });

const US_ZIP = /^\d{5}(-?\d{4})?$/;
const CA_POSTAL = /^[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d$/;
const NEEDS_STATE = new Set(['US', 'CA', 'PR']);

export const AddressSchema = z
  .object({
    AddressLine: z
      .array(str(35, 'Address line'), { error: 'AddressLine must be a list of 1 to 3 lines' })
      .min(1, { error: 'at least one address line is required' })
      .max(3, { error: 'at most 3 address lines are allowed' }),
    City: str(30, 'City'),
    StateProvinceCode: z.string().optional(),
    PostalCode: z
      .string()
      .max(9 + 1, { error: 'postal code is too long' })
      .optional(),
    CountryCode: z.string().regex(/^[A-Z]{2}$/, { error: 'CountryCode must be 2 capital letters (e.g. US)' }),
  })
  .superRefine((a, ctx) => {
    if (!NEEDS_STATE.has(a.CountryCode)) return;
    if (!a.StateProvinceCode) {
      ctx.addIssue({
        code: 'custom',
        path: ['StateProvinceCode'],
        message: `StateProvinceCode is required for ${a.CountryCode}`,
        params: { code: 'E-1001', rule: 'required' },
      });
    } else if (!/^[A-Z]{2}$/.test(a.StateProvinceCode)) {
      ctx.addIssue({
        code: 'custom',
        path: ['StateProvinceCode'],
        message: 'state must be a 2-letter code (e.g. CA)',
        params: { code: 'E-2002', rule: 'state_code' },
      });
    }
    if (!a.PostalCode) {
      ctx.addIssue({
        code: 'custom',
        path: ['PostalCode'],
        message: `PostalCode is required for ${a.CountryCode}`,
        params: { code: 'E-1001', rule: 'required' },
      });
    } else if ((a.CountryCode === 'US' || a.CountryCode === 'PR') && !US_ZIP.test(a.PostalCode)) {
      ctx.addIssue({
        code: 'custom',
        path: ['PostalCode'],
        message: 'US ZIP must be 5 digits or ZIP+4 (12345 or 12345-6789)',
        params: { code: 'E-2001', rule: 'us_zip' },
      });
    } else if (a.CountryCode === 'CA' && !CA_POSTAL.test(a.PostalCode)) {
      ctx.addIssue({
        code: 'custom',
        path: ['PostalCode'],
        message: 'Canadian postal code must look like A9A 9A9',
        params: { code: 'E-2001', rule: 'ca_postal' },
      });
    }
  });

export const PhoneSchema = z.object({
  Number: z
    .string()
    .min(1, { error: 'phone must not be empty' })
    .max(15, { error: 'phone is longer than 15 characters' }),
  Extension: z.string().max(4).optional(),
});

export const PartySchema = z.object({
  Name: str(35, 'Name'),
  AttentionName: str(35, 'AttentionName').optional(),
  Phone: PhoneSchema.optional(),
  EMailAddress: z.string().max(50).optional(),
  Address: AddressSchema,
});

export const ShipperSchema = PartySchema.extend({
  ShipperNumber: z
    .string()
    .regex(/^[A-Za-z0-9]{6}$/, { error: 'ShipperNumber must be exactly 6 letters or digits' }),
});
export type Shipper = z.infer<typeof ShipperSchema>;

const WeightSchema = z
  .object({
    UnitOfMeasurement: z.object({
      Code: z.enum(['LBS', 'KGS'], { error: 'weight unit must be LBS or KGS' }),
      Description: z.string().optional(),
    }),
    Weight: z.string().regex(/^\d+(\.\d+)?$/, { error: 'weight must be a positive decimal number as text' }),
  })
  .superRefine((w, ctx) => {
    const n = Number(w.Weight);
    if (!Number.isFinite(n)) return;
    const max = w.UnitOfMeasurement.Code === 'KGS' ? 68 : 150;
    if (n <= 0)
      ctx.addIssue({
        code: 'custom',
        path: ['Weight'],
        message: 'weight must be greater than 0',
        params: { code: 'E-2004', rule: 'weight_positive' },
      });
    else if (n > max)
      ctx.addIssue({
        code: 'custom',
        path: ['Weight'],
        message: `weight exceeds the UPS limit of ${max} ${w.UnitOfMeasurement.Code}`,
        params: { code: 'E-2004', rule: 'weight_max' },
      });
  });

const CodeSchema = (table: Readonly<Record<string, string>>, what: string) =>
  z.object({
    Code: z.string().refine((c) => Object.hasOwn(table, c), { error: `unknown ${what} code` }),
    Description: z.string().optional(),
  });

export const ReferenceNumberSchema = z.object({
  Code: z.string().optional(),
  Value: str(35, 'reference'),
});

export const PackageSchema = z.object({
  Description: z.string().max(35).optional(),
  Packaging: CodeSchema(PACKAGING_CODES, 'packaging'),
  Dimensions: z
    .object({
      UnitOfMeasurement: z.object({ Code: z.enum(['IN', 'CM']), Description: z.string().optional() }),
      Length: z.string().regex(/^\d+(\.\d+)?$/),
      Width: z.string().regex(/^\d+(\.\d+)?$/),
      Height: z.string().regex(/^\d+(\.\d+)?$/),
    })
    .optional(),
  PackageWeight: WeightSchema,
  ReferenceNumber: z.union([ReferenceNumberSchema, z.array(ReferenceNumberSchema).max(2)]).optional(),
});

export const ShipmentSchema = z
  .object({
    Description: z.string().max(50).optional(),
    Shipper: ShipperSchema,
    ShipTo: PartySchema,
    ShipFrom: PartySchema.optional(),
    PaymentInformation: z.object({
      ShipmentCharge: z.union([
        z.array(z.record(z.string(), z.unknown())).min(1),
        z.record(z.string(), z.unknown()),
      ]),
    }),
    Service: CodeSchema(SERVICE_CODES, 'service'),
    Package: z
      .array(PackageSchema)
      .min(1, { error: 'a shipment needs at least 1 package' })
      .max(200, { error: 'a shipment has at most 200 packages' }),
  })
  .passthrough();
export type Shipment = z.infer<typeof ShipmentSchema>;

export const LabelSpecificationSchema = z.object({
  LabelImageFormat: z.object({ Code: z.enum(['GIF', 'ZPL'], { error: 'label format must be GIF or ZPL' }) }),
  LabelStockSize: z.object({ Height: z.string(), Width: z.string() }).optional(),
  HTTPUserAgent: z.string().optional(),
});

export const ShipmentRequestBodySchema = z.object({
  ShipmentRequest: z.object({
    Request: z.object({
      RequestOption: z.enum(['validate', 'nonvalidate']),
      TransactionReference: z.object({ CustomerContext: str(512, 'CustomerContext') }).optional(),
    }),
    Shipment: ShipmentSchema,
    LabelSpecification: LabelSpecificationSchema,
  }),
});
export type ShipmentRequestBody = z.infer<typeof ShipmentRequestBodySchema>;
