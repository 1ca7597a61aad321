// Measuring one target of bench:n8n: a warm-up, then the load, then waiting until every execution
// the load started has finished, with n8n's CPU time and peak RSS over that span. Another n8n on
// the machine (the e2e tests, say) would skew the numbers, so a measurement waits until none has
// run for a minute and is repeated when one started meanwhile.
import { execFileSync } from 'child_process';

import type { N8nInstance } from '../dev/n8n/n8nInstance';
import { otherN8nProcesses, ProcessGroupMonitor } from '../dev/n8n/processGroupUsage';
import { sleep } from '../dev/n8n/wait';
import { runLoad, type Delivery, type LoadResult } from './loadRun';
import type { Target, TargetKey } from './n8nBenchTargets';

/** How often a target is measured again because another n8n ran meanwhile, at most. */
const MAX_ATTEMPTS = 3;
const QUIET_FOR_MS = 60_000;
const QUIET_WAIT_LIMIT_MS = 30 * 60_000;
const finishedStatuses = new Set(['success', 'error', 'crashed', 'canceled']);

/**
 * Rounds after the first warm up for this long, and targets are a second apart: short slices, many
 * rounds. This machine's speed swings by half within minutes; only many interleaved slices give
 * every target the same share of good and bad moments.
 */
export const LATER_WARMUP_S = 1;
const SETTLE_MS = 1_000;

export function log(message: string): void {
	process.stderr.write(`[bench:n8n] ${message}\n`);
}

export function nodeVersionOf(nodeBin: string): string {
	return execFileSync(nodeBin, ['--version'], { encoding: 'utf8' }).trim();
}

export const errorsOf = (load: LoadResult): number => load.non2xx + load.socketErrors;

export interface MeasureSettings {
	connections: number;
	/** Seconds of load per target, over all rounds. */
	durationS: number;
	/** The first round's warm-up, in seconds. */
	warmupS: number;
	/** Rounds over all targets: each measures every target for durationS ÷ rounds. */
	rounds: number;
	/** Measure even while other n8n processes run (--ignore-others), for quick looks. */
	ignoreOthers: boolean;
}

export interface TargetResult {
	key: TargetKey;
	load: LoadResult;
	/** Finished executions the measured load started, and how many of them succeeded. */
	executions: number;
	successful: number;
	/** Seconds from the end of the load until every execution had finished (or n8n gave up). */
	drainS: number;
	drained: boolean;
	/** Executions per second from the start of the load until the last one finished. */
	executionsPerSecond: number;
	peakRssBytes: number;
	/** CPU time of n8n's whole process group (or groups) per execution, load and drain. */
	cpuMsPerExecution: number;
	cpuSeconds: number;
}

/** One target's rounds as one measurement: totals over the rounds, and their median latencies. */
export function combineRounds(rounds: TargetResult[]): TargetResult {
	const sum = (of: (result: TargetResult) => number): number =>
		rounds.reduce((total, result) => total + of(result), 0);
	const median = (of: (result: TargetResult) => number): number => {
		const sorted = rounds.map(of).sort((a, b) => a - b);
		const middle = Math.floor(sorted.length / 2);
		return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
	};
	const statusCodes: Record<string, number> = {};
	for (const { load } of rounds) {
		for (const [code, count] of Object.entries(load.statusCodes)) {
			statusCodes[code] = (statusCodes[code] ?? 0) + count;
		}
	}
	const durationS = sum((result) => result.load.durationS);
	const elapsedS = sum((result) => result.load.elapsedS);
	const accepted = sum((result) => result.load.accepted);
	const executions = sum((result) => result.executions);
	const cpuSeconds = sum((result) => result.cpuSeconds);
	return {
		key: rounds[0].key,
		load: {
			durationS,
			elapsedS,
			requestsPerSecond:
				sum((result) => result.load.requestsPerSecond * result.load.durationS) / durationS,
			answered: sum((result) => result.load.answered),
			accepted,
			non2xx: sum((result) => result.load.non2xx),
			socketErrors: sum((result) => result.load.socketErrors),
			timeouts: sum((result) => result.load.timeouts),
			unanswered: sum((result) => result.load.unanswered),
			latencyP50Ms: median((result) => result.load.latencyP50Ms),
			latencyP99Ms: median((result) => result.load.latencyP99Ms),
			statusCodes,
		},
		executions,
		successful: sum((result) => result.successful),
		drainS: Math.max(...rounds.map((result) => result.drainS)),
		drained: rounds.every((result) => result.drained),
		executionsPerSecond: executions / (elapsedS + sum((result) => result.drainS)),
		peakRssBytes: Math.max(...rounds.map((result) => result.peakRssBytes)),
		cpuMsPerExecution: executions > 0 ? (cpuSeconds * 1000) / executions : Number.NaN,
		cpuSeconds,
	};
}

