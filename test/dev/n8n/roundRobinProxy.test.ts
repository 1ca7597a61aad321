import { createServer, type Server } from 'node:http';

import { request } from '../../../dev/n8n/http';
import { getFreePort } from '../../../dev/n8n/ports';
import {
	startRoundRobinProxy,
	UPSTREAM_HEADER,
	type RoundRobinProxy,
} from '../../../dev/n8n/roundRobinProxy';

interface Upstream {
	url: string;
	received: Array<{ method: string; url: string; body: string; headers: Record<string, unknown> }>;
	close(): Promise<void>;
}

/** An upstream that answers with its own name, the path and the body it got. */
async function startUpstream(name: string): Promise<Upstream> {
	const received: Upstream['received'] = [];
	const server: Server = createServer((incoming, outgoing) => {
		const chunks: Buffer[] = [];
		incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
		incoming.on('end', () => {
			const body = Buffer.concat(chunks).toString();
			received.push({
				method: incoming.method ?? '',
				url: incoming.url ?? '',
				body,
				headers: incoming.headers,
			});
			// Never answered, as an upstream that hangs.
			if (incoming.url === '/hang') return;
			const status = incoming.url === '/fail' ? 500 : 200;
			outgoing
				.writeHead(status, { 'content-type': 'application/json', 'x-upstream': name })
				.end(JSON.stringify({ name, url: incoming.url, body }));
		});
	});
	const port = await getFreePort();
	await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
	return {
		url: `http://127.0.0.1:${port}`,
		received,
		close: async () => await new Promise<void>((resolve) => server.close(() => resolve())),
	};
}

describe('startRoundRobinProxy', () => {
	let upstreams: Upstream[];
	let proxy: RoundRobinProxy;

	beforeEach(async () => {
		upstreams = await Promise.all([startUpstream('a'), startUpstream('b')]);
		proxy = await startRoundRobinProxy(upstreams.map((upstream) => upstream.url));
	});

	afterEach(async () => {
		await proxy.close();
		await Promise.all(upstreams.map(async (upstream) => await upstream.close()));
	});

	test('hands requests to the upstreams in turn, with method, path, headers and body, and counts them', async () => {
		const answers = [];
		for (let index = 0; index < 5; index++) {
			answers.push(
				await request(`${proxy.url}/webhook/abc/webhook?n=${index}`, {
					method: 'POST',
					body: { index },
					headers: { 'x-webhook-sign': `v1=${index}` },
				}),
			);
		}
		expect(
			answers.map((answer) => [
				answer.status,
				answer.headers['x-upstream'],
				answer.headers[UPSTREAM_HEADER],
			]),
		).toEqual([
			[200, 'a', '0'],
			[200, 'b', '1'],
			[200, 'a', '0'],
			[200, 'b', '1'],
			[200, 'a', '0'],
		]);
		expect(upstreams[1].received[0]).toEqual(
			expect.objectContaining({
				method: 'POST',
				url: '/webhook/abc/webhook?n=1',
				body: '{"index":1}',
				headers: expect.objectContaining({
					'x-webhook-sign': 'v1=1',
					'content-type': 'application/json',
				}),
			}),
		);
		expect(proxy.answeredBy()).toEqual([3, 2]);
		expect(proxy.failed()).toBe(0);
		proxy.resetCounts();
		expect(proxy.answeredBy()).toEqual([0, 0]);
	});

	test("passes an upstream's error status on as it is", async () => {
		const answer = await request(`${proxy.url}/fail`, { method: 'POST', body: 'x' });
		expect(answer.status).toBe(500);
		expect(proxy.answeredBy()).toEqual([1, 0]);
	});

	test('sends a request refused by a stopped upstream to the next one; 502 when none is left', async () => {
		await upstreams[0].close();
		const answers = [];
		for (let index = 0; index < 3; index++) {
			answers.push((await request(`${proxy.url}/x`, { method: 'POST', body: 'y' })).status);
		}
		expect(answers).toEqual([200, 200, 200]);
		expect(proxy.answeredBy()).toEqual([0, 3]);
		await upstreams[1].close();
		expect((await request(`${proxy.url}/x`, { method: 'POST', body: 'y' })).status).toBe(502);
		expect(proxy.failed()).toBe(1);
	});

	test('answers 504 for an upstream that stays silent, so that no request through it hangs', async () => {
		const impatient = await startRoundRobinProxy(
			upstreams.map((upstream) => upstream.url),
			{ upstreamTimeoutMs: 200 },
		);
		try {
			const answer = await request(`${impatient.url}/hang`, { method: 'POST', body: 'x' });
			expect(answer.status).toBe(504);
			expect(impatient.failed()).toBe(1);
		} finally {
			await impatient.close();
		}
	});

	test('close() ends the requests still waiting for an upstream', async () => {
		const waiting = request(`${proxy.url}/hang`, { method: 'POST', body: 'x' }).then(
			() => 'answered',
			() => 'ended',
		);
		await new Promise((resolve) => setTimeout(resolve, 100));
		await proxy.close();
		expect(await waiting).toBe('ended');
		// The upstream's connection is gone too: it closes without waiting for it.
		await upstreams[0].close();
		upstreams = [upstreams[1]];
	});
});
