/**
 * XLSX records for `shipbatch import`, read with a bounded reader of our own (zip-reader + xml-scanner) instead
 * of exceljs, whose streaming reader inflates without bounds and spills a sheet stored before the shared strings
 * to a temporary file. The parts are read in the order the data needs, whatever their order in the zip: the
 * workbook and its relationships (to find the sheet by name), the shared strings (bounded in count, bytes and
 * length each), the styles (only which cell formats are dates), then the sheet's rows one at a time, each cell
 * bounded in characters as its text arrives and each row in columns and characters. Nothing is written to disk.
 *
 * Cell values: shared and inline strings (rich text joined, phonetic runs left out, `_xHHHH_`
 * escapes decoded), numbers, booleans, error codes, dates by their number format (and the workbook's 1904 date
 * system). A formula is never evaluated: its cached result is the data, and one without a cached result is
 * stored as its text (`=A1+1`). Parts the data does not need (external links, macros, drawings) are never read.
 */
import { ImportError, type ImportLimits, type RecordAt } from './import-limits';
import { readSharedStrings } from './xlsx-shared-strings';
import { readSheet } from './xlsx-sheet';
import { readDateStyles, readRelationships, readWorkbook, resolveTarget, type Part } from './xlsx-workbook';
import { unreadable, UnpackBudget, ZipReader } from './zip-reader';

/**
 * The rows of worksheet `sheetName` of an XLSX file (default: the first worksheet), cells from column A.
 * Every limit of `limits` holds while reading; a file past one fails with an ImportError naming it.
 */
export async function* xlsxRecords(
  file: string,
  sheetName: string | undefined,
  limits: ImportLimits,
): AsyncGenerator<RecordAt> {
  const zip = await ZipReader.open(file);
  try {
    const ctx: Part = {
      file,
      zip,
      limits,
      budget: new UnpackBudget(file, limits.maxInflatedBytes, limits.maxCompressionRatio),
    };
    const book = await readWorkbook(ctx);
    const rels = await readRelationships(ctx, book.path, new Set(book.sheets.map((s) => s.rid)), [
      'sharedStrings',
      'styles',
    ]);
    const worksheets = book.sheets.filter((s) => rels.byId.get(s.rid)?.kind === 'worksheet');
    const chosen = sheetName === undefined ? worksheets[0] : book.sheets.find((s) => s.name === sheetName);
    if (!chosen) {
      const names = worksheets.map((s) => s.name);
      throw new ImportError(
        sheetName !== undefined
          ? `${file}: no worksheet named "${sheetName}" (worksheets: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''})`
          : `${file}: the workbook has no worksheet`,
      );
    }
    const rel = rels.byId.get(chosen.rid);
    if (!rel || rel.kind !== 'worksheet') {
      throw new ImportError(
        `${file}: sheet "${chosen.name}" is not a worksheet of rows (${rel?.kind ?? 'no part'})`,
      );
    }
    const path = rel.external ? undefined : resolveTarget(book.path, rel.target);
    const entry = path === undefined ? undefined : zip.entry(path);
    if (!entry || path === undefined) {
      // An external target is never fetched: the sheet's data must be in the file.
      throw unreadable(file, `sheet "${chosen.name}" has no part in the file (${rel.target.slice(0, 200)})`);
    }
    // The shared strings and styles by relationship, or where Excel puts them.
    const partOf = (kind: string, fallback: string): string | undefined => {
      const r = rels.byKind.get(kind);
      return resolveTarget(book.path, r ? r.target : fallback);
    };
    const strings = await readSharedStrings(ctx, partOf('sharedStrings', 'sharedStrings.xml'));
    const dates = await readDateStyles(ctx, partOf('styles', 'styles.xml'));
    yield* readSheet(ctx, { name: chosen.name, path, entry }, strings, dates, book.date1904);
  } finally {
    await zip.close();
  }
}
