// npm run bench:handler — the trigger's webhook() per delivery, next to the floor (JSON.parse +
// HMAC-SHA256 + constant-time compare of the same bytes), in one process, as ratios; and the
// delivery with Include Order Details against the Truv stand-in, as a ratio to the plain one.
// `npm run bench:handler -- --help` lists the settings.
import { createHmac, timingSafeEqual } from 'crypto';
import { cpus } from 'os';
import { z as zodV3 } from 'zod';

import {
	claimDelivery,
	forgetProcessRecords,
} from '../nodes/TruvOrderTrigger/deliveryDeduplication';
import { forgetOrderLookups } from '../nodes/TruvOrderTrigger/orderDetails';
import { validateOrderEvent } from '../nodes/TruvOrderTrigger/orderEventSchemas';
import type { OrderEventType } from '../nodes/TruvOrderTrigger/orderEventSchemas';
import { signTruvPayload, verifyTruvSignature } from '../nodes/TruvOrderTrigger/truvSignature';
import { readTruvFixture } from '../dev/truv-stand-in/webhookBody';
import { startTruvStandIn } from '../dev/truv-stand-in/truvStandIn';
import { deliveryRunner, SANDBOX_SECRET, truvCredentials } from '../dev/n8n-core/n8nContexts';
import { writeBenchmarkSection } from './benchmarksFile';

const HELP = `npm run bench:handler [-- --quick]

  --quick   a few small batches, to check the benchmark runs; prints, leaves BENCHMARKS.md alone
  --help    this text

Environment (defaults in brackets; --quick lowers them):
  BENCH_BATCHES           batches per measurement, after two warm-up batches [15]
  BENCH_BATCH_SIZE        deliveries per batch [2000]
  BENCH_DETAILS_BATCH_SIZE  deliveries per batch with Include Order Details, each a request to
                          the stand-in [500]
  BENCH_HEAP_DELIVERIES   deliveries of the heap measurement [100000]
`;
const args = process.argv.slice(2);
if (args.includes('--help')) {
	process.stdout.write(HELP);
	process.exit(0);
}
const QUICK = args.includes('--quick');
const setting = (name: string, full: number, quick: number) =>
	Number(process.env[name] ?? (QUICK ? quick : full));
const BATCHES = setting('BENCH_BATCHES', 15, 3);
const BATCH_SIZE = setting('BENCH_BATCH_SIZE', 2000, 200);
const DETAILS_BATCH_SIZE = setting('BENCH_DETAILS_BATCH_SIZE', 500, 50);
const HEAP_DELIVERIES = setting('BENCH_HEAP_DELIVERIES', 100_000, 2_000);
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

/**
 * Median nanoseconds per delivery over BATCHES batches, of wall time and (in `cpu`) of this
 * process's CPU time; steps alternate to share the noise.
 */
async function measureWithCpu(steps: Record<string, Step>, batchSize = BATCH_SIZE) {
	const samples: Record<string, { wall: number[]; cpu: number[] }> = Object.fromEntries(
		Object.keys(steps).map((k) => [k, { wall: [], cpu: [] }]),
	);
	for (let batch = 0; batch < BATCHES + 2; batch++) {
		for (const [name, step] of Object.entries(steps)) {
			const deliveries = makeDeliveries(batchSize);
			const cpuBefore = process.cpuUsage();
			const started = process.hrtime.bigint();
			for (let index = 0; index < deliveries.length; index++) {
				const result = step(deliveries[index], index);
				if (result instanceof Promise) await result;
			}
			const elapsed = Number(process.hrtime.bigint() - started) / deliveries.length;
			const cpu = process.cpuUsage(cpuBefore);
			if (batch < 2) continue; // the first two batches warm up the JIT
			samples[name].wall.push(elapsed);
			samples[name].cpu.push(((cpu.user + cpu.system) * 1000) / deliveries.length);
		}
	}
	const medians = (pick: 'wall' | 'cpu') =>
		Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v[pick])]));
	return { wall: medians('wall'), cpu: medians('cpu') };
}

/** Median nanoseconds of wall time per delivery; see measureWithCpu. */
async function measure(steps: Record<string, Step>, batchSize = BATCH_SIZE) {
	return (await measureWithCpu(steps, batchSize)).wall;
}

