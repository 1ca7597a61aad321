import type { TargetResult } from '../../bench/n8nBenchMeasure';
import {
	allRefused,
	autoBatchSize,
	batchSize,
	forgedToMalformed,
	QUADRUPLES,
	type RefusedKindResult,
	type RefusedResult,
} from '../../bench/n8nBenchRefused';
import { report, type VersionResult } from '../../bench/n8nBenchReport';

function kind(cpuSeconds: number, statusCodes: Record<string, number> = { '401': 2_100 }) {
	return { requests: 2_000, cpuSeconds, statusCodes, socketErrors: 0 };
}

/** Quadruple ratios around `ratio`, alternately `spread` above and below it. */
function refused(
	ratio: number,
	spread: number,
	overrides: Partial<RefusedResult> = {},
): RefusedResult {
	return {
		auto: true,
		batch: 100,
		connections: 10,
		malformed: kind(4),
		forged: kind(4 * ratio),
		quadrupleRatios: Array.from(
			{ length: QUADRUPLES },
			(_, index) => ratio + (index % 2 ? spread : -spread),
		),
		executionsStarted: 0,
		elapsedS: 60,
		...overrides,
	};
}

const truv: TargetResult = {
	key: '2',
	load: {
		durationS: 20,
		elapsedS: 20,
		requestsPerSecond: 50,
		answered: 1_000,
		accepted: 1_000,
		non2xx: 0,
		socketErrors: 0,
		timeouts: 0,
		unanswered: 0,
		latencyP50Ms: 100,
		latencyP99Ms: 200,
		statusCodes: { '200': 1_000 },
	},
	executions: 1_000,
	successful: 1_000,
	drainS: 0,
	drained: true,
	executionsPerSecond: 50,
	peakRssBytes: 2 ** 30,
	cpuMsPerExecution: 10,
	cpuSeconds: 10,
};

function version(result: RefusedResult | undefined): VersionResult {
	return {
		version: '2.8.4',
		nodeVersion: 'v20.20.2',
		readyAfterMs: 6_000,
		idleRssBytes: 2 ** 29,
		results: [truv],
		refused: result,
	};
}

const settings = {
	connections: 10,
	durationS: 20,
	warmupS: 5,
	rounds: 5,
	ignoreOthers: false,
	env: {},
};

const rowsOf = (text: string, start: string): string[] =>
	text.split('\n').filter((line) => line.startsWith(start));

test('batches spread the requests over the quadruples, one request per connection at least', () => {
	expect(batchSize(2_000, 10)).toBe(100);
	expect(batchSize(2_001, 10)).toBe(101);
	expect(batchSize(20, 10)).toBe(10);
});

test('sized from the warm-up, the quadruples take about a minute, with one request per connection at least', () => {
	// A minute in 40 batches: 1.5 s each, 0.1 s of it settling.
	expect(autoBatchSize(0.01, 10)).toBe(140);
	expect(autoBatchSize(0.05, 10)).toBe(28);
	expect(autoBatchSize(1, 10)).toBe(10);
});

test('forged ÷ malformed over all batches, with the standard error of the quadruples', () => {
	const { ratio, standardError } = forgedToMalformed(refused(1.05, 0.1));
	expect(ratio).toBeCloseTo(1.05, 10);
	// Ten ratios 0.1 either side of the mean: sample variance 0.01 × 10/9, over 10.
	expect(standardError).toBeCloseTo(Math.sqrt((0.01 * 10) / 9 / 10), 10);
});

test('only answers that are all 401, without socket errors, count as refused', () => {
	const refusedKind = (overrides: Partial<RefusedKindResult>): RefusedKindResult => ({
		...kind(1),
		...overrides,
	});
	expect(allRefused(refusedKind({}))).toBe(true);
	expect(allRefused(refusedKind({ statusCodes: { '401': 2_099, '200': 1 } }))).toBe(false);
	expect(allRefused(refusedKind({ socketErrors: 1 }))).toBe(false);
	expect(allRefused(refusedKind({ statusCodes: {} }))).toBe(false);
});

test('the refused requests get a table per version: CPU per request of each kind and of a genuine delivery, the ratio against its goal, and the checks', () => {
	const text = report([version(refused(1.02, 0.05))], settings, []);
	expect(text).toContain('Refused requests: after the load, in the same n8n');
	expect(text).toContain('for about 60 s of quadruples per version');
	expect(rowsOf(text, '| malformed')).toEqual([
		'| malformed `X-WEBHOOK-SIGN` (401) | 2.00 | 2,000 | 2,100× 401 | all 401 ✓ |',
	]);
	expect(rowsOf(text, '| well-formed')).toEqual([
		'| well-formed, wrong signature: forged (401) | 2.04 | 2,000 | 2,100× 401 | all 401 ✓ |',
	]);
	expect(rowsOf(text, '| genuine')).toEqual([
		"| genuine delivery with its execution (target 2's load) | 10.00 | 1,000 | 1,000× 2xx | |",
	]);
	expect(rowsOf(text, '| **forged ÷ malformed**')).toEqual([
		'| **forged ÷ malformed** | **1.02** ± 0.02 | | | about 1 |',
	]);
	expect(rowsOf(text, '| executions the refused')).toEqual([
		'| executions the refused requests started | 0 | | | 0 ✓ |',
	]);
	expect(text).toContain(
		'**Refused requests.** A forged request cost n8n 2.04 ms of CPU and a malformed one 2.00 ms (2,000 of each in batches of 100, 60 s in all): forged ÷ malformed 1.02 ± 0.02',
	);
	expect(text).toContain('That is within two standard errors of 1');
	expect(text).toContain(
		'refusing a forged request costs n8n 20 % of what accepting a delivery does',
	);
	expect(text).toContain('Every refused request was answered 401, and none started an execution.');
});

test('a forged request that costs more, an answer other than 401 and a started execution are flagged', () => {
	const text = report(
		[
			version(
				refused(1.5, 0.01, {
					forged: kind(6, { '401': 2_099, '200': 1 }),
					executionsStarted: 1,
				}),
			),
		],
		settings,
		[],
	);
	expect(rowsOf(text, '| well-formed')).toEqual([
		'| well-formed, wrong signature: forged (401) | 3.00 | 2,000 | 1× 200, 2,099× 401 | all 401 ✗ |',
	]);
	expect(rowsOf(text, '| **forged ÷ malformed**')).toEqual([
		'| **forged ÷ malformed** | **1.50** ± 0.003 | | | about 1 |',
	]);
	expect(rowsOf(text, '| executions the refused')).toEqual([
		'| executions the refused requests started | 1 | | | 0 ✗ |',
	]);
	expect(text).toContain('That is **more than two standard errors above 1**');
	expect(text).toContain(
		'Not every refused request was refused: the forged requests got 1× 200, 2,099× 401; 1 executions started meanwhile.',
	);
});

test('with --refused, the settings give the number of requests', () => {
	const text = report([version(refused(1, 0.05, { auto: false }))], settings, []);
	expect(text).toContain('; 2,000 of each kind in batches of 100.');
});

test('without refused requests the report has no such table', () => {
	const text = report([version(undefined)], settings, []);
	expect(text).not.toContain('Refused requests');
	expect(text).not.toContain('forged ÷ malformed');
});
