// A closed-loop load with autocannon (as a library): a fixed number of connections for a fixed time,
// each request built by `next()`. At the end of the window no new request is sent, but the ones in
// flight are awaited, so that every request n8n received has an answer that was counted. Or, for
// batches that must be alike, a fixed number of requests (sendRequests).
import autocannon from 'autocannon';

export interface Delivery {
	body: Buffer;
	headers: Record<string, string>;
}

export interface LoadOptions {
	url: string;
	connections: number;
	durationS: number;
	next: () => Delivery;
	/** Per request, seconds. */
	timeoutS?: number;
	signal?: AbortSignal;
}

export interface LoadResult {
	durationS: number;
	/**
	 * From the first request until the answer to the last one in flight when the window closed:
	 * the time the load's executions took to be started (those late answers started executions too).
	 */
	elapsedS: number;
	/** 2xx answers within the window, per second of the window. */
	requestsPerSecond: number;
	/** Every answer, including those to requests in flight when the window closed. */
	answered: number;
	accepted: number;
	non2xx: number;
	/** Socket errors and timeouts (autocannon counts timeouts as errors). */
	socketErrors: number;
	timeouts: number;
	/** Requests sent but never answered (only when the end had to be forced). */
	unanswered: number;
	latencyP50Ms: number;
	latencyP99Ms: number;
	statusCodes: Record<string, number>;
}

/** How long in-flight requests may take to finish after the window before the run is cut. */
const FINISH_GRACE_MS = 30_000;

/** autocannon's request list: each request is the next delivery, its body and its headers. */
function signedRequests(next: () => Delivery): autocannon.Request[] {
	return [
		{
			setupRequest: (request) => {
				const delivery = next();
				return {
					...request,
					body: delivery.body,
					headers: { ...request.headers, ...delivery.headers },
				};
			},
		},
	];
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
	const clients: autocannon.Client[] = [];
	let windowOpen = true;
	let acceptedInWindow = 0;
	const instance = autocannon({
		url: options.url,
		connections: options.connections,
		pipelining: 1,
		// autocannon's own end would drop the requests in flight; the window below ends the run.
		duration: options.durationS + FINISH_GRACE_MS / 1000 + 30,
		timeout: options.timeoutS ?? 10,
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		setupClient: (client) => clients.push(client),
		requests: signedRequests(options.next),
	});
	const started = Date.now();
	instance.on('response', (_client: unknown, statusCode: number) => {
		if (windowOpen && statusCode >= 200 && statusCode < 300) acceptedInWindow++;
	});
	let forceStop: NodeJS.Timeout | undefined;
	const stop = () => instance.stop();
	options.signal?.addEventListener('abort', stop, { once: true });
	const closeWindow = setTimeout(() => {
		windowOpen = false;
		// Each connection ends after the answer to the request it has in flight.
		for (const client of clients) client.responseMax = Math.max(1, client.reqsMade);
		forceStop = setTimeout(stop, FINISH_GRACE_MS);
	}, options.durationS * 1000);
	try {
		const result = await instance;
		const windowS = Math.min(options.durationS, (Date.now() - started) / 1000);
		const answered = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
		const sent = clients.reduce((sum, client) => sum + client.reqsMade, 0);
		const statusCodes: Record<string, number> = {};
		for (const [code, { count }] of Object.entries(result.statusCodeStats)) {
			statusCodes[code] = count;
		}
		return {
			durationS: windowS,
			elapsedS: (Date.now() - started) / 1000,
			requestsPerSecond: acceptedInWindow / windowS,
			answered,
			accepted: result['2xx'],
			non2xx: result.non2xx,
			socketErrors: result.errors,
			timeouts: result.timeouts,
			unanswered: Math.max(0, sent - answered - result.errors),
			latencyP50Ms: result.latency.p50,
			latencyP99Ms: result.latency.p99,
			statusCodes,
		};
	} finally {
		clearTimeout(closeWindow);
		if (forceStop) clearTimeout(forceStop);
		options.signal?.removeEventListener('abort', stop);
	}
}

export interface CountOptions {
	url: string;
	connections: number;
	/** Requests in all (at least one per connection). */
	count: number;
	next: () => Delivery;
	/** Per request, seconds. */
	timeoutS?: number;
	signal?: AbortSignal;
}

export interface CountResult {
	/** Answers by status code. */
	statusCodes: Record<string, number>;
	/** Socket errors and timeouts (autocannon counts timeouts as errors). */
	socketErrors: number;
	elapsedS: number;
}

/** Exactly `count` requests over `connections` connections, each built by `next()`. */
export async function sendRequests(options: CountOptions): Promise<CountResult> {
	const instance = autocannon({
		url: options.url,
		connections: options.connections,
		pipelining: 1,
		amount: options.count,
		timeout: options.timeoutS ?? 10,
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		requests: signedRequests(options.next),
	});
	const started = Date.now();
	const stop = () => instance.stop();
	options.signal?.addEventListener('abort', stop, { once: true });
	try {
		const result = await instance;
		const statusCodes: Record<string, number> = {};
		for (const [code, { count }] of Object.entries(result.statusCodeStats)) {
			statusCodes[code] = count;
		}
		return { statusCodes, socketErrors: result.errors, elapsedS: (Date.now() - started) / 1000 };
	} finally {
		options.signal?.removeEventListener('abort', stop);
	}
}
