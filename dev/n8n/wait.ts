export interface WaitOptions {
	/** Generous by default: the machines are slow and a timeout only exists to end a hung run. */
	timeoutMs?: number;
	intervalMs?: number;
	/** Says what was awaited when the wait times out. */
	description?: string;
}

export const sleep = async (ms: number): Promise<void> =>
	await new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns something other than undefined and returns that. The last probe
 * error (or value) goes into the timeout message so a failed wait says why.
 */
export async function waitFor<T>(
	probe: () => Promise<T | undefined> | T | undefined,
	{ timeoutMs = 120_000, intervalMs = 250, description = 'condition' }: WaitOptions = {},
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let lastProblem = 'never checked';
	for (;;) {
		try {
			const value = await probe();
			if (value !== undefined) return value;
			lastProblem = 'not yet';
		} catch (error) {
			lastProblem = error instanceof Error ? error.message : String(error);
		}
		if (Date.now() >= deadline) {
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}: ${lastProblem}`);
		}
		await sleep(intervalMs);
	}
}