interface ExecutionCounts {
	finished: number;
	success: number;
	/** new or running */
	current: number;
}

/** How many of the workflow's executions have these statuses: one COUNT query in n8n. */
async function countExecutions(
	n8n: N8nInstance,
	workflowId: string,
	status: string[],
): Promise<number> {
	const filter = encodeURIComponent(JSON.stringify({ workflowId, status }));
	const answer = await n8n.rest<{ count: number }>('GET', `/executions?filter=${filter}&limit=1`);
	return answer.count;
}

// The editor's execution list (the REST API) counts in the database; listing every execution
// through the public API instead would cost n8n more CPU the more executions there are, during the
// very drain being timed.
async function executionCounts(n8n: N8nInstance, workflowId: string): Promise<ExecutionCounts> {
	const [finished, success, current] = await Promise.all([
		countExecutions(n8n, workflowId, [...finishedStatuses]),
		countExecutions(n8n, workflowId, ['success']),
		countExecutions(n8n, workflowId, ['new', 'running']),
	]);
	return { finished, success, current };
}

/** Every execution of the workflow, whatever its status. */
export async function countAllExecutions(n8n: N8nInstance, workflowId: string): Promise<number> {
	return await countExecutions(n8n, workflowId, [
		...finishedStatuses,
		'new',
		'running',
		'waiting',
		'unknown',
	]);
}

interface Drained {
	counts: ExecutionCounts;
	/** Seconds from `since` until the expected executions had finished, or until giving up. */
	drainS: number;
	complete: boolean;
}

/**
 * Waits until `expected` executions of the workflow have finished and none is left running. Gives
 * up when nothing has changed for 30 s, or after 10 minutes.
 */
async function drain(
	n8n: N8nInstance,
	workflowId: string,
	expected: number,
	since: number,
): Promise<Drained> {
	let lastKey = '';
	let lastChange = Date.now();
	for (;;) {
		const polledAt = Date.now();
		const counts = await executionCounts(n8n, workflowId);
		const drainS = Math.max(0, polledAt - since) / 1000;
		if (counts.finished >= expected && counts.current === 0) {
			return { counts, drainS, complete: true };
		}
		const key = `${counts.finished}/${counts.current}`;
		if (key !== lastKey) {
			lastKey = key;
			lastChange = Date.now();
		}
		if (Date.now() - lastChange > 30_000 || Date.now() - since > 600_000) {
			log(`  executions stopped at ${counts.finished} finished of ${expected} expected`);
			return { counts, drainS, complete: false };
		}
		await sleep(250);
	}
}

/** Other n8n processes (say, the e2e tests) seen while it runs, checked every second. */
function watchOtherN8ns(ownGroups: () => number[]): () => number[] {
	const seen = new Set<number>();
	const check = () => {
		for (const pid of otherN8nProcesses(ownGroups())) seen.add(pid);
	};
	check();
	const timer = setInterval(check, 1_000);
	return () => {
		clearInterval(timer);
		check();
		return [...seen];
	};
}

/** Waits until no other n8n has run for a minute (at most 30 minutes; then measures anyway). */
async function waitUntilQuiet(ownGroups: () => number[], signal: AbortSignal): Promise<void> {
	const started = Date.now();
	let quietSince = Date.now();
	let announced = false;
	for (;;) {
		signal.throwIfAborted();
		const others = otherN8nProcesses(ownGroups());
		if (others.length) {
			quietSince = Date.now();
			if (!announced) log(`  waiting until other n8n processes end (${others.join(', ')})`);
			announced = true;
		} else if (!announced || Date.now() - quietSince >= QUIET_FOR_MS) {
			return;
		}
		if (Date.now() - started > QUIET_WAIT_LIMIT_MS) {
			log('  other n8n processes are still running after 30 minutes: measuring anyway');
			return;
		}
		await sleep(2_000);
	}
}

/** What a measurement reads of n8n's processes: ProcessGroupMonitor's, for one group or several. */
export type UsageMonitor = Pick<ProcessGroupMonitor, 'resetPeak' | 'sample' | 'peakRssBytes'>;

/** What every measurement in one n8n shares. */
export interface MeasuringRig {
	/** The n8n whose REST API counts the executions. */
	n8n: N8nInstance;
	/** The process groups of the n8n being measured: any other n8n process is someone else's. */
	ownGroups: () => number[];
	monitor: UsageMonitor;
	settings: MeasureSettings;
	nextDelivery: () => Delivery;
	signal: AbortSignal;
	/** Other n8n processes seen during a measurement that was kept: they skew the numbers. */
	othersSeen: Set<number>;
}

