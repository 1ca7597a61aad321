// npm run bench:handler — the trigger's webhook() per delivery, next to the floor (JSON.parse +
// HMAC-SHA256 + constant-time compare of the same bytes), in one process, as ratios.
import { createHmac, timingSafeEqual } from 'crypto';
import { cpus } from 'os';
import { z as zodV3 } from 'zod';

import {
	claimDelivery,
	forgetProcessRecords,
} from '../nodes/TruvOrderTrigger/deliveryDeduplication';
import { validateOrderEvent } from '../nodes/TruvOrderTrigger/orderEventSchemas';
import type { OrderEventType } from '../nodes/TruvOrderTrigger/orderEventSchemas';
import { signTruvPayload, verifyTruvSignature } from '../nodes/TruvOrderTrigger/truvSignature';
import { readTruvFixture } from '../dev/truv-stand-in/webhookBody';
import { deliveryRunner, SANDBOX_SECRET } from '../dev/n8n-core/n8nContexts';
import { writeBenchmarkSection } from './benchmarksFile';

const BATCHES = Number(process.env.BENCH_BATCHES ?? 15);
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 2000);
const HEAP_DELIVERIES = Number(process.env.BENCH_HEAP_DELIVERIES ?? 100_000);
const FIXTURES = [
	'order-created',
	'order-status-updated-completed',
	'order-status-updated-minimal',
	'order-refresh-failed',
];

interface Delivery {
	body: Buffer;
	headers: Record<string, string>;
	signature: string;
	eventType: OrderEventType;
}

let serial = 0;
/** Signed fixture bodies, each with its own webhook_id so duplicate tracking does real work. */
function makeDeliveries(count: number): Delivery[] {
	return Array.from({ length: count }, (_, index) => {
		const payload = JSON.parse(readTruvFixture(FIXTURES[index % FIXTURES.length]).toString('utf8'));
		payload.webhook_id = (serial++).toString(16).padStart(32, '0');
		const body = Buffer.from(JSON.stringify(payload, null, 2));
		const signature = signTruvPayload(body, SANDBOX_SECRET);
		return {
			body,
			signature,
			eventType: payload.event_type as OrderEventType,
			headers: { 'x-webhook-sign': signature, 'content-type': 'application/json' },
		};
	});
}

function floor(delivery: Delivery): unknown {
	const payload: unknown = JSON.parse(delivery.body.toString('utf8'));
	const expected = createHmac('sha256', SANDBOX_SECRET).update(delivery.body).digest();
	if (!timingSafeEqual(expected, Buffer.from(delivery.signature.slice(3), 'hex')))
		throw new Error();
	return payload;
}

// The same order schema in zod's v3 API, to compare with the v4 API the node uses.
const optionalV3 = zodV3.string().nullable().optional();
const orderEventV3 = zodV3
	.object({
		webhook_id: zodV3.string().min(1),
		event_type: zodV3.string().min(1),
		event_created_at: optionalV3,
		updated_at: optionalV3,
		user_id: optionalV3,
		template_id: optionalV3,
		order_id: zodV3.string().min(1),
		order_number: optionalV3,
		employer_id: optionalV3,
		status: zodV3.string(),
		product: optionalV3,
		link_id: optionalV3,
		data_source: optionalV3,
	})
	.passthrough();

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)];
}

type Step = (delivery: Delivery, index: number) => unknown;

