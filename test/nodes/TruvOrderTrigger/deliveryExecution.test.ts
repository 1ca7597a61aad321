import type { IDataObject } from 'n8n-workflow';

import { deliver, triggerExecution, SANDBOX_SECRET } from '../../../dev/n8n-core/n8nContexts';
import {
	DELIVERY_RECORD_LIMIT,
	deliveryKey,
	forgetProcessRecords,
	SINGLE_PROCESS_STORED_LIMIT,
	storedDeliveryKeys,
} from '../../../nodes/TruvOrderTrigger/deliveryDeduplication';
import { forgetRememberedCredentials } from '../../../nodes/TruvOrderTrigger/credentialCache';
import { fixtureJson, signedHeaders } from '../../helpers/fixtures';

const NODE_STATIC_DATA = 'node:Truv Order Trigger';

beforeEach(() => {
	forgetProcessRecords();
	forgetRememberedCredentials();
});

let sequence = 0;
function orderBody(fixture: string): Buffer {
	sequence += 1;
	return Buffer.from(
		JSON.stringify({ ...fixtureJson(fixture), webhook_id: `exec-${sequence}-${Date.now()}` }),
	);
}

/** One delivery through webhook(), then its execution, each with static data as n8n loads it. */
async function deliverAndExecute(body: Buffer, storedBefore: IDataObject = {}) {
	const delivery = await deliver({
		rawBody: body,
		headers: signedHeaders(body, SANDBOX_SECRET),
		staticData: JSON.parse(JSON.stringify(storedBefore)) as IDataObject,
	});
	// n8n 2.41 does not save the webhook call's static data: the execution loads the stored one.
	const execution = triggerExecution({
		outputs: delivery.workflowData!,
		staticData: JSON.parse(JSON.stringify(storedBefore)) as IDataObject,
	});
	return { delivery, execution, outputs: await execution.run() };
}

function keysOfBody(body: Buffer): string[] {
	return [deliveryKey(JSON.parse(body.toString()).webhook_id as string)];
}

function nodeStaticData(staticData: IDataObject): IDataObject {
	return (staticData[NODE_STATIC_DATA] as IDataObject | undefined) ?? {};
}

