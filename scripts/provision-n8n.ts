#!/usr/bin/env node
// Usage: node scripts/provision-n8n.mjs [version ...]   (default: every supported version)
import { n8nRuntimes, provisionN8n } from './lib/runtimes';

const versions = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(n8nRuntimes);
for (const version of versions) {
	const runtime = await provisionN8n(version);
	process.stdout.write(`n8n ${version}: ${runtime.dir}\n`);
}
