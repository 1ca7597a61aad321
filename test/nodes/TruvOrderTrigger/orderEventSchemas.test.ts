import {
	isOrderEventType,
	ORDER_EVENT_TYPES,
	validateOrderEvent,
} from '../../../nodes/TruvOrderTrigger/orderEventSchemas';
import type { OrderEventType } from '../../../nodes/TruvOrderTrigger/orderEventSchemas';
import { fixtureJson } from '../../helpers/fixtures';

const orderFixtures: Array<[string, OrderEventType]> = [
	['order-created', 'order-created'],
	['order-status-updated-completed', 'order-status-updated'],
	['order-status-updated-expired', 'order-status-updated'],
	['order-status-updated-minimal', 'order-status-updated'],
	['order-refresh-failed', 'order-refresh-failed'],
];

describe('order event schemas', () => {
	test.each(orderFixtures)('accept Truv sample %s as %s', (name, type) => {
		const payload = fixtureJson(name);
		const result = validateOrderEvent(type, payload);
		expect(result).toEqual({ success: true, event: payload });
	});

	test('keep unknown fields and accept unknown statuses', () => {
		const payload = {
			...fixtureJson('order-status-updated-completed'),
			status: 'in_review',
			new_field: { nested: [1, 2] },
		};
		expect(validateOrderEvent('order-status-updated', payload)).toEqual({
			success: true,
			event: payload,
		});
	});

	test('accept null and missing optional fields', () => {
		const minimal = {
			webhook_id: 'w',
			event_type: 'order-refresh-failed',
			order_id: 'o',
			status: 'mfa_error',
		};
		expect(validateOrderEvent('order-refresh-failed', minimal).success).toBe(true);
		const nulls = {
			...minimal,
			order_number: null,
			employer_id: null,
			user_id: null,
			updated_at: null,
		};
		expect(validateOrderEvent('order-refresh-failed', nulls).success).toBe(true);
	});

	test('name every failing field', () => {
		const result = validateOrderEvent('order-created', {
			webhook_id: 42,
			event_type: 'order-created',
			order_number: 4138538,
		});
		expect(result.success).toBe(false);
		if (result.success) return;
		expect(result.problems).toEqual([
			'webhook_id: expected string, received number',
			'order_id: expected string, received undefined',
			'order_number: expected string, received number',
			'status: expected string, received undefined',
		]);
	});

	test('reject empty identifiers and an event_type that does not match the schema', () => {
		const payload = { ...fixtureJson('order-created'), order_id: '', webhook_id: '' };
		const result = validateOrderEvent('order-status-updated', payload);
		expect(result.success).toBe(false);
		if (result.success) return;
		expect(result.problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
			'event_type',
			'order_id',
			'webhook_id',
		]);
	});

	test('know exactly the three order events', () => {
		expect(ORDER_EVENT_TYPES).toEqual([
			'order-created',
			'order-status-updated',
			'order-refresh-failed',
		]);
		expect(isOrderEventType('order-finalized')).toBe(false);
		expect(isOrderEventType('task-status-updated')).toBe(false);
	});
});