async function measureTarget(
	rig: MeasuringRig,
	target: Target,
	round: number,
): Promise<TargetResult> {
	const { n8n, monitor, settings, nextDelivery, signal } = rig;
	// The first round warms the workflow up; later ones only need the previous target's load gone.
	const warmupS = round === 1 ? settings.warmupS : Math.min(settings.warmupS, LATER_WARMUP_S);
	const durationS = settings.durationS / settings.rounds;
	const load = (durationS: number) =>
		runLoad({
			url: target.url,
			connections: settings.connections,
			durationS,
			next: nextDelivery,
			signal,
		});
	monitor.resetPeak();
	const before = await executionCounts(n8n, target.workflowId);
	log(`  ${target.key}: round ${round} of ${settings.rounds}, warm-up ${warmupS} s`);
	const warmup = await load(warmupS);
	const warmed = await drain(n8n, target.workflowId, before.finished + warmup.accepted, Date.now());
	signal.throwIfAborted();
	const baseline = warmed.counts;
	const cpuBefore = monitor.sample().cpuSeconds;
	log(`  ${target.key}: ${durationS} s at ${settings.connections} connections`);
	const measured = await load(durationS);
	const loadEnd = Date.now();
	signal.throwIfAborted();
	const after = await drain(n8n, target.workflowId, baseline.finished + measured.accepted, loadEnd);
	const cpuSeconds = monitor.sample().cpuSeconds - cpuBefore;
	const executions = after.counts.finished - baseline.finished;
	const result: TargetResult = {
		key: target.key,
		load: measured,
		executions,
		successful: after.counts.success - baseline.success,
		drainS: after.drainS,
		drained: after.complete,
		// Over the time until the last answer, not the window: the requests still in flight when
		// it closed started executions too (with short slices they would otherwise add up to one
		// execution per connection to every slice).
		executionsPerSecond: executions / (measured.elapsedS + after.drainS),
		peakRssBytes: monitor.peakRssBytes,
		cpuMsPerExecution: executions > 0 ? (cpuSeconds * 1000) / executions : Number.NaN,
		cpuSeconds,
	};
	log(
		`  ${target.key}: ${measured.requestsPerSecond.toFixed(1)} req/s, p50 ${measured.latencyP50Ms} ms, p99 ${measured.latencyP99Ms} ms, ${errorsOf(measured)} errors, ${executions} executions / ${measured.accepted} accepted, drain ${after.drainS} s${after.complete ? '' : ' (incomplete)'}, ${result.executionsPerSecond.toFixed(1)} executions/s, ${result.cpuMsPerExecution.toFixed(1)} ms CPU each`,
	);
	return result;
}

/**
 * Measures (a target, say) when no other n8n runs, and again (up to MAX_ATTEMPTS in all) when one
 * started meanwhile; with --ignore-others, once, whatever else runs. `label` names it in the log.
 */
export async function measureQuietly<T>(
	rig: MeasuringRig,
	label: string,
	measure: () => Promise<T>,
): Promise<T> {
	const { ownGroups, settings, signal } = rig;
	for (let attempt = 1; ; attempt++) {
		if (!settings.ignoreOthers) await waitUntilQuiet(ownGroups, signal);
		const stopWatching = watchOtherN8ns(ownGroups);
		let others: number[];
		let result: T;
		try {
			result = await measure();
		} finally {
			others = stopWatching();
		}
		if (others.length === 0) return result;
		if (settings.ignoreOthers || attempt >= MAX_ATTEMPTS) {
			log(`  ⚠ other n8n processes ran during ${label} (${others.join(', ')}): numbers skewed`);
			for (const pid of others) rig.othersSeen.add(pid);
			return result;
		}
		log(`  other n8n processes ran during ${label} (${others.join(', ')}): measuring it again`);
	}
}

/**
 * Every round measures every target once, starting one target later than the round before.
 * Rounds rather than each target once: n8n (its database, its heap) and the machine drift over
 * minutes, and interleaving spreads the drift over every target alike instead of favouring
 * whichever ran first; the shift keeps a target from always following the same one (and the
 * garbage its load left).
 */
export async function measureInRounds(
	rig: MeasuringRig,
	targets: Target[],
): Promise<TargetResult[]> {
	const rounds = new Map<TargetKey, TargetResult[]>(targets.map((target) => [target.key, []]));
	for (let round = 1; round <= rig.settings.rounds; round++) {
		const shift = (round - 1) % targets.length;
		for (const target of [...targets.slice(shift), ...targets.slice(0, shift)]) {
			rounds
				.get(target.key)!
				.push(await measureQuietly(rig, target.key, () => measureTarget(rig, target, round)));
			// Let n8n settle (GC, the database) before the next target.
			await sleep(SETTLE_MS);
		}
	}
	return targets.map((target) => combineRounds(rounds.get(target.key)!));
}
