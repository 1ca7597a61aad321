// An HTTPS proxy on loopback that answers for the public npm registry from a local one, so that n8n
// installs community packages from its *default* registry setting, as most admins run it.
//
// Why not N8N_COMMUNITY_PACKAGES_REGISTRY: n8n 2.x refuses any registry other than
// https://registry.npmjs.org unless its licence has the custom-registry feature
// (CommunityPackagesService.getNpmRegistry throws FeatureNotLicensedError), and an unlicensed
// instance is what users of a community package have. n8n's own HTTP client and the npm it runs both
// honour HTTPS_PROXY, so the proxy sees every registry call; a CA made for the run is trusted through
// NODE_EXTRA_CA_CERTS and npm's cafile. Every other host is refused, so nothing leaves the machine
// (n8n's package-status check against its own API then falls back to "allowed", as it does offline).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const PUBLIC_REGISTRY_HOST = 'registry.npmjs.org';

export interface RegistryProxy {
	/** `http://127.0.0.1:<port>`, for HTTPS_PROXY. */
	url: string;
	/** PEM file of the CA that signed the proxy's certificate for the public registry's host. */
	caFile: string;
	/** What a process needs to reach the registry through the proxy (and everything else directly). */
	environment(): Record<string, string>;
	/** `METHOD path` of every request answered from the local registry, oldest first. */
	readonly registryRequests: string[];
	/** `host:port` of every CONNECT the proxy refused (hosts other than the registry). */
	readonly refusedHosts: string[];
	stop(): Promise<void>;
}

async function makeCertificates(
	folder: string,
): Promise<{ caFile: string; key: Buffer; cert: Buffer }> {
	const file = (name: string) => join(folder, name);
	const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
	await run('openssl', [
		'req',
		'-x509',
		...ec,
		'-keyout',
		file('ca.key'),
		'-out',
		file('ca.pem'),
		'-days',
		'7',
		'-subj',
		'/CN=n8n-nodes-truv local registry CA',
		'-addext',
		'basicConstraints=critical,CA:TRUE',
		'-addext',
		'keyUsage=critical,keyCertSign,cRLSign',
	]);
	await run('openssl', [
		'req',
		...ec,
		'-keyout',
		file('registry.key'),
		'-out',
		file('registry.csr'),
		'-subj',
		`/CN=${PUBLIC_REGISTRY_HOST}`,
	]);
	await writeFile(
		file('registry.ext'),
		`subjectAltName=DNS:${PUBLIC_REGISTRY_HOST}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
	);
	await run('openssl', [
		'x509',
		'-req',
		'-in',
		file('registry.csr'),
		'-CA',
		file('ca.pem'),
		'-CAkey',
		file('ca.key'),
		'-CAcreateserial',
		'-out',
		file('registry.pem'),
		'-days',
		'7',
		'-extfile',
		file('registry.ext'),
	]);
	return {
		caFile: file('ca.pem'),
		key: await readFile(file('registry.key')),
		cert: await readFile(file('registry.pem')),
	};
}

async function listen(server: Server): Promise<number> {
	return await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			if (address === null || typeof address === 'string') reject(new Error('no TCP address'));
			else resolve(address.port);
		});
	});
}

/** Starts the proxy in front of `registryUrl` (the local registry, e.g. `http://127.0.0.1:4873/`). */
export async function startRegistryProxy(registryUrl: string): Promise<RegistryProxy> {
	const folder = await mkdtemp(join(tmpdir(), 'n8n-registry-proxy-'));
	const { caFile, key, cert } = await makeCertificates(folder);
	const target = new URL(registryUrl);
	const registryRequests: string[] = [];
	const refusedHosts: string[] = [];
	const sockets = new Set<Socket>();

	// Requests arrive decrypted, as for registry.npmjs.org; the Host header is kept so that the
	// local registry writes tarball URLs on the public host, which come back through the proxy.
	const registryFacade = createHttpsServer({ key, cert }, (incoming, outgoing) => {
		registryRequests.push(`${incoming.method} ${incoming.url}`);
		const forwarded = httpRequest(
			{
				host: target.hostname,
				port: target.port,
				method: incoming.method,
				path: incoming.url,
				headers: { ...incoming.headers, 'x-forwarded-proto': 'https' },
				agent: false,
			},
			(answer) => {
				outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
				answer.pipe(outgoing);
			},
		);
		forwarded.on('error', (error) => {
			outgoing.writeHead(502, { 'content-type': 'text/plain' });
			outgoing.end(`local registry unreachable: ${error.message}`);
		});
		incoming.pipe(forwarded);
	});

	const proxy = createHttpServer((_incoming, outgoing) => {
		outgoing.writeHead(403, { 'content-type': 'text/plain' });
		outgoing.end('This proxy only tunnels to the npm registry.');
	});
	proxy.on('connection', (socket: Socket) => {
		sockets.add(socket);
		socket.once('close', () => sockets.delete(socket));
	});
	proxy.on('connect', (incoming, socket: Socket, head: Buffer) => {
		const [host, port = '443'] = (incoming.url ?? '').split(':');
		if (host !== PUBLIC_REGISTRY_HOST || port !== '443') {
			refusedHosts.push(`${host}:${port}`);
			socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
			return;
		}
		socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
		if (head.length > 0) socket.unshift(head);
		registryFacade.emit('connection', socket);
	});

	const port = await listen(proxy);
	const url = `http://127.0.0.1:${port}`;
	return {
		url,
		caFile,
		registryRequests,
		refusedHosts,
		environment: () => ({
			HTTPS_PROXY: url,
			https_proxy: url,
			NO_PROXY: '127.0.0.1,localhost,::1',
			no_proxy: '127.0.0.1,localhost,::1',
			NODE_EXTRA_CA_CERTS: caFile,
			npm_config_cafile: caFile,
			npm_config_registry: `https://${PUBLIC_REGISTRY_HOST}/`,
		}),
		async stop() {
			for (const socket of sockets) socket.destroy();
			await new Promise<void>((resolve) => proxy.close(() => resolve()));
			registryFacade.close();
			await rm(folder, { recursive: true, force: true });
		},
	};
}