/** Median nanoseconds per delivery over BATCHES batches; steps alternate to share the noise. */
async function measure(steps: Record<string, Step>) {
	const samples: Record<string, number[]> = Object.fromEntries(
		Object.keys(steps).map((k) => [k, []]),
	);
	for (let batch = 0; batch < BATCHES + 2; batch++) {
		for (const [name, step] of Object.entries(steps)) {
			const deliveries = makeDeliveries(BATCH_SIZE);
			const started = process.hrtime.bigint();
			for (let index = 0; index < deliveries.length; index++) {
				const result = step(deliveries[index], index);
				if (result instanceof Promise) await result;
			}
			const elapsed = Number(process.hrtime.bigint() - started) / deliveries.length;
			if (batch >= 2) samples[name].push(elapsed); // the first two batches warm up the JIT
		}
	}
	return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

function heapAfterGc(): number {
	(globalThis as { gc?: () => void }).gc?.();
	return process.memoryUsage().heapUsed;
}

async function main() {
	const runner = deliveryRunner({});
	// Its own static data: sharing the handler's record would make each invalidate the other's.
	const staticData = {};
	const parsedCache: unknown[] = [];
	const timings = await measure({
		floor: (delivery) => floor(delivery),
		handler: async (delivery) => {
			const result = await runner.run(delivery.body, delivery.headers);
			if (result.status !== 200 || !result.workflowData)
				throw new Error(JSON.stringify(result.body));
		},
		signature: (delivery) =>
			verifyTruvSignature(delivery.body, delivery.signature, [SANDBOX_SECRET]),
		parse: (delivery, index) => (parsedCache[index] = JSON.parse(delivery.body.toString('utf8'))),
		'validation (zod v4 API, used)': (delivery) =>
			validateOrderEvent(delivery.eventType, JSON.parse(delivery.body.toString('utf8'))),
		'validation (zod v3 API)': (delivery) =>
			orderEventV3.safeParse(JSON.parse(delivery.body.toString('utf8'))),
		'duplicate check': (delivery, index) =>
			claimDelivery(staticData, 'bench', `${index}-${delivery.signature.slice(3, 35)}`),
		'parse only (baseline for validation rows)': (delivery) =>
			JSON.parse(delivery.body.toString('utf8')),
	});

	const v4 =
		timings['validation (zod v4 API, used)'] - timings['parse only (baseline for validation rows)'];
	const v3 =
		timings['validation (zod v3 API)'] - timings['parse only (baseline for validation rows)'];
	const signature = timings.signature;
	const parse = timings.parse;
	const duplicate = timings['duplicate check'];
	const rest = timings.handler - signature - parse - v4 - duplicate;

	// Heap over many deliveries with duplicate tracking on: the record is bounded, so it stays flat.
	forgetProcessRecords();
	const heapRunner = deliveryRunner({});
	const heap: Array<[number, number]> = [[0, heapAfterGc()]];
	const checkpoints = [HEAP_DELIVERIES / 10, HEAP_DELIVERIES / 2, HEAP_DELIVERIES];
	let done = 0;
	for (const checkpoint of checkpoints) {
		while (done < checkpoint) {
			const chunk = makeDeliveries(Math.min(1000, checkpoint - done));
			for (const delivery of chunk) await heapRunner.run(delivery.body, delivery.headers);
			done += chunk.length;
		}
		heap.push([done, heapAfterGc()]);
	}

	const us = (ns: number) => (ns / 1000).toFixed(2);
	const perSecond = (ns: number) => Math.round(1e9 / ns).toLocaleString('en-US');
	const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
	const ratio = timings.handler / timings.floor;
	const lines = [
		`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), ${BATCHES} batches of ${BATCH_SIZE} signed order deliveries (${FIXTURES.join(', ')}), median per delivery.`,
		'',
		'| | µs / delivery | deliveries/s on one core | × floor |',
		'|---|---:|---:|---:|',
		`| floor: JSON.parse + HMAC-SHA256 + timingSafeEqual | ${us(timings.floor)} | ${perSecond(timings.floor)} | 1.00 |`,
		`| **Truv Order Trigger webhook()** (n8n-core WebhookContext, duplicate tracking on) | **${us(timings.handler)}** | **${perSecond(timings.handler)}** | **${ratio.toFixed(2)}** |`,
		'',
		'Where the handler spends it:',
		'',
		'| part | µs / delivery | share |',
		'|---|---:|---:|',
		...(
			[
				['signature (verifyTruvSignature)', signature],
				['JSON.parse of the body', parse],
				['validation (zod v4 API)', v4],
				['duplicate check (1,000-id record)', duplicate],
				['rest: n8n context calls (parameters, credentials, static data), routing, answer', rest],
			] as Array<[string, number]>
		).map(
			([name, ns]) => `| ${name} | ${us(ns)} | ${((100 * ns) / timings.handler).toFixed(0)} % |`,
		),
		'',
		`zod: the v4 API validates an order event in ${us(v4)} µs, the v3 API in ${us(v3)} µs (${(v3 / v4).toFixed(1)} × slower); both ship in the zod 3.25 that n8n provides.`,
		'',
		`Heap after GC with duplicate tracking on: ${heap.map(([count, bytes]) => `${count.toLocaleString('en-US')} deliveries: ${mb(bytes)} MB`).join(' · ')} (growth from ${heap[1][0].toLocaleString('en-US')} to ${heap[heap.length - 1][0].toLocaleString('en-US')}: ${mb(heap[heap.length - 1][1] - heap[1][1])} MB).`,
	];
	const report = lines.join('\n');
	process.stdout.write(`${report}\n`);
	writeBenchmarkSection('handler', report);
}

main().catch((error: Error) => {
	process.stderr.write(`${error.stack}\n`);
	process.exit(1);
});
