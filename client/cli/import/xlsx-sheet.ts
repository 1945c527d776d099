/**
 * The row stream of one worksheet of an XLSX file: each row handed over as soon as it closes, each cell bounded in
 * characters as its text arrives and each row in columns and characters. Cell values: shared and inline strings,
 * numbers, booleans, error codes, dates by their number format (and the workbook's 1904 date system). A formula
 * is never evaluated: its cached result is the data, and one without a cached result is stored as its text.
 */
import { ImportError, type Cell, type RecordAt } from './import-limits';
import { TextRuns, type SharedStrings } from './xlsx-shared-strings';
import { scanPart, type Part } from './xlsx-workbook';
import type { XmlAttributes, XmlHandler } from './xml-scanner';
import type { PartLabel, ZipEntry } from './zip-reader';

/** Excel's own bounds of a sheet: XFD1048576. */
const MAX_SHEET_ROW = 1_048_576;
const MAX_SHEET_COLUMN = 16_384;

/** The column of a cell reference (`C7` → 3), or undefined when it is not A1 … XFD1048576. */
function columnOf(ref: string): number | undefined {
  let col = 0;
  let i = 0;
  for (; i < ref.length && i < 4; i++) {
    const c = ref.charCodeAt(i);
    if (c < 65 || c > 90) break;
    col = col * 26 + (c - 64);
  }
  if (i === 0 || col > MAX_SHEET_COLUMN || !/^[1-9][0-9]{0,6}$/.test(ref.slice(i))) return undefined;
  return col;
}

/** An Excel serial date → `YYYY-MM-DD` at midnight, else the ISO timestamp; null when out of range. */
function serialDate(serial: number, date1904: boolean): string | null {
  const d = new Date(Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000));
  if (Number.isNaN(d.getTime())) return null;
  const iso = d.toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
}

const CELL_TYPES = new Set(['n', 's', 'str', 'inlineStr', 'b', 'e', 'd']);

/** The worksheet to read: its name, its part and the zip entry of that part. */
export interface SheetSource {
  name: string;
  path: string;
  entry: ZipEntry;
}

