// npx tsx bench/credentialCostBench.ts [calls] — what Include Order Details' lookup would cost n8n
// 2.41 per delivery if it let httpRequestWithAuthentication read the credential, against what it
// costs with the credential the trigger already remembers (only the credential's headers are
// applied). Runs in the n8n 2.41.1 runtime of the e2e harness (provisioned on first use), since
// n8n-core 2.8, which the other benchmarks run in, has no expression isolates. Prints only.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

import { provisionN8n } from '../dev/n8n/runtimes';

const N8N_VERSION = '2.41.1';

interface PerCall {
	wallMs: number;
	cpuMs: number;
}

async function main() {
	const calls = Number(process.argv[2] ?? 200);
	const runtime = await provisionN8n(N8N_VERSION);
	const output = await new Promise<string>((resolve, reject) => {
		execFile(
			runtime.nodeBin,
			// isolated-vm needs the snapshot off on Node 20 and later.
			[
				'--no-node-snapshot',
				join(__dirname, 'credentialCost.child.cjs'),
				runtime.dir,
				String(calls),
			],
			{ env: runtime.env, maxBuffer: 1024 * 1024 },
			(error, stdout, stderr) =>
				error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
		);
	});
	const { authenticate, getCredentials } = JSON.parse(output.trim().split('\n').pop() ?? '{}') as {
		authenticate: PerCall;
		getCredentials: PerCall;
	};
	const ms = (value: number) => value.toFixed(2);
	process.stdout.write(
		[
			`n8n ${N8N_VERSION}, vm expression engine (n8n's defaults), ${calls} calls each, per call:`,
			'',
			'| httpRequestWithAuthentication step | ms of CPU | ms wall |',
			'|---|---:|---:|',
			`| applying the credential's headers (two expressions, in the webhook call's isolate) | ${ms(authenticate.cpuMs)} | ${ms(authenticate.wallMs)} |`,
			`| reading the credential (an isolate of its own), skipped by passing the remembered one | ${ms(getCredentials.cpuMs)} | ${ms(getCredentials.wallMs)} |`,
			'',
			`Reading the credential on every lookup would cost ${(getCredentials.cpuMs / authenticate.cpuMs).toFixed(0)} × the CPU of applying its headers.`,
			'',
		].join('\n'),
	);
}

main().catch((error: Error) => {
	process.stderr.write(`${error.stack}\n`);
	process.exit(1);
});
