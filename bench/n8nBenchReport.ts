// The report of bench:n8n, as it goes into BENCHMARKS.md: per n8n version the table of targets,
// the ratios between them against the goals, and a reading in prose; then what refused requests
// cost n8n, in a table of their own with its reading.
import { cpus, totalmem } from 'os';

import type { N8nVersion } from '../dev/n8n/runtimes';
import { readTruvFixture } from '../dev/truv-stand-in/webhookBody';
import type { LoadResult } from './loadRun';
import {
	errorsOf,
	LATER_WARMUP_S,
	type MeasureSettings,
	type TargetResult,
} from './n8nBenchMeasure';
import {
	allRefused,
	AUTO_SECONDS,
	BATCH_SETTLE_MS,
	cpuMsPerRequest,
	forgedToMalformed,
	QUADRUPLES,
	type RefusedKindResult,
	type RefusedResult,
} from './n8nBenchRefused';
import { FIXTURE, TARGET_LABELS, type TargetKey } from './n8nBenchTargets';

const GOALS = { ceilingRatio: 0.95, diyRatio: 1.5 };

export interface VersionResult {
	version: N8nVersion;
	nodeVersion: string;
	readyAfterMs: number;
	idleRssBytes: number;
	results: TargetResult[];
	/** Refused requests to target 2 after the load, unless skipped. */
	refused?: RefusedResult;
}

export const fmt = (value: number, digits = 1): string =>
	Number.isFinite(value)
		? value.toLocaleString('en-US', {
				minimumFractionDigits: digits,
				maximumFractionDigits: digits,
			})
		: '–';
export const mb = (bytes: number): string => `${fmt(bytes / 2 ** 20, 0)} MB`;
export const percent = (fraction: number): string =>
	`${fmt(Math.abs(fraction) * 100, Math.abs(fraction) < 0.1 ? 1 : 0)} %`;

function byKey(version: VersionResult, key: TargetKey): TargetResult | undefined {
	return version.results.find((result) => result.key === key);
}

export function executionsMatch(result: TargetResult): boolean {
	return result.executions === result.load.accepted && result.successful === result.executions;
}

export function executionsCell(result: TargetResult): string {
	const { executions, successful, load } = result;
	const failed = executions - successful;
	return `${executions} / ${load.accepted}${failed ? ` (${failed} failed)` : ''}${executionsMatch(result) ? '' : ' ⚠'}`;
}

export function errorsCell(load: LoadResult): string {
	const errors = errorsOf(load);
	if (errors === 0) return '0';
	const parts = Object.entries(load.statusCodes)
		.filter(([code]) => !code.startsWith('2'))
		.map(([code, count]) => `${count}× ${code}`);
	if (load.socketErrors) parts.push(`${load.socketErrors} socket (${load.timeouts} timeouts)`);
	return `**${errors}** (${parts.join(', ')})`;
}

/** The lines that say other n8n processes ran while the numbers were taken, if any did. */
export function othersWarning(others: number[]): string[] {
	return others.length
		? [
				'',
				`⚠ Other n8n processes were running during this run (pids ${others.join(', ')}): the absolute numbers are skewed, the ratios less so.`,
			]
		: [];
}

/** The measured columns of a result's row, after the columns that name it. */
export function resultCells(result: TargetResult): string {
	const { load } = result;
	const drain = `${fmt(result.drainS)}${result.drained ? '' : ' (gave up)'}`;
	return `${fmt(load.requestsPerSecond)} | ${fmt(result.executionsPerSecond)} | ${fmt(load.latencyP50Ms, 0)} | ${fmt(load.latencyP99Ms, 0)} | ${errorsCell(load)} | ${fmt(result.cpuMsPerExecution)} | ${mb(result.peakRssBytes)} | ${executionsCell(result)} | ${drain}`;
}

/** The headings and alignments of resultCells' columns. */
export const RESULT_HEADINGS =
	'answered req/s | executions/s | p50 ms | p99 ms | errors | n8n CPU ms / execution | peak RSS | executions / accepted | drain s';
export const RESULT_ALIGNMENTS = '---:|---:|---:|---:|---:|---:|---:|---:|---:';

