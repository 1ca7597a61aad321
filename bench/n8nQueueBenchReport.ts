// The queue-mode part of bench:n8n's report, as it goes into BENCHMARKS.md: per n8n version and
// worker count the two targets, the Truv ÷ trivial ratio per worker count, and what a second
// worker changed. That last one is printed, never judged: on a machine with few cores the workers
// share them with main, the webhook processes, PostgreSQL, Redis and the load itself.
import { cpus } from 'os';

import type { N8nVersion } from '../dev/n8n/runtimes';
import { readTruvFixture } from '../dev/truv-stand-in/webhookBody';
import {
	errorsOf,
	LATER_WARMUP_S,
	type MeasureSettings,
	type TargetResult,
} from './n8nBenchMeasure';
import {
	executionsMatch,
	fmt,
	machineLine,
	mb,
	othersWarning,
	ratio,
	RESULT_ALIGNMENTS,
	RESULT_HEADINGS,
	resultCells,
	type Ratio,
} from './n8nBenchReport';
import { FIXTURE, TARGET_LABELS, type TargetKey } from './n8nBenchTargets';

/** One worker count's measurements in one cluster. */
export interface WorkersResult {
	workers: number;
	/** RSS of the cluster's n8n processes a few seconds before the first load at this count. */
	idleRssBytes: number;
	results: TargetResult[];
}

export interface QueueVersionResult {
	version: N8nVersion;
	nodeVersion: string;
	webhookProcesses: number;
	/** From the start of Redis until every process had the packages installed. */
	readyAfterMs: number;
	byWorkers: WorkersResult[];
}

const workersLabel = (count: number): string => `${count} worker${count === 1 ? '' : 's'}`;

function resultOf(run: WorkersResult, key: TargetKey): TargetResult | undefined {
	return run.results.find((result) => result.key === key);
}

function resultsTable(version: QueueVersionResult): string {
	const rows = version.byWorkers.flatMap((run) =>
		run.results.map(
			(result) => `| ${run.workers} | ${TARGET_LABELS[result.key]} | ${resultCells(result)} |`,
		),
	);
	return [
		`| workers | target | ${RESULT_HEADINGS} |`,
		`|---:|---|${RESULT_ALIGNMENTS}|`,
		...rows,
	].join('\n');
}

function ratiosOf(version: QueueVersionResult): Ratio[] {
	const ratios: Ratio[] = [];
	for (const run of version.byWorkers) {
		const [ceiling, truv] = [resultOf(run, '1'), resultOf(run, '2')];
		if (ceiling && truv) {
			ratios.push(
				ratio(`${workersLabel(run.workers)}: Truv ÷ trivial community trigger`, truv, ceiling),
			);
		}
	}
	const [fewest, most] = [version.byWorkers[0], version.byWorkers[version.byWorkers.length - 1]];
	if (fewest && most && most.workers > fewest.workers) {
		for (const { key } of most.results) {
			const [before, after] = [resultOf(fewest, key), resultOf(most, key)];
			if (!before || !after) continue;
			const label = `${TARGET_LABELS[key].replace(/\*/g, '')}: ${workersLabel(most.workers)} ÷ ${workersLabel(fewest.workers)}`;
			ratios.push(ratio(label, after, before));
		}
	}
	return ratios;
}

function allResults(version: QueueVersionResult): TargetResult[] {
	return version.byWorkers.flatMap((run) => run.results);
}

function ratiosTable(version: QueueVersionResult): string {
	const totalErrors = allResults(version).reduce((sum, result) => sum + errorsOf(result.load), 0);
	const mismatched = version.byWorkers.flatMap((run) =>
		run.results
			.filter((result) => !executionsMatch(result))
			.map((result) => `${result.key} at ${workersLabel(run.workers)}`),
	);
	return [
		'| | executions/s | answered req/s | CPU per execution (inverse) | goal |',
		'|---|---:|---:|---:|---|',
		...ratiosOf(version).map(
			(r) => `| ${r.label} | ${fmt(r.executions, 2)} | ${fmt(r.answers, 2)} | ${fmt(r.cpu, 2)} | |`,
		),
		`| errors, all runs | ${totalErrors} | | | 0 ${totalErrors === 0 ? '✓' : '✗'} |`,
		`| runs with executions ≠ accepted, or failed ones | ${mismatched.length} | | | 0 ${mismatched.length === 0 ? '✓' : `✗ (${mismatched.join(', ')})`} |`,
	].join('\n');
}

export function queueReport(
	versions: QueueVersionResult[],
	settings: MeasureSettings & { env: Record<string, string> },
	others: number[],
): string {
	const webhookProcesses = versions[0]?.webhookProcesses ?? 2;
	const lines: string[] = [
		machineLine(),
		'',
		`Settings: one queue-mode cluster per version, started as the e2e suite starts it: PostgreSQL (fsync off), Redis, main (\`EXECUTIONS_MODE=queue\`, production webhooks off on main), ${webhookProcesses} \`n8n webhook\` processes behind the round-robin proxy (in the benchmark's process, next to the load; a new connection to a webhook process per request, as nginx without upstream keepalive), and \`n8n worker\` processes at n8n's default concurrency (10); a run with fewer workers than the cluster has stops the others first. ${settings.connections} connections to the proxy, ${settings.durationS} s per target and worker count in ${settings.rounds} rounds over both targets (${fmt(settings.durationS / settings.rounds)} s each, after a warm-up of ${settings.warmupS} s in the first round and ${Math.min(settings.warmupS, LATER_WARMUP_S)} s in later ones); executions saved as by default${
			Object.keys(settings.env).length
				? `, and ${Object.entries(settings.env)
						.map(([name, value]) => `\`${name}=${value}\``)
						.join(', ')}`
				: ''
		}. Every request is \`${FIXTURE}.json\` (${readTruvFixture(FIXTURE).length} bytes) with its own webhook_id and its own \`X-WEBHOOK-SIGN\`.`,
		'',
		"Columns: **answered req/s**: 2xx answers per second of the load. **executions/s**: the executions that load started ÷ the time from its start until the last of them finished, the sustained capacity (a webhook process answers before a worker has run the execution). **errors**: non-2xx answers, socket errors and timeouts (10 s). **n8n CPU** and **peak RSS**: the cluster's n8n processes that run (main, webhook processes, workers, their task runners), not PostgreSQL, Redis or the proxy; CPU from the start of the load until the last execution finished, per execution; RSS summed, sampled every 250 ms. **executions / accepted**: finished executions of that workflow ÷ 2xx answers. **drain**: seconds from the end of a round's load until the last execution finished (the longest round). Throughput, errors and CPU are totals over the rounds; p50 and p99 are the median round's.",
		'',
		`Scaling from one worker count to the next is printed, not judged: on ${cpus().length} cores the workers share the machine with every other process of the cluster and with the load.`,
	];
	lines.push(...othersWarning(others));
	for (const version of versions) {
		lines.push(
			'',
			`### n8n ${version.version} (Node ${version.nodeVersion}), queue mode`,
			'',
			`Cluster ready after ${fmt(version.readyAfterMs / 1000)} s (every process started and the packages installed through main); RSS of its n8n processes before the first load: ${version.byWorkers
				.map((run) => `${mb(run.idleRssBytes)} with ${workersLabel(run.workers)}`)
				.join(', ')}.`,
			'',
			resultsTable(version),
			'',
			ratiosTable(version),
		);
	}
	return lines.join('\n');
}
