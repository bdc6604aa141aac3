'use strict';
// Runs the browser tests one at a time (two at once saturate 2 cores: browser-testing.md §10).
// Usage: node run-all.js [name ...]   (names of *.test.js files without the suffix)
const fs = require('fs');
const path = require('path');

const TEST_TIMEOUT_MS = 180000;

async function main() {
  const wanted = process.argv.slice(2);
  const files = fs.readdirSync(__dirname).filter(f => f.endsWith('.test.js')).sort()
    .filter(f => wanted.length === 0 || wanted.includes(f.replace(/\.test\.js$/, '')));
  let failed = 0;
  for (const file of files) {
    const started = Date.now();
    console.log(`-- ${file}`);
    let timer;
    try {
      const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${TEST_TIMEOUT_MS / 1000} s`)), TEST_TIMEOUT_MS); });
      await Promise.race([require(path.join(__dirname, file))(), timeout]);
      console.log(`   ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (error) {
      failed++;
      console.log(`   FAILED: ${error.stack || error}`);
    } finally {
      clearTimeout(timer);
    }
  }
  console.log(`${files.length - failed}/${files.length} browser test files passed`);
  process.exit(failed ? 1 : 0);
}

main();
