// Builds the SDK (dist/sdk: an ES module + .d.ts) and the web app (dist/app: index.html, app.js,
// app.css), which the C++ build embeds into the `meeting` binary (src/app/CMakeLists.txt).
// With --tests it builds only the SDK's unit tests (dist/test, run by `node --test dist/test/`).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const testsOnly = process.argv.includes('--tests');
const started = Date.now();
const common = { bundle: true, target: ['chrome110', 'firefox115', 'safari16'], logLevel: 'warning', legalComments: 'none' };

// Type errors fail the build: esbuild only strips types.
const tsc = (...args) => execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), ...args], { stdio: 'inherit' });

if (testsOnly) {
  tsc('-p', join(root, 'sdk/test/tsconfig.json'), '--noEmit');
  rmSync(join(dist, 'test'), { recursive: true, force: true });
  const tests = readdirSync(join(root, 'sdk/test')).filter(f => f.endsWith('.test.ts')).map(f => join(root, 'sdk/test', f));
  await build({ ...common, entryPoints: tests, format: 'esm', platform: 'node', target: 'node18', outdir: join(dist, 'test'), outExtension: { '.js': '.mjs' } });
  console.log(`web: built ${tests.length} test files in ${Date.now() - started} ms`);
} else {
  tsc('-p', join(root, 'tsconfig.json'), '--noEmit');
  rmSync(join(dist, 'sdk'), { recursive: true, force: true });
  await build({ ...common, entryPoints: [join(root, 'sdk/src/index.ts')], format: 'esm', outfile: join(dist, 'sdk/meeting-sdk.js'), sourcemap: true });
  tsc('-p', join(root, 'sdk/tsconfig.declarations.json'));
  // The app last and into a fresh folder, so a failed build never leaves a half-new app to embed.
  const staging = join(dist, 'app.new');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await build({ ...common, entryPoints: [join(root, 'app/src/main.ts')], format: 'esm', minify: true, outfile: join(staging, 'app.js') });
  await build({ ...common, entryPoints: [join(root, 'app/src/styles.css')], minify: true, outfile: join(staging, 'app.css') });
  copyFileSync(join(root, 'app/index.html'), join(staging, 'index.html'));
  rmSync(join(dist, 'app'), { recursive: true, force: true });
  renameSync(staging, join(dist, 'app'));
  console.log(`web: built the SDK and the app in ${Date.now() - started} ms`);
}
