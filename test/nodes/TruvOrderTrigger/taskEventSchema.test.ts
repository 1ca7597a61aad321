import {
	isTaskErrorStatus,
	TASK_ERROR_STATUSES,
	validateTaskEvent,
} from '../../../nodes/TruvOrderTrigger/taskEventSchema';
import { fixtureJson } from '../../helpers/fixtures';

describe('task-status-updated schema', () => {
	test("accepts Truv's sample and keeps every field", () => {
		const payload = fixtureJson('task-status-updated');
		expect(validateTaskEvent(payload)).toEqual({ success: true, event: payload });
	});

	test('accepts an event without user_id, which Truv omits from some task events', () => {
		const payload = { ...fixtureJson('task-status-updated') };
		delete payload.user_id;
		expect(validateTaskEvent(payload).success).toBe(true);
	});

	test('names each failing field', () => {
		expect(
			validateTaskEvent({ webhook_id: '', event_type: 'task-status-updated', status: null }),
		).toEqual({
			success: false,
			problems: [
				'webhook_id: must be a non-empty string',
				'task_id: expected string, received undefined',
				'status: expected string, received null',
			],
		});
	});
});

describe('error statuses', () => {
	test.each(TASK_ERROR_STATUSES)('%s is a failed connection attempt', (status) => {
		expect(isTaskErrorStatus(status)).toBe(true);
	});

	test.each(['new', 'login', 'mfa', 'parse', 'full_parse', 'done', 'queued', ''])(
		'%s is not',
		(status) => {
			expect(isTaskErrorStatus(status)).toBe(false);
		},
	);

	test('a status Truv adds later ending in _error is', () => {
		expect(isTaskErrorStatus('captcha_error')).toBe(true);
	});
});
