// Usage: tsx scripts/provision-n8n.ts [version ...]   (default: every supported n8n version)
import { n8nRuntimes, provisionN8n } from '../dev/n8n/runtimes';

async function main(): Promise<void> {
	const requested = process.argv.slice(2);
	const versions = requested.length > 0 ? requested : Object.keys(n8nRuntimes);
	for (const version of versions) {
		const runtime = await provisionN8n(version);
		process.stdout.write(`n8n ${version}: ${runtime.dir}\n`);
	}
}

main().catch((error: Error) => {
	process.stderr.write(`${error.message}\n`);
	process.exit(1);
});
