// npm run bench:n8n — the Truv Order Trigger in a real n8n under load, next to what else a user could
// put there, in the same n8n run (ratios carry over between machines, absolute numbers do not).
//
//   npm run bench:n8n -- [--n8n 2.41.1|2.8.4] [--duration 20] [--warmup 5] [--connections 10]
//                        [--targets 1,2,2b,3,4] [--env NAME=VALUE]… [--dry-run] [--cpu-prof]
//                        [--ignore-others]
//
// For each n8n version (default: 2.41.1, then 2.8.4) ONE n8n runs with both packages installed as
// n8n's Community Nodes installer would (this repository packed, and the bench-only trivial trigger
// in bench/packages), and autocannon loads, in turn:
//   1  the trivial community trigger → NoOp: the ceiling for any community trigger in that n8n
//   2  Truv Order Trigger → NoOp on each output: signature check, validation, duplicate tracking
//   2b the same with Options → Skip Duplicate Deliveries off: what the duplicate record costs
//   3  the do-it-yourself chain: Webhook (raw body) → Code (HMAC) → Switch on event_type → NoOp
//   4  Webhook → NoOp: n8n's own trigger, which n8n spares its expression sandbox
// Every request is a signed order-status-updated delivery with its own webhook_id. Each workflow is
// checked with one delivery (the right output, a successful execution) before it is loaded. Another
// n8n on the machine (the e2e tests, say) would skew the numbers: each target waits until none has
// run for a minute, and is measured again when one started meanwhile (--ignore-others skips both).
//
// The report goes to stdout and, unless --dry-run, into BENCHMARKS.md's `n8n` section. --env passes
// settings to n8n for experiments (e.g. N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true; the report lists
// them). --cpu-prof runs n8n under V8's CPU profiler (bench/cpuProfilePreload.cjs; the profiles stay
// in a temp folder, open them in Chrome DevTools; implies --dry-run).
import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import { mkdtempSync } from 'fs';
import { rm } from 'fs/promises';
import { cpus, tmpdir, totalmem } from 'os';
import { dirname, join } from 'path';
import { parseArgs } from 'util';

import { packRepository } from '../dev/n8n/communityPackage';
import { n8nRuntimes, type N8nVersion } from '../dev/n8n/runtimes';
import { request } from '../dev/n8n/http';
import type { Execution, N8nInstance } from '../dev/n8n/n8nInstance';
import { startN8n } from '../dev/n8n/n8nInstance';
import { otherN8nProcesses, ProcessGroupMonitor } from '../dev/n8n/processGroupUsage';
import { sleep } from '../dev/n8n/wait';
import { readTruvFixture } from '../dev/truv-stand-in/webhookBody';
import {
	signTruvWebhookBody,
	startTruvStandIn,
	type TruvStandIn,
} from '../dev/truv-stand-in/truvStandIn';
import { writeBenchmarkSection } from './benchmarksFile';
import { runLoad, type Delivery, type LoadResult } from './loadRun';
import {
	ceilingWorkflow,
	DIY_CODE_NAME,
	diyWorkflow,
	ORDER_OUTPUTS,
	REQUIRED_NODE_TYPES,
	truvWorkflow,
	webhookWorkflow,
} from './n8nBenchWorkflows';

const repositoryRoot = join(__dirname, '..');
const benchPackageDir = join(__dirname, 'packages', 'n8n-nodes-truv-bench');
const FIXTURE = 'order-status-updated-completed';
const EXPECTED_OUTPUT = 'Order Status Updated';
const GOALS = { ceilingRatio: 0.95, diyRatio: 1.5 };
/** The n8n versions measured without --n8n (--n8n takes any runtime in dev/n8n/runtimes). */
const DEFAULT_VERSIONS = ['2.41.1', '2.8.4'];
const finishedStatuses = new Set(['success', 'error', 'crashed', 'canceled']);
/** Other n8n instances seen during a measurement that was kept: they skew the numbers. */
const othersSeen = new Set<number>();
/** How often a target is measured again because another n8n ran meanwhile, at most. */
const MAX_ATTEMPTS = 3;
const QUIET_FOR_MS = 60_000;
const QUIET_WAIT_LIMIT_MS = 30 * 60_000;

