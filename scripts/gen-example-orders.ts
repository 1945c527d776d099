/**
 * Generates examples/orders.csv: 200 deterministic US orders (seeded PRNG).
 * Deliberately bad rows (row numbers are 1-based data rows, as shipbatch numbers them):
 *   row 17  — bad ZIP "ABCDE" (E-2001 at ShipTo.Address.PostalCode)
 *   row 42  — missing city (E-1001 at ShipTo.Address.City)
 *   row 88  — overweight: 3200 oz = 200 lb (E-2004 at Package[0].PackageWeight.Weight)
 *   row 133 — 40-char address line (E-2005 at ShipTo.Address.AddressLine[0])
 * Run: node --import tsx scripts/gen-example-orders.ts
 */
import { writeFileSync } from 'node:fs';

export const BAD_ROWS = { badZip: 17, missingCity: 42, overweight: 88, longAddress: 133 } as const;

let seed = 20261124;
const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;

const FIRST = [
  'James',
  'Maria',
  'Robert',
  'Linda',
  'Michael',
  'Patricia',
  'David',
  'Jennifer',
  'Wei',
  'Aisha',
  'Carlos',
  'Emily',
  'Noah',
  'Olivia',
  'Liam',
  'Sofia',
];
const LAST = [
  'Smith',
  'Garcia',
  'Johnson',
  'Nguyen',
  'Brown',
  'Martinez',
  'Davis',
  'Lee',
  'Wilson',
  'Anderson',
  'Thomas',
  'Patel',
  'Clark',
  'Lewis',
];
const STREETS = [
  'Main St',
  'Oak Ave',
  'Maple Dr',
  'Cedar Ln',
  'Park Blvd',
  'Elm St',
  'Washington Ave',
  'Lakeview Dr',
  'Sunset Blvd',
  'Pine St',
];
const CITIES: readonly [string, string, string][] = [
  ['New York', 'NY', '10001'],
  ['Los Angeles', 'CA', '90012'],
  ['Chicago', 'IL', '60601'],
  ['Houston', 'TX', '77002'],
  ['Phoenix', 'AZ', '85004'],
  ['Philadelphia', 'PA', '19103'],
  ['San Antonio', 'TX', '78205'],
  ['San Diego', 'CA', '92101'],
  ['Dallas', 'TX', '75201'],
  ['Seattle', 'WA', '98101'],
  ['Denver', 'CO', '80202'],
  ['Boston', 'MA', '02108'],
  ['Atlanta', 'GA', '30303'],
  ['Miami', 'FL', '33130'],
  ['Portland', 'OR', '97204'],
  ['Nashville', 'TN', '37203'],
];
const SERVICES = ['ground', 'Ground', '2nd Day Air', 'next day air', '03', '3 Day Select', 'saver'];
const ITEMS = [
  'T-shirt',
  'Coffee mug',
  'Desk lamp',
  'Running shoes',
  'Backpack',
  'Headphones',
  'Book set',
  '',
];

export function generateOrders(): Record<string, string>[] {
  const rows: Record<string, string>[] = [];
  for (let i = 1; i <= 200; i++) {
    const [city, state, zip] = pick(CITIES);
    const plus4 = rnd() < 0.2 ? String(1000 + Math.floor(rnd() * 8999)) : '';
    const row: Record<string, string> = {
      order_id: `ORD-${String(100000 + i)}`,
      name: `${pick(FIRST)} ${pick(LAST)}`,
      address1: `${100 + Math.floor(rnd() * 9800)} ${pick(STREETS)}`,
      address2: rnd() < 0.25 ? `Apt ${1 + Math.floor(rnd() * 40)}` : '',
      city,
      state,
      zip: plus4 ? `${zip}-${plus4}` : zip,
      phone:
        rnd() < 0.5
          ? `(${200 + Math.floor(rnd() * 700)}) 555-${String(1000 + i)}`
          : `1${200 + Math.floor(rnd() * 700)}555${String(1000 + i)}`,
      service: pick(SERVICES),
      weight_oz: String(4 + Math.floor(rnd() * 600)),
      item: pick(ITEMS),
    };
    if (i === BAD_ROWS.badZip) row['zip'] = 'ABCDE';
    if (i === BAD_ROWS.missingCity) row['city'] = '';
    if (i === BAD_ROWS.overweight) row['weight_oz'] = '3200';
    if (i === BAD_ROWS.longAddress)
      row['address1'] = '12345 North Extraordinarylongname Street'.padEnd(40, 'X');
    rows.push(row);
  }
  return rows;
}

const csvCell = (v: string): string => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

export function toCsv(rows: Record<string, string>[]): string {
  const cols = Object.keys(rows[0]!);
  return (
    [cols.join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c] ?? '')).join(','))].join('\n') + '\n'
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../examples/orders.csv', import.meta.url), toCsv(generateOrders()));
  console.log('wrote examples/orders.csv (200 rows)');
}
