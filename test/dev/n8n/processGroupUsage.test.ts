import { spawn, type ChildProcess } from 'child_process';

import {
	otherN8nProcesses,
	processGroupCpuSeconds,
	ProcessGroupMonitor,
} from '../../../dev/n8n/processGroupUsage';

// Burns `seconds` of this process's own CPU time, not wall time (other tests share the cores)
// (user + system: reading the clock is a system call, so a loop that reads it spends both).
const burn = (seconds: number) =>
	`{ const spent = () => { const { user, system } = process.cpuUsage(); return user + system; }; const start = spent(); while (spent() - start < ${seconds * 1e6}); }`;

// A group leader that runs a child in its group which burns 0.3 s and exits (and is waited for),
// burns 0.3 s itself, says so, and idles until it is killed.
const LEADER = `
const { spawnSync } = require('child_process');
spawnSync(process.execPath, ['-e', ${JSON.stringify(burn(0.3))}], { stdio: 'ignore' });
${burn(0.3)}
process.stdout.write('burnt\\n');
setInterval(() => {}, 1000);
`;

const started: ChildProcess[] = [];

/** Starts `script` as the leader of a process group of its own, as the harness starts n8n. */
function startGroup(script: string, ...args: string[]): ChildProcess {
	const child = spawn(process.execPath, ['-e', script, ...args], {
		detached: true,
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	started.push(child);
	return child;
}

async function printed(child: ChildProcess, text: string): Promise<void> {
	let output = '';
	await new Promise<void>((resolve, reject) => {
		child.stdout!.on('data', (chunk: Buffer) => {
			output += chunk.toString();
			if (output.includes(text)) resolve();
		});
		child.once('exit', (code) => reject(new Error(`exited (${code}) before printing ${text}`)));
	});
}

afterEach(() => {
	for (const child of started.splice(0)) {
		const running = child.exitCode === null && child.signalCode === null;
		if (running && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
	}
});

test('the CPU time of a group counts its processes and the children they waited for, not others', async () => {
	const leader = startGroup(LEADER);
	await printed(leader, 'burnt');
	const pgid = leader.pid!;
	const cpuSeconds = processGroupCpuSeconds(pgid);
	// 0.6 s burnt, plus two Node.js start-ups; without the exited child's time it would be ~0.4 s.
	expect(cpuSeconds).toBeGreaterThanOrEqual(0.58);
	// This test's own process (the jest worker, far busier) is not in the group.
	expect(cpuSeconds).toBeLessThan(0.58 + 1);

	const monitor = new ProcessGroupMonitor(pgid);
	const sample = monitor.sample();
	expect(sample.processes).toBe(1);
	expect(sample.cpuSeconds).toBeCloseTo(cpuSeconds, 1);
	expect(sample.rssBytes).toBeGreaterThan(10 * 2 ** 20);
	expect(monitor.peakRssBytes).toBe(sample.rssBytes);

	process.kill(-pgid, 'SIGKILL');
	await new Promise((resolve) => leader.once('exit', resolve));
	expect(processGroupCpuSeconds(pgid)).toBe(0);
});

test('other n8n processes are those running n8n/bin/n8n outside the given groups', async () => {
	// Any process whose command line names n8n's entry point counts as an n8n.
	const fakeN8n = startGroup(
		"process.stdout.write('up\\n'); setInterval(() => {}, 1000);",
		'/opt/n8n/bin/n8n',
	);
	await printed(fakeN8n, 'up');
	const pgid = fakeN8n.pid!;
	expect(otherN8nProcesses([])).toContain(pgid);
	expect(otherN8nProcesses([pgid])).not.toContain(pgid);
});
