// The part of autocannon 8's library API that bench/n8nBench.ts uses (the package has no types).
declare module 'autocannon' {
	import type { EventEmitter } from 'events';

	namespace autocannon {
		interface Request {
			method?: string;
			path?: string;
			headers?: Record<string, string>;
			body?: string | Buffer;
			/** Called before each request; returns the request to send. */
			setupRequest?: (request: Request, context: Record<string, unknown>) => Request;
		}

		/** One connection (autocannon's internal Client); the fields the bench reads or sets. */
		interface Client extends EventEmitter {
			/** Requests written so far on this connection. */
			reqsMade: number;
			/** The connection ends once reqsMade reaches it (checked after each response). */
			responseMax?: number;
			destroyed: boolean;
		}

		interface Options {
			url: string;
			connections?: number;
			pipelining?: number;
			/** Seconds. */
			duration?: number;
			/** Requests in all, spread over the connections; when set, duration is ignored. */
			amount?: number;
			/** Seconds. */
			timeout?: number;
			method?: string;
			headers?: Record<string, string>;
			body?: string | Buffer;
			requests?: Request[];
			setupClient?: (client: Client) => void;
		}

		interface Histogram {
			average: number;
			mean: number;
			stddev: number;
			min: number;
			max: number;
			p50: number;
			p90: number;
			p99: number;
			[percentile: string]: number;
		}

		interface Result {
			latency: Histogram;
			requests: Histogram;
			errors: number;
			timeouts: number;
			mismatches: number;
			non2xx: number;
			resets: number;
			'1xx': number;
			'2xx': number;
			'3xx': number;
			'4xx': number;
			'5xx': number;
			statusCodeStats: Record<string, { count: number }>;
			duration: number;
			start: Date;
			finish: Date;
		}

		interface Instance extends EventEmitter, PromiseLike<Result> {
			stop(): void;
			catch(onRejected: (error: Error) => unknown): Promise<unknown>;
		}
	}

	function autocannon(options: autocannon.Options): autocannon.Instance;
	export = autocannon;
}
