// npm run send-event -- <sample> [--replay]
//
// Makes Truv deliver a signed sample event to the workflows `npm start` runs: through the local
// stand-in (which sends it to every webhook subscribed to the event, as Truv does), or, with Truv's
// real API, signed here with TRUV_ACCESS_SECRET and posted to each active example. Each send gets
// a fresh webhook_id unless --replay resends the sample's own (the trigger then skips it). With the
// stand-in, an order sample is pointed at the sample order `npm start` seeded (same order number):
// its order_id and employer_id become that order's, so Truv: Get Order finds the applicant.
import { createHmac } from 'crypto';
import { existsSync, readFileSync } from 'fs';
import { parseArgs } from 'util';

import { fixtureNames, readTruvFixture } from '../dev/truv-stand-in/webhookBody';
import { devStateFile, type DevState } from './lib/devState';

const samples = fixtureNames();

interface StandInOrder {
	id: string;
	order_number: string | null;
	first_name: string;
	last_name: string;
	employers: Array<{ id: string; company_name: string | null }>;
}

/** Points an order sample at the stand-in's order with its order number, when there is one. */
async function pointAtSampleOrder(standInUrl: string, payload: Record<string, unknown>) {
	if (payload.order_id === undefined || payload.order_number === undefined) return;
	const response = await fetch(`${standInUrl}/_stand-in/orders`);
	if (!response.ok) throw new Error(`The stand-in did not list its orders: ${response.status}`);
	const orders = (await response.json()) as StandInOrder[];
	const order = orders.find((candidate) => candidate.order_number === payload.order_number);
	if (!order) return;
	payload.order_id = order.id;
	// order-created names no employer yet (null); the other order events name one.
	const employer = payload.employer_id === null ? undefined : order.employers[0];
	if (employer) payload.employer_id = employer.id;
	const at = employer ? ` at ${employer.company_name}` : '';
	process.stdout.write(
		`For the sample order ${order.order_number} (id ${order.id}): ${order.first_name} ${order.last_name}${at}\n`,
	);
}

async function main(): Promise<void> {
	const { values, positionals } = parseArgs({
		allowPositionals: true,
		options: { replay: { type: 'boolean', default: false } },
	});
	const sample = positionals[0];
	if (!sample || !samples.includes(sample)) {
		throw new Error(
			`Usage: npm run send-event -- <sample> [--replay]\nSamples: ${samples.join(', ')}`,
		);
	}
	if (!existsSync(devStateFile)) throw new Error('Nothing is running: start it with npm start');
	const state = JSON.parse(readFileSync(devStateFile, 'utf8')) as DevState;

	const payload = JSON.parse(readTruvFixture(sample).toString('utf8'));
	if (!values.replay)
		payload.webhook_id = createHmac('sha256', String(Date.now()))
			.update(sample)
			.digest('hex')
			.slice(0, 32);
	if (state.mode === 'stand-in') await pointAtSampleOrder(String(state.standInUrl), payload);
	const body = JSON.stringify(payload, null, 2);

	if (state.mode === 'stand-in') {
		const response = await fetch(`${state.standInUrl}/_stand-in/deliver`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ body, retries: 0 }),
		});
		const result = (await response.json()) as {
			targets?: Array<{
				url: string;
				attempts: Array<{ status: number | null; responseBody?: string }>;
			}>;
			error?: string;
		};
		if (!response.ok) throw new Error(`The stand-in refused: ${JSON.stringify(result)}`);
		if (!result.targets?.length) {
			process.stdout.write(
				`No active workflow subscribes to ${payload.event_type}: Truv would send it nowhere.\n`,
			);
		}
		for (const target of result.targets ?? []) {
			const last = target.attempts[target.attempts.length - 1];
			process.stdout.write(
				`${payload.event_type} ${payload.webhook_id} → ${target.url}: ${last.status} ${last.responseBody ?? ''}\n`,
			);
		}
		return;
	}

	const secret = process.env.TRUV_ACCESS_SECRET;
	if (!secret) throw new Error('Set TRUV_ACCESS_SECRET to sign the sample as Truv would');
	const signature = `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;
	for (const url of Object.values(state.webhookUrls)) {
		const response = await fetch(url, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-webhook-sign': signature },
			body,
		});
		process.stdout.write(
			`${payload.event_type} ${payload.webhook_id} → ${url}: ${response.status} ${await response.text()}\n`,
		);
	}
}

main().catch((error: unknown) => {
	process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
	process.exit(1);
});
