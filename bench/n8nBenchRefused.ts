// Refused requests in bench:n8n: what a request the Truv Order Trigger answers 401 costs n8n, in
// the n8n that has just run the load targets, against target 2's workflow. Whoever knows a
// trigger's webhook URL can send as many requests as they like, so one with a well-formed but wrong
// X-WEBHOOK-SIGN (forged: what anyone without the secret can make) should cost n8n no more CPU than
// one refused for a malformed header, which needs no secret at all. The guard is how often the
// credential is read (at most once per 10 s whatever arrives; the unit tests count it), and the
// e2e suite checks that both kinds are refused and start nothing; this ratio is a timing, so it is
// measured here and reported, never asserted in a test.
//
// The two kinds go in batches of equal size, alternating malformed, forged, forged, malformed
// (ABBA), so that whatever drifts during the run (JIT, the heap, the machine) weighs on both kinds
// alike; each such quadruple gives one forged ÷ malformed ratio, and their spread the standard
// error. The number of quadruples is fixed and the batches are sized to bound the time: by default
// from how long the warm-up took, for about a minute per version whatever a request costs there (70
// ms of n8n CPU on 2.41.1, 4 ms on 2.8.4, on two cores), or from --refused, a number of requests.
import { signTruvWebhookBody } from '../dev/truv-stand-in/truvStandIn';
import { sleep } from '../dev/n8n/wait';
import { sendRequests, type Delivery } from './loadRun';
import { countAllExecutions, log, measureQuietly, type MeasuringRig } from './n8nBenchMeasure';
import type { Target } from './n8nBenchTargets';

export type RefusedKind = 'malformed' | 'forged';
const ABBA: RefusedKind[] = ['malformed', 'forged', 'forged', 'malformed'];
/** Quadruples measured, whatever --refused is: the standard error's sample. */
export const QUADRUPLES = 10;
/** After a batch's last answer, for work n8n does after answering to land in that batch. */
export const BATCH_SETTLE_MS = 100;
/** After the last batch, so that an execution a refused request started would be counted. */
const EXECUTIONS_SETTLE_MS = 2_000;
/** A secret that is not the credential's: its signatures are well-formed and wrong. */
const FORGING_SECRET = 'sandbox-forged-0000000000000000000000';
/** --refused auto: the quadruples take about this long, whatever a request costs. */
export const AUTO_SECONDS = 60;
/** The warm-up batch of each kind with --refused auto, which the batches are sized from. */
const AUTO_WARMUP_REQUESTS = 50;

export interface RefusedSettings {
	/** Refused requests of each kind (rounded up to whole batches), or about AUTO_SECONDS' worth. */
	refused: number | 'auto';
	connections: number;
}

export interface RefusedKindResult {
	/** Requests in the measured batches. */
	requests: number;
	/** n8n's CPU time over the measured batches. */
	cpuSeconds: number;
	/** Every answer to this kind, the warm-up's included, by status code. */
	statusCodes: Record<string, number>;
	socketErrors: number;
}

export interface RefusedResult {
	/** Whether the batches were sized from the warm-up (--refused auto). */
	auto: boolean;
	/** Requests per batch. */
	batch: number;
	connections: number;
	malformed: RefusedKindResult;
	forged: RefusedKindResult;
	/** Forged ÷ malformed CPU time of each ABBA quadruple. */
	quadrupleRatios: number[];
	/** Executions of the workflow that appeared while the refused requests went: none, rightly. */
	executionsStarted: number;
	/** From the warm-up's first request until the executions were counted. */
	elapsedS: number;
}

/** Requests per batch for `refused` of each kind: at least one per connection. */
export function batchSize(refused: number, connections: number): number {
	return Math.max(connections, Math.ceil(refused / (2 * QUADRUPLES)));
}

/** Requests per batch for quadruples of about AUTO_SECONDS at the warm-up's seconds per request. */
export function autoBatchSize(secondsPerRequest: number, connections: number): number {
	const batchS = AUTO_SECONDS / (ABBA.length * QUADRUPLES) - BATCH_SETTLE_MS / 1000;
	return Math.max(connections, Math.round(batchS / secondsPerRequest));
}

export const cpuMsPerRequest = (kind: RefusedKindResult): number =>
	(kind.cpuSeconds * 1000) / kind.requests;

/** Forged ÷ malformed CPU per request over all batches; its standard error from the quadruples. */
export function forgedToMalformed(result: RefusedResult): { ratio: number; standardError: number } {
	const ratio = cpuMsPerRequest(result.forged) / cpuMsPerRequest(result.malformed);
	const ratios = result.quadrupleRatios;
	const mean = ratios.reduce((sum, each) => sum + each, 0) / ratios.length;
	const variance = ratios.reduce((sum, each) => sum + (each - mean) ** 2, 0) / (ratios.length - 1);
	return { ratio, standardError: Math.sqrt(variance / ratios.length) };
}

/** Whether every request of the kind was answered, and with 401. */
export function allRefused(kind: RefusedKindResult): boolean {
	const codes = Object.keys(kind.statusCodes);
	return kind.socketErrors === 0 && codes.length === 1 && codes[0] === '401';
}

