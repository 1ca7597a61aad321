import { createServer, type AddressInfo, type Socket } from 'node:net';

export interface SilentServer {
	/** `http://127.0.0.1:<port>` */
	url: string;
	close(): Promise<void>;
}

/**
 * A TCP server that accepts connections and never answers: a Truv behind a firewall that drops
 * what it does not let through, where every request waits for its client's timeout.
 */
export async function startSilentServer(): Promise<SilentServer> {
	const sockets = new Set<Socket>();
	const server = createServer((socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		close: async () => {
			for (const socket of sockets) socket.destroy();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