function resultsTable(version: VersionResult): string {
	const rows = version.results.map(
		(result) => `| ${result.key} | ${TARGET_LABELS[result.key]} | ${resultCells(result)} |`,
	);
	return [`| # | target | ${RESULT_HEADINGS} |`, `|---|---|${RESULT_ALIGNMENTS}|`, ...rows].join(
		'\n',
	);
}

export interface Ratio {
	label: string;
	/** Sustained: executions per second, load and drain. */
	executions: number;
	/** Answers per second during the load. */
	answers: number;
	/** The other target's CPU per execution ÷ this one's: above 1 when this one is cheaper. */
	cpu: number;
	goal?: number;
}

export function ratio(
	label: string,
	mine: TargetResult,
	other: TargetResult,
	goal?: number,
): Ratio {
	return {
		label,
		executions: mine.executionsPerSecond / other.executionsPerSecond,
		answers: mine.load.requestsPerSecond / other.load.requestsPerSecond,
		cpu: other.cpuMsPerExecution / mine.cpuMsPerExecution,
		goal,
	};
}

function ratiosOf(version: VersionResult): Ratio[] {
	const truv = byKey(version, '2');
	if (!truv) return [];
	const ratios: Ratio[] = [];
	const [ceiling, noDedup, diy, webhook] = (['1', '2b', '3', '4'] as const).map((key) =>
		byKey(version, key),
	);
	if (ceiling) {
		ratios.push(
			ratio('2 / 1: Truv ÷ trivial community trigger', truv, ceiling, GOALS.ceilingRatio),
		);
	}
	if (diy) ratios.push(ratio('2 / 3: Truv ÷ DIY chain', truv, diy, GOALS.diyRatio));
	if (webhook) ratios.push(ratio('2 / 4: Truv ÷ Webhook → NoOp', truv, webhook));
	if (noDedup) ratios.push(ratio('2b / 2: duplicates not tracked ÷ tracked', noDedup, truv));
	return ratios;
}

function againstGoal(value: number, goal: number | undefined): string {
	if (goal === undefined) return fmt(value, 2);
	return `${fmt(value, 2)} ${value >= goal ? '✓' : '✗'}`;
}

function ratiosTable(version: VersionResult): string {
	const totalErrors = version.results.reduce((sum, result) => sum + errorsOf(result.load), 0);
	const mismatched = version.results.filter((result) => !executionsMatch(result));
	return [
		'| | executions/s | answered req/s | CPU per execution (inverse) | goal |',
		'|---|---:|---:|---:|---|',
		...ratiosOf(version).map(
			(r) =>
				`| ${r.label} | ${againstGoal(r.executions, r.goal)} | ${againstGoal(r.answers, r.goal)} | ${fmt(r.cpu, 2)} | ${r.goal === undefined ? '' : `≥ ${r.goal}`} |`,
		),
		`| errors, all targets | ${totalErrors} | | | 0 ${totalErrors === 0 ? '✓' : '✗'} |`,
		`| targets with executions ≠ accepted, or failed ones | ${mismatched.length} | | | 0 ${mismatched.length === 0 ? '✓' : `✗ (${mismatched.map((result) => result.key).join(', ')})`} |`,
	].join('\n');
}

function goalSentence(r: Ratio, what: string): string {
	const goal = r.goal!;
	const verdict =
		r.executions >= goal
			? `the ≥ ${goal} goal is met (${percent(r.executions / goal - 1)} above)`
			: `the ≥ ${goal} goal is **missed by ${percent(r.executions / goal - 1)}**`;
	const byAnswers =
		r.answers >= goal === r.executions >= goal
			? `${fmt(r.answers, 2)}× by answered requests`
			: `${fmt(r.answers, 2)}× by answered requests, which ${r.answers >= goal ? 'would meet' : 'would miss'} it`;
	return `Sustained, that is ${fmt(r.executions, 2)}× ${what}: ${verdict}; ${byAnswers}; ${fmt(r.cpu, 2)}× by CPU per execution.`;
}