/** A signed delivery as the load sends, its X-WEBHOOK-SIGN made for `kind`. */
function refusedDelivery(kind: RefusedKind, nextDelivery: () => Delivery): Delivery {
	const delivery = nextDelivery();
	const genuine = delivery.headers['x-webhook-sign'];
	delivery.headers['x-webhook-sign'] =
		kind === 'forged'
			? signTruvWebhookBody(delivery.body, FORGING_SECRET)
			: // One hex digit short: refused for its form, before any secret is looked at.
				genuine.slice(0, -1);
	return delivery;
}

async function measureOnce(
	rig: MeasuringRig,
	target: Target,
	settings: RefusedSettings,
): Promise<RefusedResult> {
	const { n8n, monitor, nextDelivery, signal } = rig;
	const kinds: Record<RefusedKind, RefusedKindResult> = {
		malformed: { requests: 0, cpuSeconds: 0, statusCodes: {}, socketErrors: 0 },
		forged: { requests: 0, cpuSeconds: 0, statusCodes: {}, socketErrors: 0 },
	};
	/**
	 * One batch of `kind`: n8n's CPU time from its first request until BATCH_SETTLE_MS after, and
	 * the time until its last answer.
	 */
	const send = async (kind: RefusedKind, count: number) => {
		signal.throwIfAborted();
		const cpuBefore = monitor.sample().cpuSeconds;
		const answers = await sendRequests({
			url: target.url,
			connections: settings.connections,
			count,
			next: () => refusedDelivery(kind, nextDelivery),
			signal,
		});
		await sleep(BATCH_SETTLE_MS);
		const cpuSeconds = monitor.sample().cpuSeconds - cpuBefore;
		const result = kinds[kind];
		for (const [code, answered] of Object.entries(answers.statusCodes)) {
			result.statusCodes[code] = (result.statusCodes[code] ?? 0) + answered;
		}
		result.socketErrors += answers.socketErrors;
		return { cpuSeconds, elapsedS: answers.elapsedS };
	};

	const started = Date.now();
	const executionsBefore = await countAllExecutions(n8n, target.workflowId);
	const warmup =
		settings.refused === 'auto'
			? Math.max(settings.connections, AUTO_WARMUP_REQUESTS)
			: batchSize(settings.refused, settings.connections);
	log(`  refused: a warm-up batch of ${warmup} of each kind`);
	// Uncounted, so that n8n's code for both kinds is compiled before either is measured.
	let warmupS = 0;
	for (const kind of ['malformed', 'forged'] as const) {
		warmupS += (await send(kind, warmup)).elapsedS;
	}
	const batch =
		settings.refused === 'auto'
			? autoBatchSize(warmupS / (2 * warmup), settings.connections)
			: warmup;
	log(`  refused: ${QUADRUPLES} × malformed, forged, forged, malformed in batches of ${batch}`);
	const quadrupleRatios: number[] = [];
	for (let quadruple = 1; quadruple <= QUADRUPLES; quadruple++) {
		const spent: Record<RefusedKind, number> = { malformed: 0, forged: 0 };
		for (const kind of ABBA) spent[kind] += (await send(kind, batch)).cpuSeconds;
		for (const kind of ['malformed', 'forged'] as const) {
			kinds[kind].cpuSeconds += spent[kind];
			kinds[kind].requests += 2 * batch;
		}
		quadrupleRatios.push(spent.forged / spent.malformed);
	}
	await sleep(EXECUTIONS_SETTLE_MS);
	const executionsStarted = (await countAllExecutions(n8n, target.workflowId)) - executionsBefore;
	const result: RefusedResult = {
		auto: settings.refused === 'auto',
		batch,
		connections: settings.connections,
		malformed: kinds.malformed,
		forged: kinds.forged,
		quadrupleRatios,
		executionsStarted,
		elapsedS: (Date.now() - started) / 1000,
	};
	const { ratio, standardError } = forgedToMalformed(result);
	const answers = (kind: RefusedKind) =>
		Object.entries(kinds[kind].statusCodes)
			.map(([code, count]) => `${count}× ${code}`)
			.join(', ');
	log(
		`  refused: malformed ${cpuMsPerRequest(kinds.malformed).toFixed(2)} ms CPU each (${answers('malformed')}), forged ${cpuMsPerRequest(kinds.forged).toFixed(2)} ms (${answers('forged')}), forged ÷ malformed ${ratio.toFixed(3)} ± ${standardError.toFixed(3)}, ${executionsStarted} executions started, ${result.elapsedS.toFixed(0)} s`,
	);
	return result;
}

/**
 * Refused requests to `target` (Truv Order Trigger → NoOp), measured when no other n8n runs, as the
 * load targets are.
 */
export async function measureRefused(
	rig: MeasuringRig,
	target: Target,
	settings: RefusedSettings,
): Promise<RefusedResult> {
	return await measureQuietly(rig, 'the refused requests', () =>
		measureOnce(rig, target, settings),
	);
}