describe("the trigger's step in the execution a delivery started", () => {
	test("passes webhook()'s outputs on unchanged", async () => {
		const body = orderBody('order-refresh-failed');
		const { delivery, outputs } = await deliverAndExecute(body);
		expect(outputs).toEqual(delivery.workflowData);
		expect(outputs[2]).toEqual([{ json: JSON.parse(body.toString()) }]);
	});

	test('records the delivery in the static data n8n saves with the execution', async () => {
		const body = orderBody('order-created');
		const { execution } = await deliverAndExecute(body);
		const saved = nodeStaticData(execution.workflow.staticData);
		expect(storedDeliveryKeys(saved)).toEqual(
			[JSON.parse(body.toString()).webhook_id].map(deliveryKey),
		);
		expect(execution.workflow.staticData.__dataChanged).toBe(true);
	});

	test('what it saved makes a copy sent after a restart a duplicate', async () => {
		const body = orderBody('order-created');
		const { execution } = await deliverAndExecute(body);
		const saved = JSON.parse(JSON.stringify(execution.workflow.staticData)) as IDataObject;
		forgetProcessRecords();
		const again = await deliver({
			rawBody: body,
			headers: signedHeaders(body, SANDBOX_SECRET),
			staticData: saved,
		});
		expect(again.body.outcome).toBe('duplicate');
	});

	test('leaves the static data unchanged when it already names the delivery (nothing to save)', async () => {
		const body = orderBody('order-created');
		const delivery = await deliver({ rawBody: body, headers: signedHeaders(body, SANDBOX_SECRET) });
		// n8n 2.8 saved the webhook call's static data before starting the execution.
		const stored = JSON.parse(JSON.stringify(delivery.staticData)) as IDataObject;
		const execution = triggerExecution({ outputs: delivery.workflowData!, staticData: stored });
		await execution.run();
		expect(execution.workflow.staticData.__dataChanged).toBe(false);
	});

	test('keeps the deliveries of concurrent executions that each loaded the same record', async () => {
		const first = orderBody('order-created');
		const second = orderBody('order-status-updated-completed');
		const a = await deliver({ rawBody: first, headers: signedHeaders(first, SANDBOX_SECRET) });
		const b = await deliver({ rawBody: second, headers: signedHeaders(second, SANDBOX_SECRET) });
		const executionA = triggerExecution({ outputs: a.workflowData!, staticData: {} });
		const executionB = triggerExecution({ outputs: b.workflowData!, staticData: {} });
		await executionA.run();
		await executionB.run();
		// B saves last and wins in the database: it still names A's delivery.
		expect(storedDeliveryKeys(nodeStaticData(executionB.workflow.staticData))).toEqual(
			[first, second].map((body) => JSON.parse(body.toString()).webhook_id).map(deliveryKey),
		);
	});

	describe('in a burst', () => {
		const burst = async (count: number) => {
			const bodies = Array.from({ length: count }, () => orderBody('order-created'));
			const deliveries = [];
			for (const body of bodies) {
				deliveries.push(
					await deliver({ rawBody: body, headers: signedHeaders(body, SANDBOX_SECRET) }),
				);
			}
			return { bodies, deliveries };
		};
		const keysOfBodies = (bodies: Buffer[]) =>
			bodies.map((body) => deliveryKey(JSON.parse(body.toString()).webhook_id as string));

		test('leaves the write to the last execution, which saves every delivery', async () => {
			const { bodies, deliveries } = await burst(4);
			const changed = [];
			let last;
			for (const delivery of deliveries) {
				last = triggerExecution({ outputs: delivery.workflowData!, staticData: {} });
				await last.run();
				changed.push(last.workflow.staticData.__dataChanged);
			}
			// The first execution after a quiet second writes at once.
			expect(changed).toEqual([true, false, false, true]);
			expect(storedDeliveryKeys(nodeStaticData(last!.workflow.staticData))).toEqual(
				keysOfBodies(bodies),
			);
		});

		test('writes at least once a second while executions keep coming', async () => {
			const now = jest.spyOn(Date, 'now');
			try {
				let clock = 1_000_000;
				now.mockImplementation(() => clock);
				const { bodies, deliveries } = await burst(4);
				const executions = [];
				for (const delivery of deliveries.slice(0, 3)) {
					const execution = triggerExecution({ outputs: delivery.workflowData!, staticData: {} });
					await execution.run();
					executions.push(execution);
					clock += 600;
				}
				// Written at 0 ms, left to a later execution at 600 ms, written again at 1,200 ms with
				// everything claimed so far, though the fourth delivery is still on its way.
				expect(executions.map((execution) => execution.workflow.staticData.__dataChanged)).toEqual([
					true,
					false,
					true,
				]);
				expect(storedDeliveryKeys(nodeStaticData(executions[2].workflow.staticData))).toEqual(
					keysOfBodies(bodies),
				);
			} finally {
				now.mockRestore();
			}
		});
	});

	describe('once this process has run an execution of a delivery it claimed (one n8n process)', () => {
		const copy = (staticData: IDataObject) => JSON.parse(JSON.stringify(staticData)) as IDataObject;
		const delivered = async (body: Buffer, staticData: IDataObject = {}, parameters = {}) =>
			await deliver({
				rawBody: body,
				headers: signedHeaders(body, SANDBOX_SECRET),
				staticData,
				parameters,
			});

		test("later webhook calls leave the static data alone: n8n 2.8 has no webhook call's save to make", async () => {
			const first = orderBody('order-created');
			const a = await delivered(first);
			// Until then the webhook call records the delivery: its executions may run elsewhere.
			expect(storedDeliveryKeys(nodeStaticData(a.staticData))).toEqual(keysOfBody(first));
			const execution = triggerExecution({
				outputs: a.workflowData!,
				staticData: copy(a.staticData),
			});
			await execution.run();
			const stored = copy(execution.workflow.staticData);
			for (const acknowledge of ['afterStored', 'beforeExecution']) {
				const next = orderBody('order-created');
				const b = await delivered(next, copy(stored), { options: { acknowledge } });
				expect(b.body.outcome).toBe('accepted');
				expect(b.staticData).toEqual(stored);
			}
		});

		test("the execution's step then records the delivery, and a copy after a restart is a duplicate", async () => {
			const first = orderBody('order-created');
			const second = orderBody('order-status-updated-completed');
			const a = await delivered(first);
			await triggerExecution({ outputs: a.workflowData!, staticData: copy(a.staticData) }).run();
			const b = await delivered(second, copy(a.staticData));
			const execution = triggerExecution({
				outputs: b.workflowData!,
				staticData: copy(b.staticData),
			});
			await execution.run();
			expect(execution.workflow.staticData.__dataChanged).toBe(true);
			const saved = execution.workflow.staticData;
			expect(storedDeliveryKeys(nodeStaticData(saved))).toEqual([
				...keysOfBody(first),
				...keysOfBody(second),
			]);
			forgetProcessRecords();
			const again = await delivered(second, copy(saved));
			expect(again.body.outcome).toBe('duplicate');
		});

		test(`stores the newest ${SINGLE_PROCESS_STORED_LIMIT} deliveries for a restart and remembers ${DELIVERY_RECORD_LIMIT} while running`, async () => {
			const first = orderBody('order-created');
			const a = await delivered(first);
			await triggerExecution({ outputs: a.workflowData!, staticData: copy(a.staticData) }).run();
			const bodies = Array.from({ length: 500 }, () => orderBody('order-created'));
			let last;
			for (const body of bodies) last = await delivered(body, copy(a.staticData));
			const execution = triggerExecution({ outputs: last!.workflowData!, staticData: {} });
			await execution.run();
			const saved = copy(execution.workflow.staticData);
			expect(storedDeliveryKeys(nodeStaticData(saved))).toEqual(
				bodies.slice(-SINGLE_PROCESS_STORED_LIMIT).flatMap(keysOfBody),
			);
			// While running: the oldest of the 500 is still known.
			expect((await delivered(bodies[0], copy(saved))).body.outcome).toBe('duplicate');
			// After a restart: the stored ones are.
			forgetProcessRecords();
			const newestStored = bodies[bodies.length - SINGLE_PROCESS_STORED_LIMIT];
			expect((await delivered(newestStored, copy(saved))).body.outcome).toBe('duplicate');
			forgetProcessRecords();
			const older = bodies[bodies.length - SINGLE_PROCESS_STORED_LIMIT - 1];
			expect((await delivered(older, copy(saved))).body.outcome).toBe('accepted');
		});

		test('a copy that arrives before the execution wrote the record is still a duplicate', async () => {
			const first = orderBody('order-created');
			const second = orderBody('order-created');
			const a = await delivered(first);
			await triggerExecution({ outputs: a.workflowData!, staticData: copy(a.staticData) }).run();
			await delivered(second, copy(a.staticData));
			const copyOfSecond = await delivered(second, copy(a.staticData));
			expect(copyOfSecond.body.outcome).toBe('duplicate');
		});
	});

	test('does not leave the write to a delivery whose execution n8n failed to store', async () => {
		const stored = orderBody('order-created');
		const failing = orderBody('order-created');
		const a = await deliver({ rawBody: stored, headers: signedHeaders(stored, SANDBOX_SECRET) });
		await deliver({
			rawBody: failing,
			headers: signedHeaders(failing, SANDBOX_SECRET),
			storeExecution: async () => false,
		});
		const execution = triggerExecution({ outputs: a.workflowData!, staticData: {} });
		await execution.run();
		expect(storedDeliveryKeys(nodeStaticData(execution.workflow.staticData))).toEqual(
			[JSON.parse(stored.toString()).webhook_id].map(deliveryKey),
		);
	});

	test('on a queue-mode worker of n8n 2.41 (no record given, nothing claimed in this process) it writes nothing, so the stored record is not replaced by this delivery alone', async () => {
		const body = orderBody('order-created');
		const delivery = await deliver({ rawBody: body, headers: signedHeaders(body, SANDBOX_SECRET) });
		// The worker is another process: it never claimed anything.
		forgetProcessRecords();
		const onWorker = triggerExecution({ outputs: delivery.workflowData!, staticData: {} });
		expect(await onWorker.run()).toEqual(delivery.workflowData);
		expect(nodeStaticData(onWorker.workflow.staticData)).toEqual({});
		expect(onWorker.workflow.staticData.__dataChanged).toBe(false);
	});

	test('on a queue-mode worker given the stored record (n8n 2.8) it adds a delivery the record lacks', async () => {
		const earlier = orderBody('order-created');
		const first = await deliver({
			rawBody: earlier,
			headers: signedHeaders(earlier, SANDBOX_SECRET),
		});
		const stored = JSON.parse(JSON.stringify(first.staticData)) as IDataObject;
		const body = orderBody('order-status-updated-completed');
		const delivery = await deliver({ rawBody: body, headers: signedHeaders(body, SANDBOX_SECRET) });
		forgetProcessRecords();
		const onWorker = triggerExecution({ outputs: delivery.workflowData!, staticData: stored });
		await onWorker.run();
		expect(storedDeliveryKeys(nodeStaticData(onWorker.workflow.staticData))).toEqual(
			[earlier, body].map((each) => JSON.parse(each.toString()).webhook_id).map(deliveryKey),
		);
	});

	test('records nothing on the test URL or with Skip Duplicate Deliveries off', async () => {
		const body = orderBody('order-created');
		const delivery = await deliver({ rawBody: body, headers: signedHeaders(body, SANDBOX_SECRET) });
		const manual = triggerExecution({ outputs: delivery.workflowData!, mode: 'manual' });
		await manual.run();
		expect(nodeStaticData(manual.workflow.staticData)).toEqual({});
		const off = triggerExecution({
			outputs: delivery.workflowData!,
			parameters: { options: { skipDuplicates: false } },
		});
		await off.run();
		expect(nodeStaticData(off.workflow.staticData)).toEqual({});
	});

	test('passes the Connection Failed output on too', async () => {
		const payload: IDataObject = {
			...fixtureJson('task-status-updated'),
			webhook_id: 'exec-task-1',
			status: 'login_error',
		};
		const body = Buffer.from(JSON.stringify(payload));
		const parameters = { events: ['task-status-updated'] };
		const delivery = await deliver({
			rawBody: body,
			headers: signedHeaders(body, SANDBOX_SECRET),
			parameters,
		});
		const execution = triggerExecution({ outputs: delivery.workflowData!, parameters });
		const outputs = await execution.run();
		expect(outputs).toHaveLength(4);
		expect(outputs[3]).toEqual(delivery.workflowData![3]);
	});
});
