/**
 * UPS service codes, in one table: the name UPS itself reports (Rating and Tracking responses, labels),
 * the title the real ups-mcp server offers for the code in its elicitation form and the code the Time
 * in Transit API reports for it. The sandbox keeps its own table: it imitates an external server, so
 * it shares no rules with the project's shipment schema (a mistake on one side cannot hide in the other).
 */
interface Service {
  code: string;
  /** As UPS reports it. */
  name: string;
  /** As the real server's form offers it; absent for a code the form does not offer. */
  formTitle?: string;
  /**
   * The Time in Transit API's `serviceLevel` for the service: the US domestic codes, and for the
   * international services those of shipments leaving the US (UPS uses other codes from the EU; the
   * sandbox, which rates every international lane alike, reports these on every international lane).
   */
  transitLevel?: string;
}

/** In the order of the real server's form. */
const SERVICES: readonly Service[] = [
  { code: '01', name: 'UPS Next Day Air', formTitle: 'Next Day Air', transitLevel: '1DA' },
  { code: '02', name: 'UPS 2nd Day Air', formTitle: '2nd Day Air', transitLevel: '2DA' },
  { code: '03', name: 'UPS Ground', formTitle: 'Ground', transitLevel: 'GND' },
  { code: '07', name: 'UPS Worldwide Express', formTitle: 'Express', transitLevel: '01' },
  { code: '08', name: 'UPS Worldwide Expedited', formTitle: 'Expedited', transitLevel: '05' },
  { code: '11', name: 'UPS Standard', formTitle: 'UPS Standard', transitLevel: '03' },
  { code: '12', name: 'UPS 3 Day Select', formTitle: '3 Day Select', transitLevel: '3DS' },
  { code: '13', name: 'UPS Next Day Air Saver', formTitle: 'Next Day Air Saver', transitLevel: '1DP' },
  { code: '14', name: 'UPS Next Day Air Early', formTitle: 'Next Day Air Early', transitLevel: '1DM' },
  { code: '17', name: 'UPS Worldwide Economy DDU', formTitle: 'Worldwide Economy DDU' },
  { code: '54', name: 'UPS Worldwide Express Plus', formTitle: 'Express Plus', transitLevel: '21' },
  { code: '59', name: 'UPS 2nd Day Air A.M.', formTitle: '2nd Day Air A.M.', transitLevel: '2DM' },
  { code: '65', name: 'UPS Worldwide Saver', formTitle: 'UPS Saver', transitLevel: '28' },
  { code: '72', name: 'UPS Worldwide Economy DDP', formTitle: 'Worldwide Economy DDP' },
  { code: '74', name: 'UPS Express 12:00', formTitle: 'UPS Express 12:00' },
  { code: '93', name: 'UPS Ground Saver' },
];

const BY_CODE = new Map(SERVICES.map((s) => [s.code, s]));

/** The name UPS gives a service code. */
export function serviceName(code: string): string {
  return BY_CODE.get(code)?.name ?? `UPS service ${code}`;
}

/** The service choices of the real server's form, `[code, title]`, in its order. */
export const SERVICE_CHOICES: readonly (readonly [string, string])[] = SERVICES.flatMap((s) =>
  s.formTitle === undefined ? [] : [[s.code, s.formTitle] as const],
);

/** The Time in Transit `serviceLevel` of a Rating service code, if the sandbox offers the service. */
export function transitServiceLevel(code: string): string | undefined {
  return BY_CODE.get(code)?.transitLevel;
}