function reading(version: VersionResult): string {
	const truv = byKey(version, '2');
	if (!truv) return 'Target 2 (the Truv Order Trigger) did not run: nothing to compare.';
	const sentences: string[] = [];
	const rate = (result: TargetResult) =>
		`${fmt(result.executionsPerSecond)} executions/s (${fmt(result.cpuMsPerExecution)} ms of n8n CPU each)`;
	sentences.push(
		`The Truv Order Trigger (signature, validation and duplicate record) ran ${rate(truv)} and answered ${fmt(truv.load.requestsPerSecond)} req/s.`,
	);
	const ratios = ratiosOf(version);
	const find = (prefix: string) => ratios.find((r) => r.label.startsWith(prefix));
	const ceiling = byKey(version, '1');
	const toCeiling = find('2 / 1');
	if (ceiling && toCeiling) {
		sentences.push(goalSentence(toCeiling, `the trivial community trigger's ${rate(ceiling)}`));
	}
	const diy = byKey(version, '3');
	const toDiy = find('2 / 3');
	if (diy && toDiy) {
		sentences.push(
			goalSentence(
				toDiy,
				`the do-it-yourself chain's ${rate(diy)}, which neither validates nor skips duplicates nor refuses forged requests`,
			),
		);
	}
	const webhook = byKey(version, '4');
	const toWebhook = find('2 / 4');
	if (webhook && toWebhook) {
		sentences.push(
			`n8n's own Webhook → NoOp ran ${rate(webhook)}: the Truv trigger reaches ${fmt(toWebhook.executions, 2)}× that.`,
		);
	}
	const noDedup = byKey(version, '2b');
	if (noDedup) {
		const capacityMs = 1000 / truv.executionsPerSecond - 1000 / noDedup.executionsPerSecond;
		const cpuMs = truv.cpuMsPerExecution - noDedup.cpuMsPerExecution;
		const cpuShare = cpuMs / truv.cpuMsPerExecution;
		const speedup = noDedup.executionsPerSecond / truv.executionsPerSecond;
		const noise =
			Math.abs(cpuShare) < 0.05 && Math.abs(speedup - 1) < 0.05
				? ' Both differences are within the noise of this benchmark.'
				: '';
		sentences.push(
			`Without duplicate tracking it ran ${rate(noDedup)}, ${fmt(speedup, 2)}× the executions/s: the duplicate record costs ${fmt(cpuMs, 2)} ms of n8n CPU per delivery (${cpuShare < 0 ? '-' : ''}${percent(cpuShare)} of it) and ${fmt(capacityMs, 2)} ms of n8n's capacity (1 ÷ executions/s).${noise}`,
		);
	}
	const backlogged = version.results.filter(
		(result) => result.load.requestsPerSecond > result.executionsPerSecond * 1.1,
	);
	if (backlogged.length) {
		sentences.push(
			`n8n answered faster than it executed for ${backlogged
				.map(
					(result) =>
						`${result.key} (${fmt(result.load.requestsPerSecond)} req/s answered, ${fmt(result.executionsPerSecond)} executions/s; the backlog took ${fmt(result.drainS)} s to drain, RSS peaked at ${mb(result.peakRssBytes)})`,
				)
				.join(
					', ',
				)}: a trigger that answers from its own webhook() lets the next request in before n8n has created the execution, so under a closed loop executions queue up in memory; the sustained executions/s is the capacity.`,
		);
	}
	const totalErrors = version.results.reduce((sum, result) => sum + errorsOf(result.load), 0);
	sentences.push(
		totalErrors === 0
			? 'No request failed.'
			: `${totalErrors} requests failed (${version.results
					.filter((result) => errorsOf(result.load) > 0)
					.map((result) => `${result.key}: ${errorsOf(result.load)}`)
					.join(', ')}).`,
	);
	const mismatched = version.results.filter((result) => !executionsMatch(result));
	sentences.push(
		mismatched.length === 0
			? 'Every accepted request became exactly one successful execution.'
			: `Executions differ from accepted requests for ${mismatched
					.map(
						(result) =>
							`${result.key} (${result.executions} executions, ${result.successful} successful, ${result.load.accepted} accepted)`,
					)
					.join(', ')}.`,
	);
	return sentences.join(' ');
}

/** "2,100× 401", or every status code and the socket errors when some answer was not 401. */
function answersCell(kind: RefusedKindResult): string {
	const parts = Object.entries(kind.statusCodes).map(
		([code, count]) => `${fmt(count, 0)}× ${code}`,
	);
	if (kind.socketErrors) parts.push(`${fmt(kind.socketErrors, 0)} socket errors`);
	return parts.join(', ') || 'none';
}

