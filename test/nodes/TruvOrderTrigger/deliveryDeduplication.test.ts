import type { IDataObject } from 'n8n-workflow';

import {
	claimDelivery,
	DELIVERY_RECORD_LIMIT,
	forgetProcessRecords,
	storedWebhookIds,
} from '../../../nodes/TruvOrderTrigger/deliveryDeduplication';

beforeEach(() => forgetProcessRecords());

/** Claims a delivery whose execution n8n then stores: true when claimed, false for a duplicate. */
function claimStored(staticData: IDataObject, recordKey: string, webhookId: string): boolean {
	const claim = claimDelivery(staticData, recordKey, webhookId);
	if (claim.status === 'inFlight') throw new Error('no claim should be in flight here');
	if (claim.status === 'claimed') claim.settle(true);
	return claim.status === 'claimed';
}

describe('claimDelivery', () => {
	test('claims a webhook_id once', () => {
		const staticData: IDataObject = {};
		expect(claimStored(staticData, 'wf:node', 'a')).toBe(true);
		expect(claimStored(staticData, 'wf:node', 'a')).toBe(false);
		expect(claimStored(staticData, 'wf:node', 'b')).toBe(true);
		expect(storedWebhookIds(staticData)).toEqual(['a', 'b']);
	});

	test('keeps the stored record bounded, forgetting the oldest first', () => {
		const staticData: IDataObject = {};
		const total = DELIVERY_RECORD_LIMIT * 3 + 7;
		for (let index = 0; index < total; index++) {
			expect(claimStored(staticData, 'wf:node', `id-${index}`)).toBe(true);
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
		expect(claimStored({ ...saved }, 'wf:node', `id-${total - 1}`)).toBe(false);
		forgetProcessRecords();
		expect(claimStored({ ...saved }, 'wf:node', 'id-0')).toBe(true);
	});

	test('recognises ids stored before a restart and keeps them when adding new ones', () => {
		const staticData: IDataObject = { recentWebhookIds: '\nold-1\nold-2\n' };
		expect(claimStored(staticData, 'wf:node', 'old-2')).toBe(false);
		expect(claimStored(staticData, 'wf:node', 'new-1')).toBe(true);
		expect(storedWebhookIds(staticData)).toEqual(['old-1', 'old-2', 'new-1']);
		// Ids merged from the stored record stay known on the fast path too.
		expect(claimStored(staticData, 'wf:node', 'old-1')).toBe(false);
	});

	test('re-adds ids that a concurrent save dropped from the stored record', () => {
		expect(claimStored({}, 'wf:node', 'first')).toBe(true);
		// A second request loaded the record before the first one was saved.
		const staleCopy: IDataObject = {};
		expect(claimStored(staleCopy, 'wf:node', 'second')).toBe(true);
		expect(storedWebhookIds(staleCopy)).toEqual(['first', 'second']);
	});

	test('a duplicate writes back the ids a stored record lacks (n8n did not save an earlier call)', () => {
		expect(claimStored({}, 'wf:node', 'accepted')).toBe(true);
		// The next call loads the record as it was before: the accepted call's change was not saved.
		const unsaved: IDataObject = {};
		expect(claimStored(unsaved, 'wf:node', 'accepted')).toBe(false);
		expect(storedWebhookIds(unsaved)).toEqual(['accepted']);
		// Once the stored record is current, a duplicate changes nothing (n8n has nothing to save).
		const current: IDataObject = { recentWebhookIds: unsaved.recentWebhookIds };
		expect(claimStored(current, 'wf:node', 'accepted')).toBe(false);
		expect(current).toEqual({ recentWebhookIds: unsaved.recentWebhookIds });
	});

	test('keeps records of different triggers apart', () => {
		expect(claimStored({}, 'wf-1:node', 'same')).toBe(true);
		expect(claimStored({}, 'wf-2:node', 'same')).toBe(true);
	});

	test('ignores a stored record it did not write', () => {
		const staticData: IDataObject = { recentWebhookIds: ['from', 'elsewhere'] };
		expect(claimStored(staticData, 'wf:node', 'a')).toBe(true);
		expect(storedWebhookIds(staticData)).toEqual(['a']);
	});

	test('treats ids as opaque strings, separators and quotes included', () => {
		const staticData: IDataObject = {};
		const odd = ['a\nb', '"a\nb"', '"quoted"', 'a', 'b', ''];
		for (const id of odd) expect(claimStored(staticData, 'wf:node', id)).toBe(true);
		expect(storedWebhookIds(staticData)).toEqual(odd);
		forgetProcessRecords();
		for (const id of odd) expect(claimStored(staticData, 'wf:node', id)).toBe(false);
		expect(claimStored(staticData, 'wf:node', 'b\na')).toBe(true);
	});
});

describe('a claim until n8n has answered Truv', () => {
	test('a copy arriving meanwhile is in flight, and a duplicate once the execution is stored', async () => {
		const staticData: IDataObject = {};
		const first = claimDelivery(staticData, 'wf:node', 'a');
		expect(first.status).toBe('claimed');
		const copy = claimDelivery(staticData, 'wf:node', 'a');
		expect(copy.status).toBe('inFlight');
		if (first.status !== 'claimed' || copy.status !== 'inFlight') return;
		first.settle(true);
		await expect(copy.outcome).resolves.toBe(true);
		expect(claimDelivery(staticData, 'wf:node', 'a').status).toBe('duplicate');
	});

	test('is forgotten when n8n failed to store the execution, so that the retry runs', async () => {
		const staticData: IDataObject = {};
		const first = claimDelivery(staticData, 'wf:node', 'a');
		const copy = claimDelivery(staticData, 'wf:node', 'a');
		if (first.status !== 'claimed' || copy.status !== 'inFlight') throw new Error(first.status);
		first.settle(false);
		await expect(copy.outcome).resolves.toBe(false);
		const retry = claimDelivery(staticData, 'wf:node', 'a');
		expect(retry.status).toBe('claimed');
		if (retry.status === 'claimed') retry.settle(true);
		expect(claimDelivery(staticData, 'wf:node', 'a').status).toBe('duplicate');
	});

	test('a released id is not taken back from a stored record that still names it', () => {
		// n8n 2.8 saves the static data (with the id) before it fails to store the execution.
		const staticData: IDataObject = {};
		const first = claimDelivery(staticData, 'wf:node', 'a');
		const savedBeforeTheFailure = { ...staticData };
		if (first.status !== 'claimed') throw new Error(first.status);
		first.settle(false);
		expect(claimStored(savedBeforeTheFailure, 'wf:node', 'b')).toBe(true);
		expect(storedWebhookIds(savedBeforeTheFailure)).toEqual(['b']);
		expect(claimStored(savedBeforeTheFailure, 'wf:node', 'a')).toBe(true);
	});

	test('settles once: a later close does not undo a failed store', () => {
		const staticData: IDataObject = {};
		const first = claimDelivery(staticData, 'wf:node', 'a');
		if (first.status !== 'claimed') throw new Error(first.status);
		first.settle(false);
		first.settle(true);
		expect(claimDelivery(staticData, 'wf:node', 'a').status).toBe('claimed');
	});
});
