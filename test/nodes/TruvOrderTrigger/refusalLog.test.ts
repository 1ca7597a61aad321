import type { LogMetadata } from 'n8n-workflow';

import { REFUSAL_LOG_INTERVAL_MS, RefusalLog } from '../../../nodes/TruvOrderTrigger/refusalLog';

function setUp() {
	let now = Date.UTC(2026, 0, 1, 12, 0, 0);
	const lines: Array<[string, LogMetadata | undefined]> = [];
	const logger = { warn: (message: string, meta?: LogMetadata) => lines.push([message, meta]) };
	const log = new RefusalLog(() => now);
	return {
		lines,
		refuse: (workflowId: string, reason: string, message = `refused for ${reason}`) =>
			log.warn(logger, { workflowId, reason, message }),
		advance: (ms: number) => {
			now += ms;
		},
		log,
	};
}

describe('RefusalLog', () => {
	test('writes the first refusal at once, then nothing more within the minute', () => {
		const { lines, refuse, advance } = setUp();
		refuse('wf-1', 'invalid_signature');
		for (let i = 0; i < 57; i++) {
			advance(1_000);
			refuse('wf-1', 'invalid_signature');
		}
		expect(lines).toEqual([
			['refused for invalid_signature', { workflowId: 'wf-1', outcome: 'invalid_signature' }],
		]);
	});

	test('the first refusal after the minute is written with the count of those left out', () => {
		const { lines, refuse, advance } = setUp();
		refuse('wf-1', 'invalid_signature');
		for (let i = 0; i < 57; i++) refuse('wf-1', 'invalid_signature');
		advance(REFUSAL_LOG_INTERVAL_MS);
		refuse('wf-1', 'invalid_signature', 'the latest');
		expect(lines).toHaveLength(2);
		expect(lines[1]).toEqual([
			'the latest (and 57 more like it since 2026-01-01T12:00:00.000Z)',
			{ workflowId: 'wf-1', outcome: 'invalid_signature', unlogged: 57 },
		]);
		// The count starts again from that line.
		refuse('wf-1', 'invalid_signature');
		advance(REFUSAL_LOG_INTERVAL_MS);
		refuse('wf-1', 'invalid_signature', 'later');
		expect(lines[2][0]).toBe('later (and 1 more like it since 2026-01-01T12:01:00.000Z)');
	});

	test('a lone refusal after a quiet minute is written as it is', () => {
		const { lines, refuse, advance } = setUp();
		refuse('wf-1', 'invalid_signature');
		advance(REFUSAL_LOG_INTERVAL_MS + 1);
		refuse('wf-1', 'invalid_signature');
		expect(lines.map(([message]) => message)).toEqual([
			'refused for invalid_signature',
			'refused for invalid_signature',
		]);
	});

	test('each workflow and each reason is counted on its own', () => {
		const { lines, refuse } = setUp();
		refuse('wf-1', 'invalid_signature');
		refuse('wf-1', 'payload_too_large');
		refuse('wf-2', 'invalid_signature');
		refuse('wf-1', 'invalid_signature');
		refuse('wf-2', 'payload_too_large');
		expect(lines.map(([, meta]) => meta)).toEqual([
			{ workflowId: 'wf-1', outcome: 'invalid_signature' },
			{ workflowId: 'wf-1', outcome: 'payload_too_large' },
			{ workflowId: 'wf-2', outcome: 'invalid_signature' },
			{ workflowId: 'wf-2', outcome: 'payload_too_large' },
		]);
	});

	test('a workflow id and reason that together look like another pair are not mixed up', () => {
		const { lines, refuse } = setUp();
		refuse('a', 'b c');
		refuse('a b', 'c');
		expect(lines).toHaveLength(2);
	});

	test('forget starts every count again', () => {
		const { lines, refuse, log } = setUp();
		refuse('wf-1', 'invalid_signature');
		log.forget();
		refuse('wf-1', 'invalid_signature');
		expect(lines).toHaveLength(2);
	});
});
