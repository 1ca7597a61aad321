import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { NodeOperationError } from 'n8n-workflow';

import {
	readTruvFixture,
	startTruvStandIn,
	type TruvStandIn,
} from '../../../dev/truv-stand-in/truvStandIn';
import { runTruvNode, truvNodeError, truvRequests } from '../../helpers/truvNode';

let standIn: TruvStandIn;
let receiver: Server;
let receiverUrl: string;

const DELIVERED = [
	'order-created',
	'order-status-updated-completed',
	'link-connected',
	'task-status-updated',
	'order-refresh-failed',
];

beforeAll(async () => {
	standIn = await startTruvStandIn({
		pageSize: 2,
		delivery: { timeoutMs: 1_000, retryDelayMs: 5, maxRetries: 0 },
	});
	// Answers task events with 500, everything else with 200.
	receiver = createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			response.writeHead(Buffer.concat(chunks).toString().includes('task-status') ? 500 : 200);
			response.end();
		});
	});
	await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
	receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
	for (const fixture of DELIVERED) await standIn.deliver(fixture, { url: receiverUrl });
});
afterAll(async () => {
	await standIn.close();
	await new Promise<void>((done) => receiver.close(() => done()));
});
beforeEach(() => standIn.resetCalls());

describe('Webhook Request: Get Many', () => {
	test('Return All follows the cursors; payloads become objects', async () => {
		const output = await runTruvNode(standIn, {
			resource: 'webhookRequest',
			operation: 'getAll',
			returnAll: true,
		});
		expect(output.map((item) => item.json.event_type)).toEqual([
			'order-refresh-failed',
			'task-status-updated',
			'link-connected',
			'order-status-updated',
			'order-created',
		]);
		expect(output[4].json).toEqual({
			webhook_id: expect.any(String),
			event_type: 'order-created',
			event_created_at: expect.any(String),
			status_code: 200,
			error_message: null,
			webhook_payload: JSON.parse(readTruvFixture('order-created').toString()),
			webhook_url: receiverUrl,
		});
		expect(output.every((item) => (item.pairedItem as { item: number }).item === 0)).toBe(true);
		const requests = truvRequests(standIn);
		expect(requests).toHaveLength(3);
		expect(requests[0]).toBe('GET /v1/webhook-requests/');
		expect(requests.slice(1).every((request) => /\?cursor=/.test(request))).toBe(true);
	});

	test('Parse Payload off leaves each payload as the text Truv sent', async () => {
		const output = await runTruvNode(standIn, {
			resource: 'webhookRequest',
			operation: 'getAll',
			limit: 1,
			options: { parsePayload: false },
		});
		expect(output.map((item) => item.json.webhook_payload)).toEqual([
			readTruvFixture('order-refresh-failed').toString(),
		]);
		expect(truvRequests(standIn)).toEqual(['GET /v1/webhook-requests/']);
	});

	test('filters go to Truv as its query parameters and shape the result', async () => {
		const output = await runTruvNode(standIn, {
			resource: 'webhookRequest',
			operation: 'getAll',
			returnAll: true,
			filters: { statusCode: 500, eventType: 'task-status-updated' },
		});
		expect(output.map((item) => [item.json.event_type, item.json.status_code])).toEqual([
			['task-status-updated', 500],
		]);
		expect(standIn.calls[0].query).toEqual({
			event_type: 'task-status-updated',
			status_code: '500',
		});
	});

	test('Created After and Created Before become created_at__gte and created_at__lte', async () => {
		const future = '2999-01-01T00:00:00Z';
		const past = '2000-01-01T00:00:00Z';
		const none = await runTruvNode(standIn, {
			resource: 'webhookRequest',
			operation: 'getAll',
			returnAll: true,
			filters: { createdAfter: future },
		});
		expect(none).toEqual([]);
		expect(standIn.calls[0].query).toEqual({ created_at__gte: future });

		const between = await runTruvNode(standIn, {
			resource: 'webhookRequest',
			operation: 'getAll',
			returnAll: true,
			filters: { createdAfter: past, createdBefore: future },
		});
		expect(between).toHaveLength(DELIVERED.length);
		expect(standIn.calls[1].query).toEqual({ created_at__gte: past, created_at__lte: future });
	});

	test('a Created Before that is no time is refused before calling Truv', async () => {
		const error = await truvNodeError(standIn, {
			resource: 'webhookRequest',
			operation: 'getAll',
			filters: { createdBefore: 'yesterday-ish' },
		});
		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.message).toBe('Created Before is not a date and time: yesterday-ish');
		expect(standIn.calls).toEqual([]);
	});
});
