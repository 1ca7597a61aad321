/**
 * Runs the Truv stand-in as its own process for tools and e2e tests:
 *
 *   npx tsx dev/truv-stand-in/cli.ts --port 0 [--page-size N] [--timeout-ms N]
 *     [--retry-delay-ms N] [--max-retries N] [--rate-limit N] [--quiet]
 *
 * `--rate-limit N` lowers Truv's 300 requests a minute per Access Secret to N.
 *
 * Prints one JSON line `{"url", "clientId", "secrets"}` to stdout once listening, logs calls
 * and deliveries to stderr, and closes cleanly on SIGINT or SIGTERM. Drive it through
 * `/_stand-in/…` (see controlApi.ts).
 */
import { standInSummary } from './controlApi';
import { startTruvStandIn, type TruvStandInOptions } from './truvStandIn';

const NUMBER_FLAGS = [
	'--port',
	'--page-size',
	'--timeout-ms',
	'--retry-delay-ms',
	'--max-retries',
	'--rate-limit',
];

function parseArguments(args: string[]): { numbers: Map<string, number>; quiet: boolean } {
	const numbers = new Map<string, number>();
	let quiet = false;
	for (let index = 0; index < args.length; index++) {
		const [flag, inlineValue] = args[index].split('=', 2);
		if (flag === '--quiet') {
			quiet = true;
			continue;
		}
		if (!NUMBER_FLAGS.includes(flag)) throw new Error(`Unknown argument ${args[index]}`);
		const text = inlineValue ?? args[++index];
		const value = Number(text);
		if (text === undefined || !Number.isInteger(value) || value < 0) {
			throw new Error(`${flag} needs a non-negative integer`);
		}
		numbers.set(flag, value);
	}
	return { numbers, quiet };
}

async function main(): Promise<void> {
	const { numbers, quiet } = parseArguments(process.argv.slice(2));
	const options: TruvStandInOptions = {
		port: numbers.get('--port') ?? 0,
		pageSize: numbers.get('--page-size'),
		delivery: {
			timeoutMs: numbers.get('--timeout-ms'),
			retryDelayMs: numbers.get('--retry-delay-ms'),
			maxRetries: numbers.get('--max-retries'),
		},
		rateLimit: { requests: numbers.get('--rate-limit') },
		log: quiet ? undefined : (line) => process.stderr.write(`[truv-stand-in] ${line}\n`),
	};
	const standIn = await startTruvStandIn(options);
	process.stdout.write(`${JSON.stringify(standInSummary(standIn))}\n`);

	let stopping = false;
	const stop = (signal: NodeJS.Signals) => {
		if (stopping) return;
		stopping = true;
		if (!quiet) process.stderr.write(`[truv-stand-in] ${signal}: closing\n`);
		standIn.close().then(
			() => process.exit(0),
			(error: Error) => {
				process.stderr.write(`[truv-stand-in] close failed: ${error.message}\n`);
				process.exit(1);
			},
		);
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

main().catch((error: Error) => {
	process.stderr.write(`[truv-stand-in] ${error.message}\n`);
	process.exit(1);
});
