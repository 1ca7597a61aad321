// Resident memory and CPU time of a whole process group (n8n, its task runner and anything else it
// spawned), read from /proc: Linux only, like the machines the benchmark and the e2e tests run on.
// CPU time is what the group's processes ran (utime + stime, with that of the children they waited
// for), whatever else runs on the machine: the measure to compare two kinds of request in one n8n
// while other tests load the same cores.
import { execFileSync } from 'child_process';
import { readdirSync, readFileSync } from 'fs';

function getconf(name: string, fallback: number): number {
	try {
		const value = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
		return Number.isFinite(value) && value > 0 ? value : fallback;
	} catch {
		return fallback;
	}
}

const PAGE_SIZE = getconf('PAGESIZE', 4096);
const CLOCK_TICKS = getconf('CLK_TCK', 100);

interface ProcessStat {
	pgrp: number;
	/**
	 * utime + stime, plus cutime + cstime: the time of children it has waited for, which would
	 * otherwise vanish from the group's sum when a child (a restarted task runner, say) exits.
	 */
	cpuTicks: number;
	rssBytes: number;
}

function readStat(pid: string): ProcessStat | undefined {
	let text: string;
	try {
		text = readFileSync(`/proc/${pid}/stat`, 'utf8');
	} catch {
		return undefined;
	}
	// The command name is in parentheses and may contain spaces; the fields follow the last ')'.
	const close = text.lastIndexOf(')');
	const fields = text.slice(close + 2).split(' ');
	return {
		pgrp: Number(fields[2]),
		cpuTicks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
		rssBytes: Number(fields[21]) * PAGE_SIZE,
	};
}

function numericEntries(): string[] {
	return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
}

export interface GroupSample {
	rssBytes: number;
	/** CPU seconds used so far by the processes alive now (and the children they waited for). */
	cpuSeconds: number;
	processes: number;
}

/**
 * Samples every `intervalMs` and keeps the peak of the RSS it saw; what one sample reads is the
 * subclass's.
 */
abstract class PeakRssSampler {
	private timer: NodeJS.Timeout | undefined;
	private peak = 0;

	constructor(private readonly intervalMs: number) {}

	protected abstract read(): GroupSample;

	start(): void {
		this.sample();
		this.timer = setInterval(() => this.sample(), this.intervalMs);
		this.timer.unref();
	}

	stop(): void {
		if (this.timer) clearInterval(this.timer);
		this.timer = undefined;
	}

	/** Forgets the peak so far (the next sample starts a new one). */
	resetPeak(): void {
		this.peak = 0;
		this.sample();
	}

	get peakRssBytes(): number {
		return this.peak;
	}

	sample(): GroupSample {
		const sample = this.read();
		this.peak = Math.max(this.peak, sample.rssBytes);
		return sample;
	}
}

/**
 * Samples a process group every `intervalMs`: the members are looked up again every second (the
 * task runner may restart), their RSS summed, and the peak of that sum kept.
 */
export class ProcessGroupMonitor extends PeakRssSampler {
	private members: string[] = [];
	private membersAt = 0;

	constructor(
		private readonly pgid: number,
		intervalMs = 250,
	) {
		super(intervalMs);
	}

	protected read(): GroupSample {
		if (Date.now() - this.membersAt > 1_000) {
			this.members = numericEntries().filter((pid) => readStat(pid)?.pgrp === this.pgid);
			this.membersAt = Date.now();
		}
		let rssBytes = 0;
		let cpuTicks = 0;
		let processes = 0;
		for (const pid of this.members) {
			const stat = readStat(pid);
			if (stat?.pgrp !== this.pgid) continue;
			rssBytes += stat.rssBytes;
			cpuTicks += stat.cpuTicks;
			processes++;
		}
		return { rssBytes, cpuSeconds: cpuTicks / CLOCK_TICKS, processes };
	}
}

/**
 * The CPU time and RSS of several process groups summed, as one n8n: a queue-mode cluster's main,
 * webhook processes and workers each run in a group of their own. The groups are asked for at every
 * sample, so a worker stopped or started between two measurements counts from then on; during one
 * the set must not change, since a group that leaves takes its CPU time out of the sum.
 */
export class ProcessGroupsMonitor extends PeakRssSampler {
	private readonly monitors = new Map<number, ProcessGroupMonitor>();

	constructor(
		private readonly groups: () => number[],
		intervalMs = 250,
	) {
		super(intervalMs);
	}

	protected read(): GroupSample {
		const groups = this.groups();
		for (const pgid of this.monitors.keys()) {
			if (!groups.includes(pgid)) this.monitors.delete(pgid);
		}
		const total: GroupSample = { rssBytes: 0, cpuSeconds: 0, processes: 0 };
		for (const pgid of groups) {
			let monitor = this.monitors.get(pgid);
			if (!monitor) {
				monitor = new ProcessGroupMonitor(pgid);
				this.monitors.set(pgid, monitor);
			}
			const sample = monitor.sample();
			total.rssBytes += sample.rssBytes;
			total.cpuSeconds += sample.cpuSeconds;
			total.processes += sample.processes;
		}
		return total;
	}
}

/**
 * CPU seconds used so far by the process group `pgid` (its members looked up now): sample it before
 * and after some requests and subtract. 0 when the group has no process left.
 */
export function processGroupCpuSeconds(pgid: number): number {
	let cpuTicks = 0;
	for (const pid of numericEntries()) {
		const stat = readStat(pid);
		if (stat?.pgrp === pgid) cpuTicks += stat.cpuTicks;
	}
	return cpuTicks / CLOCK_TICKS;
}

/** Process ids of running n8n main processes (`…/n8n/bin/n8n`) outside the given groups. */
export function otherN8nProcesses(ownGroups: number[]): number[] {
	const found: number[] = [];
	for (const pid of numericEntries()) {
		let commandLine: string;
		try {
			commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
		} catch {
			continue;
		}
		if (!commandLine.includes('n8n/bin/n8n')) continue;
		const stat = readStat(pid);
		if (stat && !ownGroups.includes(stat.pgrp)) found.push(Number(pid));
	}
	return found;
}
