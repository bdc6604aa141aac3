// Builds the SDK (dist/sdk: an ES module + .d.ts), the web app (dist/app: index.html, app.js,
// app.css) and, with --tests, the SDK's unit tests (dist/test, run by `node --test`).
// The C++ build embeds dist/app into the `meeting` binary (src/app/CMakeLists.txt).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const withTests = process.argv.includes('--tests');
const started = Date.now();

// Type errors fail the build: esbuild only strips types.
const tsc = project => execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, project), '--noEmit'], { stdio: 'inherit' });
tsc('tsconfig.json');
if (withTests) tsc('sdk/test/tsconfig.json');

rmSync(join(dist, 'app'), { recursive: true, force: true });
rmSync(join(dist, 'sdk'), { recursive: true, force: true });
mkdirSync(join(dist, 'app'), { recursive: true });

const common = { bundle: true, target: ['chrome110', 'firefox115', 'safari16'], logLevel: 'warning', legalComments: 'none' };
await build({ ...common, entryPoints: [join(root, 'sdk/src/index.ts')], format: 'esm', outfile: join(dist, 'sdk/meeting-sdk.js'), sourcemap: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'sdk/tsconfig.declarations.json')], { stdio: 'inherit' });
await build({ ...common, entryPoints: [join(root, 'app/src/main.ts')], format: 'esm', minify: true, outfile: join(dist, 'app/app.js') });
await build({ ...common, entryPoints: [join(root, 'app/src/styles.css')], minify: true, outfile: join(dist, 'app/app.css') });
copyFileSync(join(root, 'app/index.html'), join(dist, 'app/index.html'));

if (withTests) {
  rmSync(join(dist, 'test'), { recursive: true, force: true });
  const tests = readdirSync(join(root, 'sdk/test')).filter(f => f.endsWith('.test.ts')).map(f => join(root, 'sdk/test', f));
  await build({ ...common, entryPoints: tests, format: 'esm', platform: 'node', target: 'node18', outdir: join(dist, 'test'), outExtension: { '.js': '.mjs' } });
}
console.log(`web: built sdk and app${withTests ? ' and tests' : ''} in ${Date.now() - started} ms`);
