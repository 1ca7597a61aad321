import type { Logger } from 'n8n-workflow';

/** How often, at most, one workflow's refusals for one reason reach n8n's log after the first. */
export const REFUSAL_LOG_INTERVAL_MS = 60_000;

/** Workflows and reasons tallied at once: past it the oldest tally is dropped (and logs again). */
const MAX_TALLIES = 1_000;

interface RefusalTally {
	/** When the last line for this workflow and reason was written. */
	loggedAt: number;
	/** Refusals since then that wrote no line of their own. */
	unlogged: number;
}

/**
 * Writes refused deliveries to n8n's log without letting a flood of forged requests flood it:
 * per workflow and reason, the first refusal is written at once, the next ones are counted, and
 * the first refusal after a minute is written with the count of those left out. The count waits
 * for that next refusal: a node has no timer of its own to write it sooner.
 */
export class RefusalLog {
	private readonly tallies = new Map<string, RefusalTally>();

	constructor(private readonly now: () => number = () => Date.now()) {}

	warn(
		logger: Pick<Logger, 'warn'>,
		refusal: { workflowId: string; reason: string; message: string },
	): void {
		const { workflowId, reason, message } = refusal;
		const key = `${workflowId}\n${reason}`;
		const now = this.now();
		const tally = this.tallies.get(key);
		if (tally && now - tally.loggedAt < REFUSAL_LOG_INTERVAL_MS) {
			tally.unlogged += 1;
			return;
		}
		const unlogged = tally?.unlogged ?? 0;
		const since = tally ? new Date(tally.loggedAt).toISOString() : undefined;
		// Re-inserted, so that the Map's order is the order of the last line written.
		this.tallies.delete(key);
		if (this.tallies.size >= MAX_TALLIES) {
			this.tallies.delete(this.tallies.keys().next().value as string);
		}
		this.tallies.set(key, { loggedAt: now, unlogged: 0 });
		logger.warn(
			unlogged > 0 ? `${message} (and ${unlogged} more like it since ${since})` : message,
			{ workflowId, outcome: reason, ...(unlogged > 0 ? { unlogged } : {}) },
		);
	}

	forget(): void {
		this.tallies.clear();
	}
}

/** The process's one log of refusals: every trigger's webhook calls share it. */
export const refusalLog = new RefusalLog();
