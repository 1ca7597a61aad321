import type { IDataObject, INodeParameters } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { deliver, triggerExecution, SANDBOX_SECRET } from '../../../dev/n8n-core/n8nContexts';
import { processedDataStore } from '../../../dev/n8n-core/processedDataStore';
import { forgetRememberedCredentials } from '../../../nodes/TruvOrderTrigger/credentialCache';
import {
	deliveryKey,
	forgetProcessRecords,
} from '../../../nodes/TruvOrderTrigger/deliveryDeduplication';
import { fixtureJson, signedHeaders } from '../../helpers/fixtures';

const store = processedDataStore();

beforeEach(() => {
	forgetProcessRecords();
	forgetRememberedCredentials();
	store.clear();
});

let sequence = 0;
function orderBody(fixture: string, changes: IDataObject = {}): Buffer {
	sequence += 1;
	return Buffer.from(
		JSON.stringify({ ...fixtureJson(fixture), webhook_id: `exec-${sequence}`, ...changes }),
	);
}

async function delivered(body: Buffer, parameters: INodeParameters = {}) {
	return await deliver({ rawBody: body, headers: signedHeaders(body, SANDBOX_SECRET), parameters });
}

describe("the trigger's step in the execution a delivery started", () => {
	test("passes webhook()'s outputs on unchanged, and records the delivery in n8n's store", async () => {
		const body = orderBody('order-refresh-failed');
		const delivery = await delivered(body);
		const outputs = await triggerExecution({ outputs: delivery.workflowData! }).run();
		expect(outputs).toEqual(delivery.workflowData);
		expect(outputs[2]).toEqual([{ json: JSON.parse(body.toString()) }]);
		expect(store.holds(deliveryKey(`exec-${sequence}`))).toBe(true);
	});

	test('records nothing on the test URL or with Skip Duplicate Deliveries off', async () => {
		const delivery = await delivered(orderBody('order-created'));
		await triggerExecution({ outputs: delivery.workflowData!, mode: 'manual' }).run();
		await triggerExecution({
			outputs: delivery.workflowData!,
			parameters: { options: { skipDuplicates: false } },
		}).run();
		expect(store.calls).toBe(0);
	});

	test('fails the execution of a signed delivery it cannot read, naming the problems', async () => {
		const delivery = await delivered(orderBody('order-created', { order_id: null }));
		expect(delivery.body.outcome).toBe('invalid_payload');
		// No error in webhook(): n8n answers once, and logs no stack trace for the webhook call.
		expect(delivery.failedExecutionError).toBeUndefined();
		const run = triggerExecution({ outputs: delivery.workflowData! }).run();
		await expect(run).rejects.toBeInstanceOf(NodeOperationError);
		await expect(run).rejects.toMatchObject({
			message: 'Truv sent an order-created event this trigger cannot read',
			description: expect.stringContaining('Problems: order_id: expected string'),
		});
		expect(store.calls).toBe(0);
	});

	test('passes the Connection Failed output on too', async () => {
		const body = Buffer.from(
			JSON.stringify({
				...fixtureJson('task-status-updated'),
				webhook_id: 'exec-task-1',
				status: 'login_error',
			}),
		);
		const parameters = { events: ['task-status-updated'] };
		const delivery = await delivered(body, parameters);
		const outputs = await triggerExecution({ outputs: delivery.workflowData!, parameters }).run();
		expect(outputs).toHaveLength(4);
		expect(outputs[3]).toEqual(delivery.workflowData![3]);
	});
});