/** The rows of the sheet, each as soon as it closes. */
export async function* readSheet(
  ctx: Part,
  sheet: SheetSource,
  strings: SharedStrings | undefined,
  dateStyles: Uint8Array | undefined,
  date1904: boolean,
): AsyncGenerator<RecordAt> {
  const { file, limits, budget } = ctx;
  const at = (line: number, col?: number): string =>
    `${file}, sheet "${sheet.name}", line ${line}${col !== undefined ? `, column ${col}` : ''}`;
  const label: PartLabel = { text: `sheet "${sheet.name}" (${sheet.path})` };
  const done: RecordAt[] = [];
  let inSheetData = 0;
  // The open row and cell (0: none), by depth.
  let rowDepth = 0;
  let line = 0;
  let values: Cell[] = [];
  let rowChars = 0;
  let cellDepth = 0;
  let col = 0;
  let type = 'n';
  let style = 0;
  let valueDepth = 0; // the open <v>
  let formulaDepth = 0; // the open <f>
  let inlineDepth = 0; // the open <is>
  let sawValue = false;
  let sawFormula = false;
  let valueText: string[] = [];
  let formulaText: string[] = [];
  let cellChars = 0;
  const tooLong = (): ImportError =>
    new ImportError(`${at(line, col)}: longer than ${limits.maxCellChars} characters, the cell limit`, line);
  const inline = new TextRuns(tooLong);

  const cellValue = (): Cell => {
    const v = valueText.join('');
    let value: Cell = null;
    switch (type) {
      case 's': {
        if (!sawValue) break;
        const i = /^\s*\d+\s*$/.test(v) ? Number(v) : -1;
        if (!strings || i < 0 || i >= strings.count) {
          throw new ImportError(
            `${at(line, col)}: shared string ${v.trim().slice(0, 20)} does not exist (the workbook has ${strings?.count ?? 0})`,
            line,
          );
        }
        // A shared string costs its size again each time a cell uses it: the same budget as unpacking.
        budget.spend(strings.size(i), label);
        value = strings.get(i);
        break;
      }
      case 'inlineStr':
        value = inline.seen ? inline.value() : sawValue ? v : null;
        break;
      case 'str':
      case 'e':
        value = sawValue ? v : null;
        break;
      case 'b':
        value = sawValue ? (parseInt(v, 10) !== 0 ? 'true' : 'false') : null;
        break;
      case 'd': {
        if (!sawValue) break;
        const m = /^(\d{4}-\d{2}-\d{2})(?:T00:00(?::00(?:\.0+)?)?Z?)?$/.exec(v.trim());
        value = m ? (m[1] ?? v) : v;
        break;
      }
      default: {
        if (!sawValue) break;
        const num = parseFloat(v);
        if (!Number.isFinite(num)) break;
        value = dateStyles?.[style] === 1 ? serialDate(num, date1904) : String(num);
      }
    }
    if (value === null && sawFormula) {
      const formula = formulaText.join('');
      // Never evaluated: the formula's text is the data when Excel left no result.
      if (formula !== '') value = `=${formula}`;
    }
    return value;
  };

  const handler: XmlHandler = {
    open(name, attrs: XmlAttributes, depth) {
      if (cellDepth !== 0) {
        if (name === 'v' && valueDepth === 0) {
          valueDepth = depth;
          sawValue = true;
        } else if (name === 'f' && formulaDepth === 0) {
          formulaDepth = depth;
          sawFormula = true;
        } else if (name === 'is' && inlineDepth === 0) inlineDepth = depth;
        else if (inlineDepth !== 0) inline.open(name, depth);
        return;
      }
      if (rowDepth !== 0) {
        if (name !== 'c') return;
        const ref = attrs.get('r');
        if (ref === undefined) col++;
        else {
          const c = columnOf(ref);
          if (c === undefined) {
            throw new ImportError(
              `${at(line)}: a cell reference ${JSON.stringify(ref.slice(0, 20))} that is not between A1 and XFD1048576`,
              line,
            );
          }
          col = c;
        }
        type = attrs.get('t') ?? 'n';
        if (!CELL_TYPES.has(type)) {
          throw new ImportError(
            `${at(line, col)}: a cell type ${JSON.stringify(type.slice(0, 20))} that XLSX does not define`,
            line,
          );
        }
        style = Number(attrs.get('s') ?? 0);
        cellDepth = depth;
        sawValue = false;
        sawFormula = false;
        valueText = [];
        formulaText = [];
        cellChars = 0;
        inline.reset();
        return;
      }
      if (name === 'sheetData') inSheetData = depth;
      else if (name === 'row' && inSheetData !== 0) {
        const r = attrs.get('r');
        const n = r === undefined ? line + 1 : /^\d{1,7}$/.test(r) ? Number(r) : 0;
        if (n < 1 || n > MAX_SHEET_ROW) {
          throw new ImportError(
            `${file}, sheet "${sheet.name}": a row number ${JSON.stringify((r ?? '').slice(0, 20))} outside 1…${MAX_SHEET_ROW}`,
          );
        }
        line = n;
        rowDepth = depth;
        values = [];
        rowChars = 0;
        col = 0;
      }
    },
    close(name, depth) {
      if (cellDepth !== 0) {
        if (depth === valueDepth) valueDepth = 0;
        else if (depth === formulaDepth) formulaDepth = 0;
        else if (depth === inlineDepth) inlineDepth = 0;
        else if (inlineDepth !== 0) inline.close(name, depth);
        else if (depth === cellDepth) {
          cellDepth = 0;
          const value = cellValue();
          if (value === null) return;
          if (col > limits.maxColumns) {
            if (value === '') return;
            throw new ImportError(
              `${at(line, col)}: a value past column ${limits.maxColumns}, the column limit`,
              line,
            );
          }
          rowChars += value.length;
          if (rowChars > limits.maxRecordChars) {
            throw new ImportError(
              `${at(line)}: the row is longer than ${limits.maxRecordChars} characters, the record limit`,
              line,
            );
          }
          while (values.length < col - 1) values.push(null);
          values[col - 1] = value;
        }
        return;
      }
      if (depth === rowDepth) {
        rowDepth = 0;
        done.push({ line, values });
        return true; // hand the row over before reading on
      }
      if (depth === inSheetData) inSheetData = 0;
    },
    text(s) {
      if (valueDepth !== 0 || formulaDepth !== 0) {
        cellChars += s.length;
        if (cellChars > limits.maxCellChars) throw tooLong();
        (valueDepth !== 0 ? valueText : formulaText).push(s);
      } else if (inlineDepth !== 0) inline.text(s, limits.maxCellChars);
    },
  };

  for await (const _ of scanPart(ctx, sheet.entry, label, handler)) {
    yield* done.splice(0);
  }
  yield* done.splice(0);
}