/**
 * webhook() with and without Include Order Details, alternating, against the Truv stand-in in this
 * process (so its time to answer is part of the lookup's): each delivery's order is on file, so
 * every lookup succeeds. The deliveries name a few orders only, which the trigger would look up once
 * each and then reuse: the lookups are forgotten before each delivery, so that every one is timed
 * as the first of its order, with its request to Truv.
 */
async function measureOrderDetails() {
	const standIn = await startTruvStandIn({
		accounts: [{ clientId: 'bench-client', secrets: [SANDBOX_SECRET] }],
		// This times the lookup, thousands a minute: Truv's 300 a minute would make most of them 429s.
		rateLimit: { requests: 1_000_000 },
	});
	try {
		for (const fixture of FIXTURES) {
			const { order_id: id } = JSON.parse(readTruvFixture(fixture).toString('utf8'));
			if (standIn.orders().some((order) => order.id === id)) continue;
			standIn.addOrder({
				id,
				products: ['income'],
				first_name: 'Ada',
				last_name: 'Lovelace',
				employers: [{ company_name: 'Analytical Engines Ltd' }],
			});
		}
		const credentials = truvCredentials({ clientId: 'bench-client', baseUrl: standIn.url });
		// Its own credential id: the trigger remembers credentials by id, and the handler runs above
		// used another credential under the default one.
		const credentialId = 'cred-stand-in';
		const plain = deliveryRunner({ credentials, credentialId });
		const withDetails = deliveryRunner({
			credentials,
			credentialId,
			parameters: { options: { includeOrderDetails: true } },
		});
		const timings = await measureWithCpu(
			{
				plain: async (delivery) => {
					const result = await plain.run(delivery.body, delivery.headers);
					if (result.status !== 200 || !result.workflowData)
						throw new Error(JSON.stringify(result.body));
				},
				'Include Order Details': async (delivery) => {
					forgetOrderLookups();
					const result = await withDetails.run(delivery.body, delivery.headers);
					const item = result.workflowData?.flat()[0]?.json;
					if (!item?.order_details) throw new Error(JSON.stringify(item ?? result.body));
				},
			},
			DETAILS_BATCH_SIZE,
		);
		return {
			plain: timings.wall.plain,
			withDetails: timings.wall['Include Order Details'],
			plainCpu: timings.cpu.plain,
			withDetailsCpu: timings.cpu['Include Order Details'],
		};
	} finally {
		await standIn.close();
	}
}

function heapAfterGc(): number {
	(globalThis as { gc?: () => void }).gc?.();
	return process.memoryUsage().heapUsed;
}

async function main() {
	const runner = deliveryRunner({});
	// Its own static data: sharing the handler's record would make each invalidate the other's.
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
		'duplicate check': (delivery, index) => {
			const claim = claimDelivery('bench', `${index}-${delivery.signature.slice(3, 35)}`);
			if (claim.status === 'claimed') claim.settle(true);
		},
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

	const details = await measureOrderDetails();

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
		'',
		`Include Order Details (one \`GET /v1/orders/{id}/\` per accepted delivery, to the Truv stand-in on loopback in this process), ${BATCHES} batches of ${DETAILS_BATCH_SIZE}, alternating with the plain delivery:`,
		'',
		'| | µs / delivery | × plain delivery | µs of CPU / delivery (node and stand-in) | × plain delivery |',
		'|---|---:|---:|---:|---:|',
		`| webhook(), Include Order Details off | ${us(details.plain)} | 1.00 | ${us(details.plainCpu)} | 1.00 |`,
		`| **webhook(), Include Order Details on** | **${us(details.withDetails)}** | **${(details.withDetails / details.plain).toFixed(2)}** | **${us(details.withDetailsCpu)}** | **${(details.withDetailsCpu / details.plainCpu).toFixed(2)}** |`,
		'',
		"The lookup uses the credential the signature check remembers, so n8n does not read it again per delivery; n8n-core's context here fakes n8n's credential store, so what that saves on n8n 2.41 (an expression isolate per read) is measured by `npx tsx bench/credentialCostBench.ts`. Against Truv itself, add the network round trip: Truv's answer is awaited before n8n stores the execution, unless Acknowledge Deliveries is Before Starting the Execution.",
	];
	const report = lines.join('\n');
	process.stdout.write(`${report}\n`);
	if (QUICK) process.stdout.write('\n(--quick: BENCHMARKS.md left as it was)\n');
	else writeBenchmarkSection('handler', report);
}

main().catch((error: Error) => {
	process.stderr.write(`${error.stack}\n`);
	process.exit(1);
});
