// `npm start`: builds and packs this repository, installs the tarball into a pinned n8n exactly as
// the Community Nodes installer would, and keeps that n8n running until Ctrl+C.
//
// Usage: tsx test/e2e/harness/devServer.ts [--n8n 2.41.1|2.8.4] [--port 5678] [--fresh]
//
// The user folder (workflows, credentials, executions) persists between runs in the cache folder.
// It must stay outside the clone: a package installed inside it would find the repository's own
// node_modules (its devDependencies n8n-workflow and zod) instead of n8n's.
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

import { packRepository } from '../../../scripts/lib/communityPackage';
import {
	cacheRoot,
	defaultN8nVersion,
	n8nRuntimes,
	type N8nVersion,
} from '../../../scripts/lib/runtimes';
import { startN8n } from './n8nInstance';
import { sleep } from './wait';

const repositoryRoot = join(__dirname, '..', '..', '..');

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			n8n: { type: 'string', default: defaultN8nVersion },
			port: { type: 'string', default: '5678' },
			fresh: { type: 'boolean', default: false },
		},
	});
	const version = values.n8n as N8nVersion;
	if (!(version in n8nRuntimes)) {
		throw new Error(`--n8n must be one of ${Object.keys(n8nRuntimes).join(', ')}`);
	}
	const userFolder = join(cacheRoot, 'dev', version);
	if (values.fresh) await rm(userFolder, { recursive: true, force: true });

	process.stdout.write(`Building and packing ${repositoryRoot} ...\n`);
	const tarball = await packRepository(repositoryRoot);
	process.stdout.write(`Starting n8n ${version} with ${tarball} ...\n`);
	const n8n = await startN8n({
		version,
		userFolder,
		tarballs: [tarball],
		port: Number(values.port),
	});
	await rm(dirname(tarball), { recursive: true, force: true });

	process.stdout.write(
		[
			'',
			`n8n ${version} is running: ${n8n.baseUrl}`,
			`  sign in:     ${n8n.owner.email} / ${n8n.owner.password}`,
			`  API key:     ${n8n.apiKey}`,
			`  webhooks:    ${n8n.webhookUrl('<webhookId>/<path>')}`,
			`  log:         ${n8n.logFile}`,
			`  user folder: ${n8n.userFolder} (--fresh starts over)`,
			'Ctrl+C stops it.',
			'',
		].join('\n'),
	);

	let stopping = false;
	const stop = (): void => {
		if (stopping) return;
		stopping = true;
		process.stdout.write('Stopping n8n ...\n');
		void n8n.stop().then(() => process.exit(0));
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);

	while (!stopping) {
		if (!n8n.isRunning()) {
			process.stderr.write(`n8n exited unexpectedly:\n${n8n.logTail(40)}\n`);
			process.exit(1);
		}
		await sleep(1_000);
	}
}

main().catch((error: unknown) => {
	process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
	process.exit(1);
});
