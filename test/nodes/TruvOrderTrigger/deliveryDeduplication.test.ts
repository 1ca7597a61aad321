import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { triggerExecution } from '../../../dev/n8n-core/n8nContexts';
import { processedDataStore } from '../../../dev/n8n-core/processedDataStore';
import {
	claimDelivery,
	DELIVERY_RECORD_LIMIT,
	deliveryKey,
	forgetProcessRecords,
} from '../../../nodes/TruvOrderTrigger/deliveryDeduplication';
import { fixtureJson } from '../../helpers/fixtures';

const NODE_STATIC_DATA = 'node:Truv Order Trigger';
const store = processedDataStore();

beforeEach(() => {
	forgetProcessRecords();
	store.clear();
});

describe('rule 1: claims in webhook(), per process', () => {
	test('a delivery whose answer went out as a 2xx is a duplicate afterwards', () => {
		const claim = claimDelivery('wf:node', 'a');
		if (claim.status !== 'claimed') throw new Error(claim.status);
		claim.settle(true);
		expect(claimDelivery('wf:node', 'a').status).toBe('duplicate');
		expect(claimDelivery('wf:other', 'a').status).toBe('claimed');
	});

	test('a copy that arrives while the first is answered waits for its outcome', async () => {
		const first = claimDelivery('wf:node', 'a');
		const copy = claimDelivery('wf:node', 'a');
		if (first.status !== 'claimed' || copy.status !== 'answering') throw new Error('no claim');
		first.settle(true);
		await expect(copy.outcome).resolves.toBe(true);
	});

	test('a claim released (an error answer, or Truv hung up first) lets the retry claim it', async () => {
		const first = claimDelivery('wf:node', 'a');
		const copy = claimDelivery('wf:node', 'a');
		if (first.status !== 'claimed' || copy.status !== 'answering') throw new Error('no claim');
		first.settle(false);
		first.settle(true); // A claim settles once: the 'finish' after a 'close' changes nothing.
		await expect(copy.outcome).resolves.toBe(false);
		expect(claimDelivery('wf:node', 'a').status).toBe('claimed');
	});

	test(`remembers the newest ${DELIVERY_RECORD_LIMIT} stored deliveries`, () => {
		for (let index = 0; index <= DELIVERY_RECORD_LIMIT; index++) {
			const claim = claimDelivery('wf:node', `id-${index}`);
			if (claim.status === 'claimed') claim.settle(true);
		}
		expect(claimDelivery('wf:node', 'id-0').status).toBe('claimed');
		expect(claimDelivery('wf:node', 'id-1').status).toBe('duplicate');
	});
});

let sequence = 0;
function delivery(): INodeExecutionData {
	sequence += 1;
	return { json: { ...fixtureJson('order-created'), webhook_id: `dedup-${sequence}` } };
}

/** The trigger's step in an execution of `item`, as n8n runs it (on any process). */
function execution(item: INodeExecutionData, staticData: IDataObject = {}) {
	return triggerExecution({ outputs: [[item], [], []], staticData });
}

