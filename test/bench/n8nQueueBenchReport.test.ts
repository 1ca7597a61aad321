import type { LoadResult } from '../../bench/loadRun';
import type { TargetResult } from '../../bench/n8nBenchMeasure';
import type { TargetKey } from '../../bench/n8nBenchTargets';
import { queueReport, type QueueVersionResult } from '../../bench/n8nQueueBenchReport';

function load(accepted: number, overrides: Partial<LoadResult> = {}): LoadResult {
	return {
		durationS: 10,
		elapsedS: 10,
		requestsPerSecond: accepted / 10,
		answered: accepted,
		accepted,
		non2xx: 0,
		socketErrors: 0,
		timeouts: 0,
		unanswered: 0,
		latencyP50Ms: 100,
		latencyP99Ms: 200,
		statusCodes: { '200': accepted },
		...overrides,
	};
}

function result(key: TargetKey, executionsPerSecond: number, cpuMs: number): TargetResult {
	const executions = executionsPerSecond * 10;
	return {
		key,
		load: load(executions),
		executions,
		successful: executions,
		drainS: 0,
		drained: true,
		executionsPerSecond,
		peakRssBytes: 2 ** 30,
		cpuMsPerExecution: cpuMs,
		cpuSeconds: (executions * cpuMs) / 1000,
	};
}

const settings = {
	connections: 10,
	durationS: 16,
	warmupS: 5,
	rounds: 4,
	ignoreOthers: false,
	env: {},
};

function version(byWorkers: QueueVersionResult['byWorkers']): QueueVersionResult {
	return {
		version: '2.41.1',
		nodeVersion: 'v24.11.1',
		webhookProcesses: 2,
		readyAfterMs: 90_000,
		byWorkers,
	};
}

const rowsOf = (text: string, start: string): string[] =>
	text.split('\n').filter((line) => line.startsWith(start));

test('a row per worker count and target, the Truv ÷ trivial ratio per worker count, and scaling without a verdict', () => {
	const text = queueReport(
		[
			version([
				{ workers: 1, idleRssBytes: 2 ** 30, results: [result('1', 10, 100), result('2', 12, 80)] },
				{ workers: 2, idleRssBytes: 2 ** 30, results: [result('1', 15, 100), result('2', 15, 80)] },
			]),
		],
		settings,
		[],
	);
	expect(text).toContain('### n8n 2.41.1 (Node v24.11.1), queue mode');
	expect(rowsOf(text, '| 1 | ')).toHaveLength(2);
	expect(rowsOf(text, '| 2 | ')).toHaveLength(2);
	expect(rowsOf(text, '| 1 worker: Truv ÷ trivial')).toEqual([
		'| 1 worker: Truv ÷ trivial community trigger | 1.20 | 1.20 | 1.25 | |',
	]);
	expect(rowsOf(text, '| 2 workers: Truv ÷ trivial')).toEqual([
		'| 2 workers: Truv ÷ trivial community trigger | 1.00 | 1.00 | 1.25 | |',
	]);
	expect(rowsOf(text, '| Truv Order Trigger → NoOp: 2 workers ÷ 1 worker')).toEqual([
		'| Truv Order Trigger → NoOp: 2 workers ÷ 1 worker | 1.25 | 1.25 | 1.00 | |',
	]);
	expect(rowsOf(text, '| errors, all runs')).toEqual(['| errors, all runs | 0 | | | 0 ✓ |']);
	expect(rowsOf(text, '| runs with executions ≠ accepted')).toEqual([
		'| runs with executions ≠ accepted, or failed ones | 0 | | | 0 ✓ |',
	]);
	expect(text).toMatch(/^Machine: .* \(\d+ cores\)/m);
});

test('errors and executions that differ from accepted requests are flagged with their worker count', () => {
	const failing = result('2', 12, 80);
	failing.load = load(120, { non2xx: 3, statusCodes: { '200': 120, '502': 3 } });
	failing.executions = 119;
	failing.successful = 119;
	const text = queueReport(
		[version([{ workers: 2, idleRssBytes: 0, results: [result('1', 10, 100), failing] }])],
		settings,
		[],
	);
	expect(rowsOf(text, '| errors, all runs')).toEqual(['| errors, all runs | 3 | | | 0 ✗ |']);
	expect(rowsOf(text, '| runs with executions ≠ accepted')).toEqual([
		'| runs with executions ≠ accepted, or failed ones | 1 | | | 0 ✗ (2 at 2 workers) |',
	]);
	expect(rowsOf(text, '| 2 | **Truv')[0]).toContain('| **3** (3× 502) |');
	// One worker count: nothing to scale against.
	expect(text).not.toContain('÷ 1 worker');
});
