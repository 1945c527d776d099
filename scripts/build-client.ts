/**
 * `npm run build`: the typed client as the package entry `shipbatch/client` (docs/design.md §9). The project
 * runs TypeScript through tsx with extensionless relative imports, which Node cannot load from plain tsc
 * output, so the build makes:
 * - `dist/client/index.js`: client/index.ts and what it imports bundled by esbuild (ESM for Node; every npm
 *   package stays an import, resolved from the installing project's node_modules);
 * - `dist/**.d.ts`: the declarations tsc emits (tsconfig.build.json), only the files `client/index.d.ts`
 *   reaches, their relative imports given the `.js` extension so that a consumer resolves them with
 *   `"moduleResolution": "node16"`/`"nodenext"` as well as `"bundler"`.
 * A declaration that cannot be emitted or resolved fails the build (exit 1); a package the declarations
 * import without types among the dependencies is named on stderr.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';
import ts from 'typescript';

const ROOT = path.join(import.meta.dirname, '..');
const OUT = path.join(ROOT, 'dist');
const ENTRY = 'client/index';

const rel = (file: string) => path.relative(ROOT, file).split(path.sep).join('/');

/** The package a specifier names: `@scope/name/sub` → `@scope/name`, `pg/lib` → `pg`. */
const packageOf = (spec: string) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

async function bundle(): Promise<void> {
  await build({
    absWorkingDir: ROOT,
    entryPoints: [`${ENTRY}.ts`],
    outfile: path.join(OUT, `${ENTRY}.js`),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
}

/** tsc's declarations for the client and what it imports, by absolute output path. */
function emitDeclarations(): Map<string, string> {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    path.join(ROOT, 'tsconfig.build.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!parsed) throw new Error('tsconfig.build.json could not be read');
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  const emitted = new Map<string, string>();
  const result = program.emit(undefined, (file, text) => emitted.set(path.resolve(file), text));
  const problems = [...parsed.errors, ...result.diagnostics];
  if (problems.length > 0) {
    throw new Error(
      ts.formatDiagnostics(problems, {
        getCanonicalFileName: (f) => f,
        getCurrentDirectory: () => ROOT,
        getNewLine: () => '\n',
      }),
    );
  }
  return emitted;
}

/**
 * The declarations reachable from `entry`, relative imports rewritten to `.js` (the file beside is a
 * `.d.ts`; TypeScript maps one to the other), and the packages they import.
 */
function linkDeclarations(
  emitted: Map<string, string>,
  entry: string,
): { files: Map<string, string>; packages: Set<string> } {
  const files = new Map<string, string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    const text = emitted.get(file);
    if (text === undefined) throw new Error(`no declaration emitted for ${rel(file)}`);
    files.set(file, text); // before the imports: cycles end here
    const dir = path.dirname(file);
    const linked = new Map<string, string>();
    for (const { fileName: spec } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!spec.startsWith('.')) {
        packages.add(packageOf(spec));
        continue;
      }
      const bare = spec.replace(/\.[cm]?[jt]s$/, '');
      const target = [`${bare}.d.ts`, `${bare}/index.d.ts`]
        .map((c) => path.resolve(dir, c))
        .find((c) => emitted.has(c));
      if (!target) throw new Error(`${rel(file)}: cannot resolve '${spec}' among the declarations`);
      visit(target);
      const js = path
        .relative(dir, target)
        .split(path.sep)
        .join('/')
        .replace(/\.d\.ts$/, '.js');
      linked.set(spec, js.startsWith('.') ? js : `./${js}`);
    }
    files.set(
      file,
      text.replace(/(['"])(\.\.?\/[^'"\n]*)\1/g, (m, quote: string, spec: string) =>
        linked.has(spec) ? `${quote}${linked.get(spec)}${quote}` : m,
      ),
    );
  };
  visit(entry);
  return { files, packages };
}

/**
 * Packages the declarations import that a consumer would not get types for from this package's
 * dependencies (their own types, or an `@types/` package among the dependencies).
 */
function packagesWithoutTypes(packages: Set<string>): string[] {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const deps = pkg.dependencies ?? {};
  const builtin = new Set(builtinModules);
  return [...packages].filter((name) => {
    if (name.startsWith('node:') || builtin.has(name)) return false;
    if (!(name in deps)) return true;
    const own = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      types?: string;
      typings?: string;
      exports?: unknown;
    };
    const hasOwn = Boolean(own.types ?? own.typings) || JSON.stringify(own.exports ?? '').includes('"types"');
    return !hasOwn && !(`@types/${name.replace(/^@(.*)\//, '$1__')}` in deps);
  });
}

rmSync(OUT, { recursive: true, force: true });
const started = Date.now();
await bundle();
const { files, packages } = linkDeclarations(emitDeclarations(), path.join(OUT, `${ENTRY}.d.ts`));
for (const [file, text] of files) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}
const untyped = packagesWithoutTypes(packages);
if (untyped.length > 0) {
  process.stderr.write(
    `build-client: note: the declarations import ${untyped.join(', ')}, whose types are not among the ` +
      `dependencies; a TypeScript consumer installs @types/ for them\n`,
  );
}
process.stdout.write(
  `build-client: ${rel(path.join(OUT, `${ENTRY}.js`))} and ${files.size} declaration files in ${Date.now() - started} ms\n`,
);