/** The standard error with two significant digits at least. */
const standardErrorText = (standardError: number): string =>
	fmt(standardError, standardError < 0.01 ? 3 : 2);

function refusedTable(version: VersionResult, refused: RefusedResult): string {
	const truv = byKey(version, '2');
	const { ratio, standardError } = forgedToMalformed(refused);
	const kindRow = (label: string, kind: RefusedKindResult) =>
		`| ${label} | ${fmt(cpuMsPerRequest(kind), 2)} | ${fmt(kind.requests, 0)} | ${answersCell(kind)} | all 401 ${allRefused(kind) ? '✓' : '✗'} |`;
	const started = refused.executionsStarted;
	return [
		'| | n8n CPU ms / request | requests | answers (warm-up included) | goal |',
		'|---|---:|---:|---|---|',
		kindRow('malformed `X-WEBHOOK-SIGN` (401)', refused.malformed),
		kindRow('well-formed, wrong signature: forged (401)', refused.forged),
		...(truv
			? [
					`| genuine delivery with its execution (target 2's load) | ${fmt(truv.cpuMsPerExecution, 2)} | ${fmt(truv.executions, 0)} | ${fmt(truv.load.accepted, 0)}× 2xx | |`,
				]
			: []),
		`| **forged ÷ malformed** | **${fmt(ratio, 2)}** ± ${standardErrorText(standardError)} | | | about 1 |`,
		`| executions the refused requests started | ${started} | | | 0 ${started === 0 ? '✓' : '✗'} |`,
	].join('\n');
}

function refusedReading(version: VersionResult, refused: RefusedResult): string {
	const sentences: string[] = [];
	const { ratio, standardError } = forgedToMalformed(refused);
	const [malformedMs, forgedMs] = [
		cpuMsPerRequest(refused.malformed),
		cpuMsPerRequest(refused.forged),
	];
	const ratios = refused.quadrupleRatios;
	sentences.push(
		`A forged request cost n8n ${fmt(forgedMs, 2)} ms of CPU and a malformed one ${fmt(malformedMs, 2)} ms (${fmt(refused.malformed.requests, 0)} of each in batches of ${refused.batch}, ${fmt(refused.elapsedS, 0)} s in all): forged ÷ malformed ${fmt(ratio, 2)} ± ${standardErrorText(standardError)} (the ${ratios.length} quadruples' ratios ranged from ${fmt(Math.min(...ratios), 2)} to ${fmt(Math.max(...ratios), 2)}).`,
	);
	if (Math.abs(ratio - 1) <= 2 * standardError) {
		sentences.push(
			'That is within two standard errors of 1: a forged request costs n8n no more than one refused before any secret is looked at, since the trigger reads the credential for them at most once per 10 s, however many come.',
		);
	} else if (ratio > 1) {
		sentences.push(
			'That is **more than two standard errors above 1**: a forged request costs n8n more than a malformed one, as when the trigger read the credential for each (2× on n8n 2.41 then); the unit tests count the reads.',
		);
	} else {
		sentences.push(
			'That is more than two standard errors below 1: a forged request costs n8n no more than a malformed one.',
		);
	}
	const truv = byKey(version, '2');
	if (truv && Number.isFinite(truv.cpuMsPerExecution)) {
		sentences.push(
			`A genuine delivery with its execution cost ${fmt(truv.cpuMsPerExecution, 2)} ms in target 2's load: refusing a forged request costs n8n ${percent(forgedMs / truv.cpuMsPerExecution)} of what accepting a delivery does.`,
		);
	}
	const problems: string[] = [];
	for (const [name, kind] of [
		['malformed', refused.malformed],
		['forged', refused.forged],
	] as const) {
		if (!allRefused(kind)) problems.push(`the ${name} requests got ${answersCell(kind)}`);
	}
	if (refused.executionsStarted !== 0) {
		problems.push(`${refused.executionsStarted} executions started meanwhile`);
	}
	sentences.push(
		problems.length === 0
			? 'Every refused request was answered 401, and none started an execution.'
			: `Not every refused request was refused: ${problems.join('; ')}.`,
	);
	return sentences.join(' ');
}

