/**
 * UPS service codes, in one table: the name UPS itself reports (Rating and Tracking responses, labels)
 * and the title the real ups-mcp server offers for the code in its elicitation form. The sandbox keeps
 * its own table: it imitates an external server, so it shares no rules with the project's shipment
 * schema (a mistake on one side cannot hide in the other).
 */
interface Service {
  code: string;
  /** As UPS reports it. */
  name: string;
  /** As the real server's form offers it; absent for a code the form does not offer. */
  formTitle?: string;
}

/** In the order of the real server's form. */
const SERVICES: readonly Service[] = [
  { code: '01', name: 'UPS Next Day Air', formTitle: 'Next Day Air' },
  { code: '02', name: 'UPS 2nd Day Air', formTitle: '2nd Day Air' },
  { code: '03', name: 'UPS Ground', formTitle: 'Ground' },
  { code: '07', name: 'UPS Worldwide Express', formTitle: 'Express' },
  { code: '08', name: 'UPS Worldwide Expedited', formTitle: 'Expedited' },
  { code: '11', name: 'UPS Standard', formTitle: 'UPS Standard' },
  { code: '12', name: 'UPS 3 Day Select', formTitle: '3 Day Select' },
  { code: '13', name: 'UPS Next Day Air Saver', formTitle: 'Next Day Air Saver' },
  { code: '14', name: 'UPS Next Day Air Early', formTitle: 'Next Day Air Early' },
  { code: '17', name: 'UPS Worldwide Economy DDU', formTitle: 'Worldwide Economy DDU' },
  { code: '54', name: 'UPS Worldwide Express Plus', formTitle: 'Express Plus' },
  { code: '59', name: 'UPS 2nd Day Air A.M.', formTitle: '2nd Day Air A.M.' },
  { code: '65', name: 'UPS Worldwide Saver', formTitle: 'UPS Saver' },
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
