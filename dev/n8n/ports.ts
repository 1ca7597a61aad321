import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. The operating system picks it, so parallel
 * callers do not collide the way guessed or incremented ports do.
 */
export async function getFreePort(): Promise<number> {
	return await new Promise((resolve, reject) => {
		const server = createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			if (address === null || typeof address === 'string') {
				server.close();
				reject(new Error('no TCP address'));
				return;
			}
			server.close(() => resolve(address.port));
		});
	});
}

/** Several distinct free ports (asking one at a time could hand out the same port twice). */
export async function getFreePorts(count: number): Promise<number[]> {
	const servers = await Promise.all(
		Array.from(
			{ length: count },
			async () =>
				await new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
					const server = createServer();
					server.unref();
					server.on('error', reject);
					server.listen(0, '127.0.0.1', () => resolve(server));
				}),
		),
	);
	const ports = servers.map((server) => {
		const address = server.address();
		if (address === null || typeof address === 'string') throw new Error('no TCP address');
		return address.port;
	});
	await Promise.all(
		servers.map(
			async (server) => await new Promise<void>((resolve) => server.close(() => resolve())),
		),
	);
	return ports;
}
