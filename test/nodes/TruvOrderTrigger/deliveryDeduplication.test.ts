import type { IDataObject } from 'n8n-workflow';

import {
	claimDelivery,
	DELIVERY_RECORD_LIMIT,
	deliveryKey,
	forgetProcessRecords,
	storedDeliveryKeys,
} from '../../../nodes/TruvOrderTrigger/deliveryDeduplication';

/** What the stored record holds for these ids, in this order. */
const keysOf = (...webhookIds: string[]): string[] => webhookIds.map(deliveryKey);

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
		expect(storedDeliveryKeys(staticData)).toEqual(keysOf('a', 'b'));
	});

	test('keeps the stored record bounded, forgetting the oldest first', () => {
		const staticData: IDataObject = {};
		const total = DELIVERY_RECORD_LIMIT * 3 + 7;
		for (let index = 0; index < total; index++) {
			expect(claimStored(staticData, 'wf:node', `id-${index}`)).toBe(true);
		}
		const stored = storedDeliveryKeys(staticData);
		expect(stored.length).toBeGreaterThanOrEqual(DELIVERY_RECORD_LIMIT);
		expect(stored.length).toBeLessThanOrEqual(DELIVERY_RECORD_LIMIT * 1.1);
		expect(stored).toEqual(
			Array.from({ length: stored.length }, (_, index) =>
				deliveryKey(`id-${total - stored.length + index}`),
			),
		);
		expect(stored[stored.length - 1]).toBe(deliveryKey(`id-${total - 1}`));
		// A thousand Truv ids (32 hex characters each) are stored in about 13 kB.
		const truvIds = Array.from({ length: DELIVERY_RECORD_LIMIT }, (_, index) =>
			index.toString(16).padStart(32, 'a'),
		);
		const sized: IDataObject = {};
		for (const id of truvIds) claimStored(sized, 'wf:sized', id);
		expect(JSON.stringify(sized).length).toBeLessThan(13_100);
		// The newest are still recognised after a restart; the oldest are forgotten.
		const saved = { ...staticData };
		forgetProcessRecords();
		expect(claimStored({ ...saved }, 'wf:node', `id-${total - 1}`)).toBe(false);
		forgetProcessRecords();
		expect(claimStored({ ...saved }, 'wf:node', 'id-0')).toBe(true);
	});

	test('recognises ids stored before a restart and keeps them when adding new ones', () => {
		const staticData: IDataObject = {};
		claimStored(staticData, 'wf:node', 'old-1');
		claimStored(staticData, 'wf:node', 'old-2');
		forgetProcessRecords();
		expect(claimStored(staticData, 'wf:node', 'old-2')).toBe(false);
		expect(claimStored(staticData, 'wf:node', 'new-1')).toBe(true);
		expect(storedDeliveryKeys(staticData)).toEqual(keysOf('old-1', 'old-2', 'new-1'));
		// Ids merged from the stored record stay known on the fast path too.
		expect(claimStored(staticData, 'wf:node', 'old-1')).toBe(false);
	});

	test('re-adds ids that a concurrent save dropped from the stored record', () => {
		expect(claimStored({}, 'wf:node', 'first')).toBe(true);
		// A second request loaded the record before the first one was saved.
		const staleCopy: IDataObject = {};
		expect(claimStored(staleCopy, 'wf:node', 'second')).toBe(true);
		expect(storedDeliveryKeys(staleCopy)).toEqual(keysOf('first', 'second'));
	});

	test('a duplicate writes back the ids a stored record lacks (n8n did not save an earlier call)', () => {
		expect(claimStored({}, 'wf:node', 'accepted')).toBe(true);
		// The next call loads the record as it was before: the accepted call's change was not saved.
		const unsaved: IDataObject = {};
		expect(claimStored(unsaved, 'wf:node', 'accepted')).toBe(false);
		expect(storedDeliveryKeys(unsaved)).toEqual(keysOf('accepted'));
		// Once the stored record is current, a duplicate changes nothing (n8n has nothing to save).
		const current: IDataObject = { ...unsaved };
		expect(claimStored(current, 'wf:node', 'accepted')).toBe(false);
		expect(current).toEqual(unsaved);
	});

	test('keeps records of different triggers apart', () => {
		expect(claimStored({}, 'wf-1:node', 'same')).toBe(true);
		expect(claimStored({}, 'wf-2:node', 'same')).toBe(true);
	});

	test('ignores a stored record it did not write', () => {
		const staticData: IDataObject = {
			recentDeliveryKeys: ['from', 'elsewhere'],
			recentWebhookIds: 'not a record',
		};
		expect(claimStored(staticData, 'wf:node', 'a')).toBe(true);
		expect(storedDeliveryKeys(staticData)).toEqual(keysOf('a'));
	});

	test('treats ids as opaque strings, separators and quotes included', () => {
		const staticData: IDataObject = {};
		const odd = ['a\nb', '"a\nb"', '"quoted"', 'a', 'b', ''];
		for (const id of odd) expect(claimStored(staticData, 'wf:node', id)).toBe(true);
		expect(storedDeliveryKeys(staticData)).toEqual(keysOf(...odd));
		forgetProcessRecords();
		for (const id of odd) expect(claimStored(staticData, 'wf:node', id)).toBe(false);
		expect(claimStored(staticData, 'wf:node', 'b\na')).toBe(true);
	});

	test('reads the raw-id record of release 0.1.0 and replaces it with keys on the next write', () => {
		// As 0.1.0 stored 'old-1', 'a\nb' (JSON-encoded: it holds the separator) and 'old-2'.
		const staticData: IDataObject = { recentWebhookIds: '\nold-1\n"a\\nb"\nold-2\n' };
		expect(storedDeliveryKeys(staticData)).toEqual(keysOf('old-1', 'a\nb', 'old-2'));
		expect(claimStored(staticData, 'wf:node', 'old-2')).toBe(false);
		expect(claimStored(staticData, 'wf:node', 'a\nb')).toBe(false);
		expect(claimStored(staticData, 'wf:node', 'new-1')).toBe(true);
		expect(staticData).toEqual({
			recentDeliveryKeys: ` ${keysOf('old-1', 'a\nb', 'old-2', 'new-1').join(' ')} `,
		});
		forgetProcessRecords();
		expect(claimStored(staticData, 'wf:node', 'old-1')).toBe(false);
	});

	test('keys are 12 base64url characters, the same for the same id', () => {
		expect(deliveryKey('e5f6a7b8c9d0e1f2a3b4c5d6a7b8c9d0')).toMatch(/^[A-Za-z0-9_-]{12}$/);
		expect(deliveryKey('a')).toBe(deliveryKey('a'));
		expect(deliveryKey('a')).not.toBe(deliveryKey('b'));
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
		expect(storedDeliveryKeys(savedBeforeTheFailure)).toEqual(keysOf('b'));
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
