/**
 * UPS service names as UPS itself reports them (Rating and Tracking responses, labels). The sandbox
 * keeps its own table: it imitates an external server, so it shares no rules with the project's
 * shipment schema (a mistake on one side cannot hide in the other).
 */
const SERVICE_NAMES: Readonly<Record<string, string>> = {
  '01': 'UPS Next Day Air',
  '02': 'UPS 2nd Day Air',
  '03': 'UPS Ground',
  '07': 'UPS Worldwide Express',
  '08': 'UPS Worldwide Expedited',
  '11': 'UPS Standard',
  '12': 'UPS 3 Day Select',
  '13': 'UPS Next Day Air Saver',
  '14': 'UPS Next Day Air Early',
  '17': 'UPS Worldwide Economy DDU',
  '54': 'UPS Worldwide Express Plus',
  '59': 'UPS 2nd Day Air A.M.',
  '65': 'UPS Worldwide Saver',
  '72': 'UPS Worldwide Economy DDP',
  '74': 'UPS Express 12:00',
  '93': 'UPS Ground Saver',
};

/** The name UPS gives a service code. */
export function serviceName(code: string): string {
  return SERVICE_NAMES[code] ?? `UPS service ${code}`;
}