/** The settings of the refused requests, as the first version that sent them had them. */
function refusedSettings(refused: RefusedResult): string {
	const sizes = refused.auto
		? `the batches sized from how long that warm-up took, for about ${AUTO_SECONDS} s of quadruples per version whatever a request costs in it (\`--refused\` sets a number of requests instead)`
		: `${fmt(refused.malformed.requests, 0)} of each kind in batches of ${refused.batch}`;
	return `Refused requests: after the load, in the same n8n, requests that target 2's trigger refuses with 401, at ${refused.connections} connections in equal batches, alternating malformed, forged, forged, malformed ${QUADRUPLES} times after an uncounted batch of each kind; ${sizes}. **malformed**: an \`X-WEBHOOK-SIGN\` one hex digit short, refused for its form before any secret is looked at. **forged**: a well-formed signature made with another secret, what anyone who knows the webhook URL can send. **n8n CPU**: as above, per batch from its first request until ${BATCH_SETTLE_MS} ms after its last answer. **forged ÷ malformed**: over all batches, ± the standard error of the quadruples' own ratios; about 1 is the goal, printed, not judged (a timing, on a machine others may share). **genuine**: target 2's CPU per execution in the load above.`;
}

/** The machine and the load generator, which share the cores with n8n. */
export function machineLine(): string {
	const cpu = cpus();
	return `Machine: ${cpu[0]?.model ?? 'unknown CPU'} (${cpu.length} cores), ${fmt(totalmem() / 2 ** 30, 0)} GiB RAM. Load: autocannon 8 as a library in the benchmark's process (Node ${process.version}), on loopback, sharing the cores with n8n.`;
}

export function report(
	versions: VersionResult[],
	settings: MeasureSettings & { env: Record<string, string> },
	others: number[],
): string {
	const lines: string[] = [
		machineLine(),
		'',
		`Settings: ${settings.connections} connections, ${settings.durationS} s per target in ${settings.rounds} rounds over all targets, each round starting one target later (${fmt(settings.durationS / settings.rounds)} s each, after a warm-up of ${settings.warmupS} s in the first round and ${Math.min(settings.warmupS, LATER_WARMUP_S)} s in later ones), in one n8n per version (sqlite, executions saved as by default, \`NODE_FUNCTION_ALLOW_BUILTIN=crypto\` for the Code node, ${
			Object.keys(settings.env).length
				? `and ${Object.entries(settings.env)
						.map(([name, value]) => `\`${name}=${value}\``)
						.join(', ')}, otherwise defaults`
				: 'everything else default'
		}). Every request is \`${FIXTURE}.json\` (${readTruvFixture(FIXTURE).length} bytes) with its own webhook_id and its own \`X-WEBHOOK-SIGN\`. When the time is up no new request is sent and those in flight are awaited.`,
		'',
		"Columns: **answered req/s**: 2xx answers per second of the load. **executions/s**: the executions that load started ÷ the time from its start until the last of them finished: the sustained capacity, the number the goals are checked against (a trigger that answers before n8n has created the execution can be answered faster than n8n executes). **errors**: non-2xx answers, socket errors and timeouts (10 s). **n8n CPU**: user + system time of all of n8n's processes (main and task runner) from the start of the load until the last execution finished, per execution. **peak RSS**: the sum over those processes, sampled every 250 ms from the warm-up to the last execution (a later target starts from the heap an earlier one left). **executions / accepted**: finished executions of that workflow ÷ 2xx answers. **drain**: seconds from the end of a round's load until the last execution finished (the longest round). Throughput, errors and CPU are totals over the rounds; p50 and p99 are the median round's.",
	];
	const refused = versions.find((version) => version.refused)?.refused;
	if (refused) lines.push('', refusedSettings(refused));
	lines.push(...othersWarning(others));
	for (const version of versions) {
		lines.push(
			'',
			`### n8n ${version.version} (Node ${version.nodeVersion})`,
			'',
			`Ready after ${fmt(version.readyAfterMs / 1000)} s; ${mb(version.idleRssBytes)} RSS (all processes) before the first load.`,
			'',
			resultsTable(version),
			'',
			ratiosTable(version),
			'',
			`**Reading.** ${reading(version)}`,
		);
		if (version.refused) {
			lines.push(
				'',
				refusedTable(version, version.refused),
				'',
				`**Refused requests.** ${refusedReading(version, version.refused)}`,
			);
		}
	}
	return lines.join('\n');
}
