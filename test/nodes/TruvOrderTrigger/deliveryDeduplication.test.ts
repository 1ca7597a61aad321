import type { IDataObject } from 'n8n-workflow';

import {
	claimDelivery,
	DELIVERY_RECORD_LIMIT,
	forgetProcessRecords,
} from '../../../nodes/TruvOrderTrigger/deliveryDeduplication';

beforeEach(() => forgetProcessRecords());

describe('claimDelivery', () => {
	test('claims a webhook_id once', () => {
		const staticData: IDataObject = {};
		expect(claimDelivery(staticData, 'wf:node', 'a')).toBe(true);
		expect(claimDelivery(staticData, 'wf:node', 'a')).toBe(false);
		expect(claimDelivery(staticData, 'wf:node', 'b')).toBe(true);
		expect(staticData.recentWebhookIds).toEqual(['a', 'b']);
	});

	test('keeps the stored record bounded, forgetting the oldest first', () => {
		const staticData: IDataObject = {};
		const total = DELIVERY_RECORD_LIMIT + 250;
		for (let index = 0; index < total; index++) {
			expect(claimDelivery(staticData, 'wf:node', `id-${index}`)).toBe(true);
		}
		const stored = staticData.recentWebhookIds as string[];
		expect(stored).toHaveLength(DELIVERY_RECORD_LIMIT);
		expect(stored[0]).toBe(`id-${total - DELIVERY_RECORD_LIMIT}`);
		expect(stored[stored.length - 1]).toBe(`id-${total - 1}`);
		// The newest are still recognised, after a restart too.
		forgetProcessRecords();
		expect(claimDelivery({ recentWebhookIds: [...stored] }, 'wf:node', `id-${total - 1}`)).toBe(
			false,
		);
	});

	test('recognises ids stored before a restart and keeps them when adding new ones', () => {
		const staticData: IDataObject = { recentWebhookIds: ['old-1', 'old-2'] };
		expect(claimDelivery(staticData, 'wf:node', 'old-2')).toBe(false);
		expect(claimDelivery(staticData, 'wf:node', 'new-1')).toBe(true);
		expect(staticData.recentWebhookIds).toEqual(['old-1', 'old-2', 'new-1']);
	});

	test('re-adds ids that a concurrent save dropped from the stored record', () => {
		expect(claimDelivery({}, 'wf:node', 'first')).toBe(true);
		// A second request loaded the record before the first one was saved.
		const staleCopy: IDataObject = {};
		expect(claimDelivery(staleCopy, 'wf:node', 'second')).toBe(true);
		expect(staleCopy.recentWebhookIds).toEqual(['first', 'second']);
	});

	test('keeps records of different triggers apart', () => {
		expect(claimDelivery({}, 'wf-1:node', 'same')).toBe(true);
		expect(claimDelivery({}, 'wf-2:node', 'same')).toBe(true);
	});

	test('ignores a stored record that is not a list', () => {
		const staticData: IDataObject = { recentWebhookIds: 'corrupted' };
		expect(claimDelivery(staticData, 'wf:node', 'a')).toBe(true);
		expect(staticData.recentWebhookIds).toEqual(['a']);
	});
});
