/** Truv's limit (truv-api.md): 300 requests a minute per Access Secret, across every endpoint. */
export const TRUV_REQUESTS_PER_WINDOW = 300;
export const TRUV_RATE_WINDOW_MS = 60_000;

export interface RateLimitSetting {
	/** Requests one secret may make per window. */
	requests: number;
	/** The window's length; a minute, as Truv counts, unless a test shortens it. */
	windowMs: number;
}

/**
 * A sliding window per Access Secret, as Django REST framework's throttles keep it: a request
 * over the limit is refused and not counted, and the caller is told when a slot frees.
 */
export class RateLimiter {
	private setting: RateLimitSetting;
	private readonly history = new Map<string, number[]>();

	constructor(
		setting: Partial<RateLimitSetting> = {},
		private readonly now: () => number = () => Date.now(),
	) {
		this.setting = checkSetting(setting);
	}

	get current(): RateLimitSetting {
		return { ...this.setting };
	}

	/** A new limit starts with every secret's count at zero. */
	set(setting: Partial<RateLimitSetting>): RateLimitSetting {
		this.setting = checkSetting(setting);
		this.history.clear();
		return this.current;
	}

	/** Counts a request of `secret`; answers the seconds to wait when it is over the limit. */
	take(secret: string): number | undefined {
		const now = this.now();
		const recent = (this.history.get(secret) ?? []).filter(
			(time) => now - time < this.setting.windowMs,
		);
		this.history.set(secret, recent);
		if (recent.length < this.setting.requests) {
			recent.push(now);
			return undefined;
		}
		const freeInMs = recent[0] + this.setting.windowMs - now;
		return Math.max(1, Math.ceil(freeInMs / 1000));
	}
}

function checkSetting(setting: Partial<RateLimitSetting>): RateLimitSetting {
	const requests = setting.requests ?? TRUV_REQUESTS_PER_WINDOW;
	const windowMs = setting.windowMs ?? TRUV_RATE_WINDOW_MS;
	if (!(Number.isInteger(requests) && requests > 0)) {
		throw new Error('The rate limit needs a positive whole number of requests');
	}
	if (!(Number.isInteger(windowMs) && windowMs > 0)) {
		throw new Error('The rate limit window needs a positive whole number of milliseconds');
	}
	return { requests, windowMs };
}
