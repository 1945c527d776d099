/**
 * The layout's rules (docs/design.md §1), checked on the source itself: which folders may import which, no
 * import cycle, and no file in the product's main folders over 400 lines. Imports are read from the text
 * (`from '…'` and `import('…')`), relative ones resolved like TypeScript resolves them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(import.meta.dirname, '..', '..');
const PRODUCT = ['workflows', 'activities', 'workers', 'client', 'agent', 'domain', 'db', 'inputs', 'stack'];
const SOURCES = [...PRODUCT, 'ups-sandbox', 'bench', 'chaos', 'scripts', 'test'];
const MAX_LINES = 400;
const SIZE_CHECKED = ['workflows', 'activities', 'client', 'agent'];

/** Every .ts file under `dir` (repo-relative, '/'-separated). */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(ROOT, rel))) {
      const child = `${rel}/${name}`;
      if (statSync(path.join(ROOT, child)).isDirectory()) {
        if (name !== 'node_modules' && name !== 'fixtures' && name !== 'histories') walk(child);
      } else if (name.endsWith('.ts')) out.push(child);
    }
  };
  walk(dir);
  return out;
}

/** The repo-relative file a relative import of `from` names, as TypeScript would find it. */
function resolve(from: string, spec: string): string | undefined {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const candidate of [base, `${base}.ts`, `${base}/index.ts`]) {
    if (candidate.endsWith('.ts') && existsSync(path.join(ROOT, candidate))) return candidate;
  }
  return undefined;
}

/** The relative imports of a file, resolved (type-only imports included: they still tie the modules). */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*)(['"])(\.{1,2}\/[^'"]+)\1/g)].map(
    (m) => m[2]!,
  );
  return specs.map((s) => resolve(file, s)).filter((f): f is string => f !== undefined);
}

/** The files a file imports with `import type` only. */
function typeOnlyImports(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/\bimport\s+type\s[^;]*?\bfrom\s+(['"])(\.{1,2}\/[^'"]+)\1/g)].map(
    (m) => m[2]!,
  );
  return specs.map((s) => resolve(file, s)).filter((f): f is string => f !== undefined);
}

const files = SOURCES.flatMap(tsFiles);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const top = (f: string): string => f.split('/')[0]!;

test('the import graph is read: every product folder has files and imports', () => {
  for (const dir of PRODUCT)
    assert.ok(
      files.some((f) => top(f) === dir),
      `${dir}/ has .ts files`,
    );
  const edges = [...graph.values()].reduce((n, e) => n + e.length, 0);
  assert.ok(edges > 500, `${edges} relative imports found`);
  // A known edge, so a broken reader cannot pass the rules below by finding nothing.
  assert.ok(graph.get('client/batches.ts')?.includes('domain/messages.ts'));
});

test('no product file imports scripts/ or test/; the front doors import nothing from activities/', () => {
  const broken: string[] = [];
  for (const [file, deps] of graph) {
    const from = top(file);
    if (!PRODUCT.includes(from)) continue;
    for (const dep of deps) {
      const to = top(dep);
      if (to === 'scripts' || to === 'test' || to === 'chaos' || to === 'bench')
        broken.push(`${file} → ${dep}`);
      if ((from === 'client' || from === 'agent') && to === 'activities') broken.push(`${file} → ${dep}`);
      // Workflow code runs in the sandbox: it may know the activities' types (`import type * as activities`, as
      // the samples do), nothing else of them.
      const typeOnly = to === 'activities' && typeOnlyImports(file).includes(dep);
      if ((from === 'workflows' || from === 'domain') && !['workflows', 'domain'].includes(to) && !typeOnly)
        broken.push(`${file} → ${dep}`);
      if (to === 'ups-sandbox' && from !== 'activities' && from !== 'client' && from !== 'stack')
        broken.push(`${file} → ${dep}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('the UPS sandbox shares no code with what it stands in for', () => {
  const broken = files
    .filter((f) => top(f) === 'ups-sandbox')
    .flatMap((f) =>
      graph
        .get(f)!
        .filter((d) => top(d) !== 'ups-sandbox')
        .map((d) => `${f} → ${d}`),
    );
  assert.deepEqual(broken, []);
});

test('no import cycle', () => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, trail: string[]): void => {
    state.set(file, 'open');
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === 'open') cycles.push([...trail.slice(trail.indexOf(dep)), dep].join(' → '));
      else if (!state.has(dep)) visit(dep, [...trail, dep]);
    }
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file, [file]);
  assert.deepEqual(cycles, []);
});

test(`no file in ${SIZE_CHECKED.join('/, ')}/ over ${MAX_LINES} lines`, () => {
  const long = files
    .filter((f) => SIZE_CHECKED.includes(top(f)))
    .map((f) => ({ f, lines: readFileSync(path.join(ROOT, f), 'utf8').split('\n').length - 1 }))
    .filter((x) => x.lines > MAX_LINES)
    .map((x) => `${x.f}: ${x.lines}`);
  assert.deepEqual(long, []);
});