/** Other n8n processes (say, the e2e tests) seen while it runs, checked every second. */
function watchOtherN8ns(own: N8nInstance): () => number[] {
	const seen = new Set<number>();
	const check = () => {
		for (const pid of otherN8nProcesses([own.pid ?? -1])) seen.add(pid);
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
async function waitUntilQuiet(own: N8nInstance, signal: AbortSignal): Promise<void> {
	const started = Date.now();
	let quietSince = Date.now();
	let announced = false;
	for (;;) {
		signal.throwIfAborted();
		const others = otherN8nProcesses([own.pid ?? -1]);
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

/**
 * Rounds after the first warm up for this long, and targets are a second apart: short slices, many
 * rounds. This machine's speed swings by half within minutes; only many interleaved slices give
 * every target the same share of good and bad moments.
 */
const LATER_WARMUP_S = 1;
const SETTLE_MS = 1_000;

type TargetKey = '1' | '2' | '2b' | '3' | '4';
const TARGET_KEYS: TargetKey[] = ['1', '2', '2b', '3', '4'];
const TARGET_LABELS: Record<TargetKey, string> = {
	'1': 'trivial community trigger → NoOp (ceiling)',
	'2': '**Truv Order Trigger → NoOp**',
	'2b': 'Truv Order Trigger → NoOp, Skip Duplicate Deliveries off',
	'3': 'DIY: Webhook (raw body) → Code (HMAC) → Switch → NoOp',
	'4': 'Webhook → NoOp',
};

interface Settings {
	versions: N8nVersion[];
	targets: TargetKey[];
	connections: number;
	durationS: number;
	warmupS: number;
	/** Rounds over all targets: each measures every target for durationS ÷ rounds. */
	rounds: number;
	dryRun: boolean;
	cpuProfDir?: string;
	/** Extra environment for n8n (--env). */
	env: Record<string, string>;
	/** Measure even while other n8n processes run (--ignore-others), for quick looks. */
	ignoreOthers: boolean;
}

interface Target {
	key: TargetKey;
	workflowId: string;
	url: string;
	/** One delivery through the workflow, checked; throws when the workflow misbehaves. */
	verify(): Promise<void>;
}

interface TargetResult {
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
	/** CPU time of n8n's whole process group per execution, load and drain. */
	cpuMsPerExecution: number;
	cpuSeconds: number;
}

/** One target's rounds as one measurement: totals over the rounds, and their median latencies. */
function combineRounds(rounds: TargetResult[]): TargetResult {
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

interface VersionResult {
	version: N8nVersion;
	nodeVersion: string;
	readyAfterMs: number;
	idleRssBytes: number;
	results: TargetResult[];
}

function log(message: string): void {
	process.stderr.write(`[bench:n8n] ${message}\n`);
}

function parseSettings(): Settings {
	const { values } = parseArgs({
		options: {
			n8n: { type: 'string', multiple: true },
			duration: { type: 'string', default: '20' },
			warmup: { type: 'string', default: '5' },
			rounds: { type: 'string', default: '5' },
			connections: { type: 'string', default: '10' },
			targets: { type: 'string', default: TARGET_KEYS.join(',') },
			'dry-run': { type: 'boolean', default: false },
			'cpu-prof': { type: 'boolean', default: false },
			env: { type: 'string', multiple: true, default: [] },
			'ignore-others': { type: 'boolean', default: false },
		},
	});
	const env: Record<string, string> = {};
	for (const assignment of values.env) {
		const at = assignment.indexOf('=');
		if (at < 1) throw new Error(`--env takes NAME=VALUE, not ${assignment}`);
		env[assignment.slice(0, at)] = assignment.slice(at + 1);
	}
	const known = Object.keys(n8nRuntimes) as N8nVersion[];
	const versions = (values.n8n ?? DEFAULT_VERSIONS) as N8nVersion[];
	for (const version of versions) {
		if (!known.includes(version)) throw new Error(`--n8n must be one of ${known.join(', ')}`);
	}
	const targets = values.targets.split(',').map((key) => key.trim()) as TargetKey[];
	for (const key of targets) {
		if (!TARGET_KEYS.includes(key)) throw new Error(`--targets takes ${TARGET_KEYS.join(',')}`);
	}
	const positive = (name: string, text: string): number => {
		const value = Number(text);
		if (!(value > 0)) throw new Error(`--${name} must be a positive number`);
		return value;
	};
	const cpuProf = values['cpu-prof'];
	return {
		versions,
		targets: TARGET_KEYS.filter((key) => targets.includes(key)),
		connections: Math.round(positive('connections', values.connections)),
		durationS: positive('duration', values.duration),
		warmupS: positive('warmup', values.warmup),
		rounds: Math.round(positive('rounds', values.rounds)),
		dryRun: values['dry-run'] || cpuProf,
		cpuProfDir: cpuProf ? mkdtempSync(join(tmpdir(), 'n8n-bench-cpu-prof-')) : undefined,
		env,
		ignoreOthers: values['ignore-others'],
	};
}

/**
 * Signed copies of the fixture, byte for byte, except for a webhook_id of the same length that no
 * other delivery of this run has.
 */
function deliveryFactory(secret: string): () => Delivery {
	const template = readTruvFixture(FIXTURE).toString('utf8');
	const originalId = String((JSON.parse(template) as { webhook_id: string }).webhook_id);
	const parts = template.split(originalId);
	if (parts.length !== 2) throw new Error(`${FIXTURE}: its webhook_id must occur exactly once`);
	const runTag = randomBytes(4).toString('hex');
	let serial = 0;
	return () => {
		const id = `${runTag}${(serial++).toString(16).padStart(originalId.length - 8, '0')}`;
		const body = Buffer.from(`${parts[0]}${id}${parts[1]}`);
		return {
			body,
			headers: {
				'x-webhook-sign': signTruvWebhookBody(body, secret),
				'user-agent': 'Truv-Webhook-Service/2.0',
			},
		};
	};
}

function webhookIdOf(delivery: Delivery): string {
	return (JSON.parse(delivery.body.toString('utf8')) as { webhook_id: string }).webhook_id;
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

async function newestExecution(
	n8n: N8nInstance,
	workflowId: string,
	count: number,
): Promise<Execution> {
	const executions = await n8n.waitForExecutions({
		workflowId,
		count,
		includeData: true,
		timeoutMs: 60_000,
	});
	return executions[0];
}

function itemsReaching(execution: Execution, nodeName: string): unknown[] {
	const runs = execution.data?.resultData.runData[nodeName] ?? [];
	return runs.flatMap((run) => (run.data?.main?.[0] ?? []).map((item) => item.json));
}

function describeExecution(execution: Execution): string {
	const runData = execution.data?.resultData.runData ?? {};
	return `execution ${execution.id}: status ${execution.status}, nodes run: ${Object.keys(runData).join(', ')}${
		execution.data?.resultData.error ? `, error: ${execution.data.resultData.error.message}` : ''
	}`;
}

/** Checks that the delivery's webhook_id reached `reached` (and, for routed workflows, only it). */
function expectRouted(
	execution: Execution,
	webhookId: string,
	reached: string,
	pick: (json: unknown) => unknown,
	routed: boolean,
): void {
	const problems: string[] = [];
	if (execution.status !== 'success') problems.push('not successful');
	const items = itemsReaching(execution, reached);
	if (items.length !== 1 || pick(items[0]) !== webhookId) {
		problems.push(`${reached} did not get exactly the delivery ${webhookId}`);
	}
	if (routed) {
		for (const { node } of ORDER_OUTPUTS) {
			if (node !== reached && itemsReaching(execution, node).length > 0) {
				problems.push(`${node} ran as well`);
			}
		}
	}
	if (problems.length) {
		throw new Error(`${problems.join('; ')} (${describeExecution(execution)})`);
	}
}

async function post(url: string, delivery: Delivery): Promise<number> {
	const answer = await request(url, {
		method: 'POST',
		body: delivery.body,
		headers: { 'content-type': 'application/json', ...delivery.headers },
	});
	return answer.status;
}

async function setUpTargets(
	n8n: N8nInstance,
	standIn: TruvStandIn,
	secret: string,
	keys: TargetKey[],
	nextDelivery: () => Delivery,
): Promise<Target[]> {
	const tag = randomBytes(3).toString('hex');
	const credential = await n8n.createCredential('truvApi', 'Truv (bench stand-in)', {
		clientId: standIn.account.clientId,
		accessSecret: secret,
		environment: 'fromSecret',
		baseUrl: standIn.url,
	});
	const credentialRef = { id: credential.id, name: credential.name };

	const create = async (
		key: TargetKey,
		workflow: Parameters<N8nInstance['createWorkflow']>[0],
		webhookPath: string,
		verify: (target: Omit<Target, 'verify'>) => Promise<void>,
	): Promise<Target> => {
		const { id } = await n8n.createWorkflow(workflow);
		await n8n.activateWorkflow(id);
		await n8n.waitForWebhook(webhookPath, { timeoutMs: 60_000 });
		const target = { key, workflowId: id, url: n8n.webhookUrl(webhookPath) };
		return { ...target, verify: async () => await verify(target) };
	};

	/** One genuine delivery: answered 2xx, one successful execution that took `reached`. */
	const verifyOne = async (
		target: Omit<Target, 'verify'>,
		reached: string,
		pick: (json: unknown) => unknown,
		routed: boolean,
	): Promise<void> => {
		const delivery = nextDelivery();
		const status = await post(target.url, delivery);
		if (status < 200 || status >= 300) throw new Error(`a signed delivery got HTTP ${status}`);
		const execution = await newestExecution(n8n, target.workflowId, 1);
		expectRouted(execution, webhookIdOf(delivery), reached, pick, routed);
	};
	const field = (json: unknown): unknown => (json as { webhook_id?: unknown }).webhook_id;
	const bodyField = (json: unknown): unknown => field((json as { body?: unknown }).body ?? {});

	const targets: Target[] = [];
	for (const key of keys) {
		const webhookId = `bench-${key}-${tag}`;
		switch (key) {
			case '1':
				targets.push(
					await create(key, ceilingWorkflow(webhookId), `${webhookId}/webhook`, async (target) => {
						await verifyOne(target, 'No Operation', field, false);
					}),
				);
				break;
			case '2':
			case '2b':
				targets.push(
					await create(
						key,
						truvWorkflow(webhookId, credentialRef, key === '2'),
						`${webhookId}/webhook`,
						async (target) => {
							await verifyOne(target, EXPECTED_OUTPUT, field, true);
							// A forged delivery is refused by the trigger and starts nothing.
							const forged = nextDelivery();
							forged.headers['x-webhook-sign'] = signTruvWebhookBody(forged.body, 'sandbox-forged');
							const status = await post(target.url, forged);
							if (status !== 401) throw new Error(`a forged delivery got HTTP ${status}, not 401`);
						},
					),
				);
				break;
			case '3':
				targets.push(
					await create(
						key,
						diyWorkflow(webhookId, `bench-diy-${tag}`, secret),
						`bench-diy-${tag}`,
						async (target) => {
							await verifyOne(target, EXPECTED_OUTPUT, field, true);
							// The Webhook node has answered before the Code node runs: a forged delivery gets
							// 200 too, but its execution stops in the Code node.
							const forged = nextDelivery();
							forged.headers['x-webhook-sign'] = signTruvWebhookBody(forged.body, 'sandbox-forged');
							await post(target.url, forged);
							const execution = await newestExecution(n8n, target.workflowId, 2);
							const lastNode = execution.data?.resultData.lastNodeExecuted;
							if (execution.status !== 'error' || lastNode !== DIY_CODE_NAME) {
								throw new Error(
									`a forged delivery was not stopped by the Code node (${describeExecution(execution)})`,
								);
							}
						},
					),
				);
				break;
			case '4':
				targets.push(
					await create(
						key,
						webhookWorkflow(webhookId, `bench-webhook-${tag}`),
						`bench-webhook-${tag}`,
						async (target) => {
							await verifyOne(target, 'No Operation', bodyField, false);
						},
					),
				);
				break;
		}
	}
	return targets;
}

/** What every measurement in one n8n shares. */
interface MeasuringRig {
	n8n: N8nInstance;
	monitor: ProcessGroupMonitor;
	settings: Settings;
	nextDelivery: () => Delivery;
	signal: AbortSignal;
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
 * Measures a target when no other n8n runs, and again (up to MAX_ATTEMPTS in all) when one started
 * meanwhile; with --ignore-others, once, whatever else runs.
 */
async function measureQuietly(
	rig: MeasuringRig,
	target: Target,
	round: number,
): Promise<TargetResult> {
	const { n8n, settings, signal } = rig;
	for (let attempt = 1; ; attempt++) {
		if (!settings.ignoreOthers) await waitUntilQuiet(n8n, signal);
		const stopWatching = watchOtherN8ns(n8n);
		let others: number[];
		let result: TargetResult;
		try {
			result = await measureTarget(rig, target, round);
		} finally {
			others = stopWatching();
		}
		if (others.length === 0) return result;
		if (settings.ignoreOthers || attempt >= MAX_ATTEMPTS) {
			log(
				`  ⚠ other n8n processes ran during ${target.key} (${others.join(', ')}): numbers skewed`,
			);
			for (const pid of others) othersSeen.add(pid);
			return result;
		}
		log(
			`  other n8n processes ran during ${target.key} (${others.join(', ')}): measuring it again`,
		);
	}
}

function nodeVersionOf(nodeBin: string): string {
	return execFileSync(nodeBin, ['--version'], { encoding: 'utf8' }).trim();
}

async function benchVersion(
	version: N8nVersion,
	settings: Settings,
	tarballs: string[],
	standIn: TruvStandIn,
	signal: AbortSignal,
	track: { userFolder(folder: string): void; started(n8n: N8nInstance): void },
): Promise<VersionResult> {
	log(`n8n ${version}: starting (provisioning it first if needed)`);
	const env: Record<string, string> = { NODE_FUNCTION_ALLOW_BUILTIN: 'crypto', ...settings.env };
	if (settings.cpuProfDir) {
		env.NODE_OPTIONS = `--require "${join(__dirname, 'cpuProfilePreload.cjs')}"`;
		env.BENCH_CPU_PROF_DIR = join(settings.cpuProfDir, version);
	}
	// A folder of our own, so that an interrupted start leaves nothing behind either.
	const userFolder = mkdtempSync(join(tmpdir(), 'n8n-bench-'));
	track.userFolder(userFolder);
	const n8n = await startN8n({ version, tarballs, env, userFolder });
	track.started(n8n);
	const monitor = new ProcessGroupMonitor(n8n.pid!);
	try {
		monitor.start();
		const known = await n8n.nodeTypes();
		const missing = REQUIRED_NODE_TYPES.filter(
			([type, typeVersion]) => !(known.get(type) ?? []).includes(typeVersion),
		);
		if (missing.length) {
			throw new Error(
				`n8n ${version} lacks ${missing.map(([type, typeVersion]) => `${type}@${typeVersion}`).join(', ')}`,
			);
		}
		const secret = standIn.account.secrets.sandbox!;
		const nextDelivery = deliveryFactory(secret);
		const targets = await setUpTargets(n8n, standIn, secret, settings.targets, nextDelivery);
		for (const target of targets) {
			await target.verify();
			log(`  ${target.key}: verified (${TARGET_LABELS[target.key].replace(/\*/g, '')})`);
		}
		await sleep(3_000);
		const idleRssBytes = monitor.sample().rssBytes;
		const rig: MeasuringRig = { n8n, monitor, settings, nextDelivery, signal };
		// Round after round over all targets rather than each target once: n8n (its database, its
		// heap) and the machine drift over minutes, and interleaving spreads the drift over every
		// target alike instead of favouring whichever ran first. Each round starts one target later,
		// so that no target always follows the same one (and the garbage its load left).
		const rounds = new Map<TargetKey, TargetResult[]>(targets.map((target) => [target.key, []]));
		for (let round = 1; round <= settings.rounds; round++) {
			const shift = (round - 1) % targets.length;
			for (const target of [...targets.slice(shift), ...targets.slice(0, shift)]) {
				rounds.get(target.key)!.push(await measureQuietly(rig, target, round));
				// Let n8n settle (GC, the database) before the next target.
				await sleep(SETTLE_MS);
			}
		}
		const results = targets.map((target) => combineRounds(rounds.get(target.key)!));
		return {
			version,
			nodeVersion: nodeVersionOf(n8n.runtime.nodeBin),
			readyAfterMs: n8n.readyAfterMs,
			idleRssBytes,
			results,
		};
	} finally {
		monitor.stop();
		log(`n8n ${version}: stopping`);
		await n8n.stop();
		await rm(n8n.userFolder, { recursive: true, force: true });
	}
}

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (value: number, digits = 1): string =>
	Number.isFinite(value)
		? value.toLocaleString('en-US', {
				minimumFractionDigits: digits,
				maximumFractionDigits: digits,
			})
		: '–';
const mb = (bytes: number): string => `${fmt(bytes / 2 ** 20, 0)} MB`;
const errorsOf = (load: LoadResult): number => load.non2xx + load.socketErrors;
const percent = (fraction: number): string =>
	`${fmt(Math.abs(fraction) * 100, Math.abs(fraction) < 0.1 ? 1 : 0)} %`;

function byKey(version: VersionResult, key: TargetKey): TargetResult | undefined {
	return version.results.find((result) => result.key === key);
}

function executionsMatch(result: TargetResult): boolean {
	return result.executions === result.load.accepted && result.successful === result.executions;
}

function executionsCell(result: TargetResult): string {
	const { executions, successful, load } = result;
	const failed = executions - successful;
	return `${executions} / ${load.accepted}${failed ? ` (${failed} failed)` : ''}${executionsMatch(result) ? '' : ' ⚠'}`;
}

function errorsCell(load: LoadResult): string {
	const errors = errorsOf(load);
	if (errors === 0) return '0';
	const parts = Object.entries(load.statusCodes)
		.filter(([code]) => !code.startsWith('2'))
		.map(([code, count]) => `${count}× ${code}`);
	if (load.socketErrors) parts.push(`${load.socketErrors} socket (${load.timeouts} timeouts)`);
	return `**${errors}** (${parts.join(', ')})`;
}

function resultsTable(version: VersionResult): string {
	const rows = version.results.map((result) => {
		const { load } = result;
		const drain = `${fmt(result.drainS)}${result.drained ? '' : ' (gave up)'}`;
		return `| ${result.key} | ${TARGET_LABELS[result.key]} | ${fmt(load.requestsPerSecond)} | ${fmt(result.executionsPerSecond)} | ${fmt(load.latencyP50Ms, 0)} | ${fmt(load.latencyP99Ms, 0)} | ${errorsCell(load)} | ${fmt(result.cpuMsPerExecution)} | ${mb(result.peakRssBytes)} | ${executionsCell(result)} | ${drain} |`;
	});
	return [
		'| # | target | answered req/s | executions/s | p50 ms | p99 ms | errors | n8n CPU ms / execution | peak RSS | executions / accepted | drain s |',
		'|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
		...rows,
	].join('\n');
}

interface Ratio {
	label: string;
	/** Sustained: executions per second, load and drain. */
	executions: number;
	/** Answers per second during the load. */
	answers: number;
	/** The other target's CPU per execution ÷ this one's: above 1 when this one is cheaper. */
	cpu: number;
	goal?: number;
}

function ratio(label: string, mine: TargetResult, other: TargetResult, goal?: number): Ratio {
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

function report(versions: VersionResult[], settings: Settings, others: number[]): string {
	const cpu = cpus();
	const lines: string[] = [
		`Machine: ${cpu[0]?.model ?? 'unknown CPU'} (${cpu.length} cores), ${fmt(totalmem() / 2 ** 30, 0)} GiB RAM. Load: autocannon 8 as a library in the benchmark's process (Node ${process.version}), on loopback, sharing the cores with n8n.`,
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
	if (others.length) {
		lines.push(
			'',
			`⚠ Other n8n processes were running during this run (pids ${others.join(', ')}): the absolute numbers are skewed, the ratios less so.`,
		);
	}
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
	}
	return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
	const settings = parseSettings();
	const aborter = new AbortController();
	const started: N8nInstance[] = [];
	let standIn: TruvStandIn | undefined;
	const tarballs: string[] = [];
	let stopping: Promise<void> | undefined;

	const userFolders: string[] = [];
	const cleanUp = async (): Promise<void> => {
		stopping ??= (async () => {
			for (const n8n of started) await n8n.stop().catch(async () => await n8n.kill());
			for (const folder of userFolders) await rm(folder, { recursive: true, force: true });
			await standIn?.close().catch(() => undefined);
			for (const tarball of tarballs) await rm(dirname(tarball), { recursive: true, force: true });
		})();
		await stopping;
	};
	let interruptedAt = 0;
	for (const signal of ['SIGINT', 'SIGTERM'] as const) {
		process.on(signal, () => {
			// Ctrl-C reaches this process twice (directly, and relayed by tsx): only a later one counts.
			if (interruptedAt && Date.now() - interruptedAt > 2_000) {
				log(`${signal} again: killing n8n`);
				// The harness's exit hook SIGKILLs every n8n process group it started.
				process.exit(130);
			}
			if (interruptedAt) return;
			interruptedAt = Date.now();
			log(`${signal}: stopping the load and n8n (once more to kill)`);
			aborter.abort(new Error(`interrupted by ${signal}`));
			void cleanUp().finally(() => process.exit(130));
		});
	}

	try {
		log('building and packing n8n-nodes-truv and the bench package');
		tarballs.push(await packRepository(repositoryRoot));
		tarballs.push(await packRepository(benchPackageDir));
		standIn = await startTruvStandIn();
		const versions: VersionResult[] = [];
		for (const version of settings.versions) {
			versions.push(
				await benchVersion(version, settings, tarballs, standIn, aborter.signal, {
					userFolder: (folder) => userFolders.push(folder),
					started: (n8n) => started.push(n8n),
				}),
			);
		}
		const text = report(versions, settings, [...othersSeen]);
		process.stdout.write(`\n${text}\n`);
		if (settings.cpuProfDir)
			log(`CPU profiles (.cpuprofile, open in Chrome DevTools): ${settings.cpuProfDir}`);
		if (!settings.dryRun) {
			writeBenchmarkSection('n8n', text);
			log('BENCHMARKS.md: n8n section rewritten');
		}
	} finally {
		await cleanUp();
	}
}

main().catch((error: Error) => {
	process.stderr.write(`${error.stack ?? error.message}\n`);
	process.exit(1);
});
