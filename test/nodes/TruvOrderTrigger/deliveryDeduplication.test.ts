import type { IDataObject } from 'n8n-workflow';

import {
	claimDelivery,
	DELIVERY_RECORD_LIMIT,
	forgetProcessRecords,
	storedWebhookIds,
} from '../../../nodes/TruvOrderTrigger/deliveryDeduplication';

beforeEach(() => forgetProcessRecords());

describe('claimDelivery', () => {
	test('claims a webhook_id once', () => {
		const staticData: IDataObject = {};
		expect(claimDelivery(staticData, 'wf:node', 'a')).toBe(true);
		expect(claimDelivery(staticData, 'wf:node', 'a')).toBe(false);
		expect(claimDelivery(staticData, 'wf:node', 'b')).toBe(true);
		expect(storedWebhookIds(staticData)).toEqual(['a', 'b']);
	});

	test('keeps the stored record bounded, forgetting the oldest first', () => {
		const staticData: IDataObject = {};
		const total = DELIVERY_RECORD_LIMIT * 3 + 7;
		for (let index = 0; index < total; index++) {
			expect(claimDelivery(staticData, 'wf:node', `id-${index}`)).toBe(true);
		}
		const stored = storedWebhookIds(staticData);
		expect(stored.length).toBeGreaterThanOrEqual(DELIVERY_RECORD_LIMIT);
		expect(stored.length).toBeLessThanOrEqual(DELIVERY_RECORD_LIMIT * 1.1);
		expect(stored).toEqual(
			Array.from({ length: stored.length }, (_, index) => `id-${total - stored.length + index}`),
		);
		expect(stored[stored.length - 1]).toBe(`id-${total - 1}`);
		// The newest are still recognised after a restart; the oldest are forgotten.
		const saved = { recentWebhookIds: staticData.recentWebhookIds };
		forgetProcessRecords();
		expect(claimDelivery({ ...saved }, 'wf:node', `id-${total - 1}`)).toBe(false);
		forgetProcessRecords();
		expect(claimDelivery({ ...saved }, 'wf:node', 'id-0')).toBe(true);
	});

	test('recognises ids stored before a restart and keeps them when adding new ones', () => {
		const staticData: IDataObject = { recentWebhookIds: '\nold-1\nold-2\n' };
		expect(claimDelivery(staticData, 'wf:node', 'old-2')).toBe(false);
		expect(claimDelivery(staticData, 'wf:node', 'new-1')).toBe(true);
		expect(storedWebhookIds(staticData)).toEqual(['old-1', 'old-2', 'new-1']);
		// Ids merged from the stored record stay known on the fast path too.
		expect(claimDelivery(staticData, 'wf:node', 'old-1')).toBe(false);
	});

	test('re-adds ids that a concurrent save dropped from the stored record', () => {
		expect(claimDelivery({}, 'wf:node', 'first')).toBe(true);
		// A second request loaded the record before the first one was saved.
		const staleCopy: IDataObject = {};
		expect(claimDelivery(staleCopy, 'wf:node', 'second')).toBe(true);
		expect(storedWebhookIds(staleCopy)).toEqual(['first', 'second']);
	});

	test('a duplicate writes back the ids a stored record lacks (n8n did not save an earlier call)', () => {
		expect(claimDelivery({}, 'wf:node', 'accepted')).toBe(true);
		// The next call loads the record as it was before: the accepted call's change was not saved.
		const unsaved: IDataObject = {};
		expect(claimDelivery(unsaved, 'wf:node', 'accepted')).toBe(false);
		expect(storedWebhookIds(unsaved)).toEqual(['accepted']);
		// Once the stored record is current, a duplicate changes nothing (n8n has nothing to save).
		const current: IDataObject = { recentWebhookIds: unsaved.recentWebhookIds };
		expect(claimDelivery(current, 'wf:node', 'accepted')).toBe(false);
		expect(current).toEqual({ recentWebhookIds: unsaved.recentWebhookIds });
	});

	test('keeps records of different triggers apart', () => {
		expect(claimDelivery({}, 'wf-1:node', 'same')).toBe(true);
		expect(claimDelivery({}, 'wf-2:node', 'same')).toBe(true);
	});

	test('ignores a stored record it did not write', () => {
		const staticData: IDataObject = { recentWebhookIds: ['from', 'elsewhere'] };
		expect(claimDelivery(staticData, 'wf:node', 'a')).toBe(true);
		expect(storedWebhookIds(staticData)).toEqual(['a']);
	});

	test('treats ids as opaque strings, separators and quotes included', () => {
		const staticData: IDataObject = {};
		const odd = ['a\nb', '"a\nb"', '"quoted"', 'a', 'b', ''];
		for (const id of odd) expect(claimDelivery(staticData, 'wf:node', id)).toBe(true);
		expect(storedWebhookIds(staticData)).toEqual(odd);
		forgetProcessRecords();
		for (const id of odd) expect(claimDelivery(staticData, 'wf:node', id)).toBe(false);
		expect(claimDelivery(staticData, 'wf:node', 'b\na')).toBe(true);
	});
});
