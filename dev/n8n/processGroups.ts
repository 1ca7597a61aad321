// Child processes the harness starts in their own process group (n8n, the npm registry), so that
// one signal reaches a process and everything it forked, and none outlives the test run.
import { waitFor } from './wait';

/** Process groups this process started and has not yet seen exit. */
const liveProcessGroups = new Set<number>();
let exitHookInstalled = false;

/** Signals the group; false when it no longer exists. Signal 0 only checks that it exists. */
export function killProcessGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
	try {
		process.kill(-pgid, signal);
		return true;
	} catch {
		return false;
	}
}

export function processGroupExists(pgid: number): boolean {
	return killProcessGroup(pgid, 0);
}

/**
 * A test that fails or is interrupted must not leave its servers running: kill whatever is left
 * when this process exits.
 */
function installExitHook(): void {
	if (exitHookInstalled) return;
	exitHookInstalled = true;
	const killAll = () => {
		for (const pgid of liveProcessGroups) killProcessGroup(pgid, 'SIGKILL');
		liveProcessGroups.clear();
	};
	process.on('exit', killAll);
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
		process.once(signal, () => {
			// Another listener (e.g. the dev server's graceful stop) owns this signal.
			if (process.listenerCount(signal) > 0) return;
			killAll();
			process.kill(process.pid, signal);
		});
	}
}

/** Kills the group (SIGKILL) when this process exits, unless it was stopped before. */
export function trackProcessGroup(pgid: number): void {
	installExitHook();
	liveProcessGroups.add(pgid);
}

export function untrackProcessGroup(pgid: number): void {
	liveProcessGroups.delete(pgid);
}

/**
 * Sends `signal` to the group whose leader is `pgid`, SIGKILLs it after `graceMs`, and resolves
 * once the leader has exited (`exited`) and no process of the group is left: a forked child may
 * outlive its parent by a moment, and after that it is killed.
 */
export async function terminateProcessGroup(
	pgid: number,
	exited: Promise<void>,
	{ signal = 'SIGTERM', graceMs = 5_000 }: { signal?: NodeJS.Signals; graceMs?: number } = {},
): Promise<void> {
	killProcessGroup(pgid, signal);
	const escalation = setTimeout(() => killProcessGroup(pgid, 'SIGKILL'), graceMs);
	await exited;
	clearTimeout(escalation);
	const stragglerDeadline = Date.now() + Math.min(graceMs, 5_000);
	await waitFor(
		() => {
			if (!processGroupExists(pgid)) return true;
			if (Date.now() > stragglerDeadline) killProcessGroup(pgid, 'SIGKILL');
			return undefined;
		},
		{ timeoutMs: 30_000, intervalMs: 100, description: `process group ${pgid} to exit` },
	);
	untrackProcessGroup(pgid);
}
