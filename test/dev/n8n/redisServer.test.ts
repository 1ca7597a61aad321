import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';

import { redisUnavailableReason, startRedis, type RedisServer } from '../../../dev/n8n/redisServer';
import { waitFor } from '../../../dev/n8n/wait';

/** Resolves with the error code of a refused connection, or 'connected'. */
async function tryConnect(port: number): Promise<string> {
	return await new Promise((resolve) => {
		const socket = connect(port, '127.0.0.1');
		socket.once('connect', () => {
			socket.destroy();
			resolve('connected');
		});
		socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
	});
}

/** Whether the process exists and is not a zombie. */
function isRunning(pid: number): boolean {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
	} catch {
		return false;
	}
}

// Without Debian's redis-server the suite would only fail on the missing binary; npm test installs
// it first (scripts/ensure-system-packages.sh), so this skips only in a bare developer checkout.
const describeWithRedis = redisUnavailableReason() === undefined ? describe : describe.skip;

describeWithRedis('startRedis', () => {
	let redis: RedisServer;

	beforeAll(async () => {
		redis = await startRedis();
	}, 60_000);

	afterAll(async () => {
		await redis?.stop();
	}, 60_000);

	test('serves on its own loopback port and tells n8n where it is', async () => {
		expect(redis.host).toBe('127.0.0.1');
		expect(await redis.command('PING')).toBe('+PONG\r\n');
		expect(await redis.command('SET harness-key 42')).toBe('+OK\r\n');
		expect(await redis.command('GET harness-key')).toBe('$2\r\n42\r\n');
		expect(await redis.command('CONFIG GET bind')).toBe('*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n');
		expect(redis.n8nEnvironment()).toEqual({
			QUEUE_BULL_REDIS_HOST: '127.0.0.1',
			QUEUE_BULL_REDIS_PORT: String(redis.port),
		});
	});

	test('persists nothing: no snapshots, no append-only file, nothing written to its folder', async () => {
		expect(await redis.command('CONFIG GET save')).toBe('*2\r\n$4\r\nsave\r\n$0\r\n\r\n');
		expect(await redis.command('CONFIG GET appendonly')).toBe(
			'*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n',
		);
		expect(readdirSync(redis.folder)).toEqual(['redis.log']);
	});

	test('a failing command rejects with what Redis said', async () => {
		await expect(redis.command('NO-SUCH-COMMAND')).rejects.toThrow(/redis answered -ERR/);
	});

	test('stop() ends the server by its pid and removes its folder', async () => {
		const { pid, port, folder } = redis;
		expect(isRunning(pid)).toBe(true);
		await redis.stop();
		await redis.stop();
		expect(isRunning(pid)).toBe(false);
		expect(existsSync(folder)).toBe(false);
		await waitFor(async () => ((await tryConnect(port)) === 'ECONNREFUSED' ? true : undefined), {
			timeoutMs: 10_000,
			description: `port ${port} to refuse connections`,
		});
	});
});
