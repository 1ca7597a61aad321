// A throwaway Redis for n8n's queue mode: Debian's redis-server on a free loopback port in a temp
// folder, without persistence (the queue only has to outlive the n8n processes of one test run),
// in its own process group and stopped by its pid.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { getFreePort } from './ports';
import { terminateProcessGroup, trackProcessGroup } from './processGroups';
import { waitFor } from './wait';

export interface RedisServer {
	/** '127.0.0.1' */
	host: string;
	port: number;
	/** The server's process id (also its process group id). */
	pid: number;
	/** Its temp folder (the working directory it would persist to, if it persisted). */
	folder: string;
	/** Sends one inline command (e.g. `PING`, `DBSIZE`) and returns Redis's raw RESP reply. */
	command(line: string): Promise<string>;
	/** The environment n8n's queue mode needs to use this server. */
	n8nEnvironment(): Record<string, string>;
	/** SIGTERM to its process group, then removes its folder. Safe to call more than once. */
	stop(): Promise<void>;
}

const host = '127.0.0.1';
const startAttempts = 3;

export function redisUnavailableReason(): string | undefined {
	const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
	if (found.status === 0) return undefined;
	return "no redis-server on PATH: install Debian's redis-server package (apt-get install -y redis-server)";
}

/**
 * One inline command over a fresh connection, followed by QUIT: Redis closes the connection after
 * answering both, so everything before QUIT's `+OK` is the command's whole reply (RESP, raw).
 */
async function redisCommand(port: number, line: string, timeoutMs = 5_000): Promise<string> {
	return await new Promise((resolve, reject) => {
		const socket = createConnection({ host, port });
		let received = '';
		socket.setTimeout(timeoutMs, () => {
			socket.destroy();
			reject(new Error(`redis on ${port}: no answer to ${line}`));
		});
		socket.on('error', reject);
		socket.on('connect', () => socket.write(`${line}\r\nQUIT\r\n`));
		socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
		socket.on('close', () => {
			if (!received.endsWith('+OK\r\n')) {
				reject(new Error(`redis on ${port} closed without answering ${line}: ${received}`));
				return;
			}
			const reply = received.slice(0, -'+OK\r\n'.length);
			if (reply.startsWith('-')) reject(new Error(`redis answered ${reply.trim()}`));
			else resolve(reply);
		});
	});
}

export async function startRedis(): Promise<RedisServer> {
	const reason = redisUnavailableReason();
	if (reason !== undefined) throw new Error(reason);
	const folder = await mkdtemp(join(tmpdir(), 'n8n-redis-'));
	const logFile = join(folder, 'redis.log');

	for (let attempt = 1; ; attempt++) {
		const port = await getFreePort();
		const log = openSync(logFile, 'a');
		// No RDB snapshots or AOF (`--save ''`, `--appendonly no`): nothing needs to survive it.
		const child = spawn(
			'redis-server',
			[
				'--port',
				String(port),
				'--bind',
				host,
				'--dir',
				folder,
				'--save',
				'',
				'--appendonly',
				'no',
				'--daemonize',
				'no',
				'--protected-mode',
				'yes',
			],
			{ cwd: folder, detached: true, stdio: ['ignore', log, log] },
		);
		closeSync(log);
		child.unref();
		const pid = child.pid;
		if (pid === undefined) throw new Error('could not spawn redis-server');
		trackProcessGroup(pid);
		const exited = new Promise<void>((resolve) => {
			child.once('exit', () => resolve());
			child.once('error', () => resolve());
		});
		let stillRunning = true;
		void exited.then(() => (stillRunning = false));
		try {
			await waitFor(
				async () => {
					if (!stillRunning) throw new Error('redis-server exited');
					return (await redisCommand(port, 'PING')) === '+PONG\r\n' ? true : undefined;
				},
				{ timeoutMs: 30_000, intervalMs: 100, description: `redis-server on ${host}:${port}` },
			);
		} catch (error) {
			await terminateProcessGroup(pid, exited, { signal: 'SIGKILL', graceMs: 0 });
			const log = await readFile(logFile, 'utf8').catch(() => '');
			// Another process can take the port between getFreePort and redis-server's bind.
			if (/address already in use/i.test(log) && attempt < startAttempts) continue;
			await rm(folder, { recursive: true, force: true });
			const message = error instanceof Error ? error.message : String(error);
			throw new Error(`Redis did not start: ${message}\n--- server log ---\n${log.slice(-3000)}`);
		}

		let stopping: Promise<void> | undefined;
		return {
			host,
			port,
			pid,
			folder,
			command: async (line) => await redisCommand(port, line),
			n8nEnvironment: () => ({
				QUEUE_BULL_REDIS_HOST: host,
				QUEUE_BULL_REDIS_PORT: String(port),
			}),
			stop: async () =>
				await (stopping ??= (async () => {
					await terminateProcessGroup(pid, exited, { signal: 'SIGTERM', graceMs: 10_000 });
					await rm(folder, { recursive: true, force: true });
				})()),
		};
	}
}
