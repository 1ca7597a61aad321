import { RateLimiter } from '../../../dev/truv-stand-in/rateLimit';
import {
	startTruvStandIn,
	TRUV_RATE_WINDOW_MS,
	TRUV_REQUESTS_PER_WINDOW,
	type TruvStandIn,
} from '../../../dev/truv-stand-in/truvStandIn';

describe('RateLimiter', () => {
	test('allows the limit per secret in a sliding window and says when a slot frees', () => {
		let now = 0;
		const limiter = new RateLimiter({ requests: 2, windowMs: 60_000 }, () => now);
		expect(limiter.take('a')).toBeUndefined();
		now = 10_000;
		expect(limiter.take('a')).toBeUndefined();
		expect(limiter.take('b')).toBeUndefined();
		now = 20_500;
		expect(limiter.take('a')).toBe(40);
		// A refused request is not counted: the first slot frees at 60 s all the same.
		now = 60_000;
		expect(limiter.take('a')).toBeUndefined();
		expect(limiter.take('a')).toBe(10);
	});

	test("defaults to Truv's 300 requests a minute", () => {
		expect(new RateLimiter().current).toEqual({ requests: 300, windowMs: 60_000 });
		expect(TRUV_REQUESTS_PER_WINDOW).toBe(300);
		expect(TRUV_RATE_WINDOW_MS).toBe(60_000);
	});

	test('refuses a limit that is no positive whole number', () => {
		expect(() => new RateLimiter({ requests: 0 })).toThrow(/positive whole number/);
		expect(() => new RateLimiter().set({ windowMs: 1.5 })).toThrow(/positive whole number/);
	});
});

describe('the stand-in over the limit', () => {
	let standIn: TruvStandIn;
	beforeEach(async () => {
		standIn = await startTruvStandIn({ rateLimit: { requests: 3 } });
	});
	afterEach(async () => await standIn.close());

	const get = (path: string, headers: Record<string, string>) =>
		fetch(`${standIn.url}${path}`, { headers });

	test('answers 429 as truv-api.md describes, per secret, after authentication', async () => {
		const sandbox = standIn.authHeaders('sandbox');
		for (let index = 0; index < 3; index++) {
			expect((await get('/v1/orders/', sandbox)).status).toBe(200);
		}
		// Unknown routes and bad keys are answered before the limit is counted.
		expect((await get('/v1/nothing/', sandbox)).status).toBe(404);
		expect((await get('/v1/orders/', { ...sandbox, 'X-Access-Secret': 'sandbox-x' })).status).toBe(
			401,
		);
		const throttled = await get('/v1/webhooks/', sandbox);
		expect(throttled.status).toBe(429);
		const wait = Number(throttled.headers.get('retry-after'));
		expect(wait).toBeGreaterThanOrEqual(59);
		expect(wait).toBeLessThanOrEqual(60);
		expect(await throttled.json()).toEqual({
			error: {
				code: 'throttled',
				message: `Request was throttled. Expected available in ${wait} seconds.`,
			},
		});
		expect((await get('/v1/orders/', standIn.authHeaders('dev'))).status).toBe(200);
		expect(standIn.calls.map((call) => call.status)).toEqual([200, 200, 200, 404, 401, 429, 200]);
	});

	test('the control API reads and changes the limit, starting the count afresh', async () => {
		const sandbox = standIn.authHeaders('sandbox');
		for (let index = 0; index < 4; index++) await get('/v1/orders/', sandbox);
		expect(await (await fetch(`${standIn.url}/_stand-in/rate-limit`)).json()).toEqual({
			requests: 3,
			windowMs: 60_000,
		});
		const changed = await fetch(`${standIn.url}/_stand-in/rate-limit`, {
			method: 'PUT',
			body: JSON.stringify({ requests: 1, windowMs: 5_000 }),
		});
		expect(await changed.json()).toEqual({ requests: 1, windowMs: 5_000 });
		expect((await get('/v1/orders/', sandbox)).status).toBe(200);
		const throttled = await get('/v1/orders/', sandbox);
		expect(throttled.status).toBe(429);
		expect(throttled.headers.get('retry-after')).toBe('5');

		const refused = await fetch(`${standIn.url}/_stand-in/rate-limit`, {
			method: 'PUT',
			body: JSON.stringify({ requests: 0 }),
		});
		expect(refused.status).toBe(400);
		expect(standIn.setRateLimit({})).toEqual({ requests: 300, windowMs: 60_000 });
	});
});