describe("rule 2: n8n's processed-data store, in the execution", () => {
	test('an execution records its delivery; a later one of the same delivery passes nothing on and says why', async () => {
		const item = delivery();
		expect(await execution(item).run()).toEqual([[item], [], []]);
		expect(store.holds(deliveryKey(String(item.json.webhook_id)))).toBe(true);

		forgetProcessRecords(); // a restart, or another process of a queue-mode cluster
		const again = execution(item);
		expect(await again.run()).toEqual([[], [], []]);
		expect(again.hints).toEqual([
			expect.objectContaining({
				message: expect.stringContaining(`Truv sent delivery ${item.json.webhook_id} again`),
			}),
		]);
	});

	test('a store that fails once is asked again, and the delivery is recorded', async () => {
		const item = delivery();
		store.failNext = 1;
		expect(await execution(item).run()).toEqual([[item], [], []]);
		expect(await execution(item).run()).toEqual([[], [], []]);
	});

	test('a store that keeps failing never drops a delivery: it runs', async () => {
		const item = delivery();
		await execution(item).run();
		store.failNext = 2;
		// The store would have said "processed"; failing, it cannot, and the delivery runs.
		expect(await execution(item).run()).toEqual([[item], [], []]);
	});

	test('concurrent executions in one process keep every delivery (the calls are queued)', async () => {
		await execution(delivery()).run(); // the row exists
		let release: () => void = () => undefined;
		store.holdBetweenReadAndWrite = new Promise((resolve) => (release = resolve));
		// A burst: n8n runs a process's executions concurrently.
		const items = Array.from({ length: 8 }, delivery);
		const runs = items.map((item) => execution(item).run());
		await new Promise((resolve) => setImmediate(resolve));
		release();
		await Promise.all(runs);
		for (const item of items)
			expect(store.holds(deliveryKey(String(item.json.webhook_id)))).toBe(true);
	});

	/**
	 * An execution whose store call is held between its read and its write, once the row exists:
	 * the executions started meanwhile wait for the store.
	 */
	const firstCallHeld = async () => {
		await execution(delivery()).run(); // the row exists
		let release: () => void = () => undefined;
		store.holdBetweenReadAndWrite = new Promise((resolve) => (release = resolve));
		const first = execution(delivery()).run();
		await new Promise((resolve) => setImmediate(resolve));
		store.holdBetweenReadAndWrite = undefined;
		return { first, release };
	};

	test('executions that wait for the store share its next call', async () => {
		const { first, release } = await firstCallHeld();
		const callsBefore = store.calls;
		const items = Array.from({ length: 20 }, delivery);
		const runs = items.map((item) => execution(item).run());
		release();
		expect(await Promise.all(runs)).toEqual(items.map((item) => [[item], [], []]));
		await first;
		// One call for the 20, and its check that no other process dropped their entries.
		expect(store.calls - callsBefore).toBe(2);
		for (const item of items)
			expect(store.holds(deliveryKey(String(item.json.webhook_id)))).toBe(true);
	});

	test('two executions of one delivery in one shared call: the first runs, the other does not', async () => {
		const { first, release } = await firstCallHeld();
		const item = delivery();
		const copies = [execution(item).run(), execution(item).run()];
		release();
		await first;
		expect(await Promise.all(copies)).toEqual([
			[[item], [], []],
			[[], [], []],
		]);
	});

	test('two first calls that collide on the new row: the second is asked again and finds the row', async () => {
		let release: () => void = () => undefined;
		store.holdBetweenReadAndWrite = new Promise((resolve) => (release = resolve));
		const item = delivery();
		// The same delivery's execution on another process, which this process's queue does not see;
		// it reads first, so it inserts the row first.
		const elsewhere = store.checkProcessedAndRecord(
			[deliveryKey(String(item.json.webhook_id))],
			'node',
			{
				workflow: { id: 'wf-1', active: true },
				node: execution(item).workflow.getNode('Truv Order Trigger')!,
			},
			{ mode: 'entries', maxEntries: DELIVERY_RECORD_LIMIT },
		);
		const here = execution(item).run();
		await new Promise((resolve) => setImmediate(resolve));
		release();
		store.holdBetweenReadAndWrite = undefined;
		await elsewhere;
		expect(await here).toEqual([[], [], []]);
	});

	test("an entry another process's concurrent write dropped is added again", async () => {
		const first = delivery();
		await execution(first).run(); // the row exists
		let release: () => void = () => undefined;
		store.holdBetweenReadAndWrite = new Promise((resolve) => (release = resolve));
		const mine = delivery();
		const other = delivery();
		const node = execution(mine).workflow.getNode('Truv Order Trigger')!;
		const here = execution(mine).run();
		await new Promise((resolve) => setImmediate(resolve));
		// Another process read the same row and writes it after this one: this one's entry is gone.
		const elsewhere = store.checkProcessedAndRecord(
			[deliveryKey(String(other.json.webhook_id))],
			'node',
			{ workflow: { id: 'wf-1', active: true }, node },
			{ mode: 'entries', maxEntries: DELIVERY_RECORD_LIMIT },
		);
		release();
		await here;
		await elsewhere;
		store.holdBetweenReadAndWrite = undefined;
		for (const item of [first, mine, other]) {
			expect(store.holds(deliveryKey(String(item.json.webhook_id)))).toBe(true);
		}
	});

	test("an entry a later write of another process dropped is put back by this process's next call, and still counts here", async () => {
		const node = execution(delivery()).workflow.getNode('Truv Order Trigger')!;
		const context = { workflow: { id: 'wf-1', active: true }, node };
		const options = { mode: 'entries', maxEntries: DELIVERY_RECORD_LIMIT } as const;
		await store.checkProcessedAndRecord(['earlier'], 'node', context, options); // the row exists
		const mine = delivery();
		const key = deliveryKey(String(mine.json.webhook_id));
		// Another worker reads the list before this execution writes, and writes after it.
		let release: () => void = () => undefined;
		store.holdBetweenReadAndWrite = new Promise((resolve) => (release = resolve));
		const elsewhere = store.checkProcessedAndRecord(
			['from-another-worker'],
			'node',
			context,
			options,
		);
		await new Promise((resolve) => setImmediate(resolve));
		store.holdBetweenReadAndWrite = undefined;
		expect(await execution(mine).run()).toEqual([[mine], [], []]);
		release();
		await elsewhere;
		expect(store.holds(key)).toBe(false); // lost, as n8n's store loses it
		// A copy on this process: its own record says processed, and the call puts the entry back.
		expect(await execution(mine).run()).toEqual([[], [], []]);
		expect(store.holds(key)).toBe(true);
	});

	test('the record an earlier release kept in static data is carried over and removed', async () => {
		const old = delivery();
		const older = delivery();
		const nodeStaticData: IDataObject = {
			recentDeliveryKeys: ` ${deliveryKey(String(older.json.webhook_id))} ${deliveryKey(String(old.json.webhook_id))} `,
		};
		const staticData = { [NODE_STATIC_DATA]: nodeStaticData };
		const run = execution(old, staticData);
		expect(await run.run()).toEqual([[], [], []]);
		expect(run.workflow.staticData[NODE_STATIC_DATA]).toEqual({});
		forgetProcessRecords();
		expect(await execution(older).run()).toEqual([[], [], []]);
	});

	test("release 0.1.0's record of raw ids is carried over too", async () => {
		const old = delivery();
		const staticData = { [NODE_STATIC_DATA]: { recentWebhookIds: `\n${old.json.webhook_id}\n` } };
		expect(await execution(old, staticData).run()).toEqual([[], [], []]);
		expect(store.holds(deliveryKey(String(old.json.webhook_id)))).toBe(true);
	});

	test('keeps the newest deliveries in the store, up to the limit', async () => {
		const node = execution(delivery()).workflow.getNode('Truv Order Trigger')!;
		const context = { workflow: { id: 'wf-1', active: true }, node };
		await store.checkProcessedAndRecord(
			Array.from({ length: DELIVERY_RECORD_LIMIT + 5 }, (_, index) => `k${index}`),
			'node',
			context,
			{ mode: 'entries', maxEntries: DELIVERY_RECORD_LIMIT },
		);
		await execution(delivery()).run();
		expect(await store.getProcessedDataCount('node', context)).toBe(DELIVERY_RECORD_LIMIT);
	});
});
