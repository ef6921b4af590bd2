#!/usr/bin/env node
// Entry point for `npm link` and installs from a checkout. Node runs the TypeScript sources directly
// (type stripping, on by default from Node 22.18 and 24), so the checkout needs no build step.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`checkpoint needs Node.js 24 or newer (this is ${process.version}). From a checkout, run it as \`npm run checkpoint -- <command>\`, which uses the Node 24 installed by npm ci.\n`);
  process.exit(3);
}
const { main } = await import('../cli/main.ts');
await main(process.argv);
