// An HTTPS proxy on loopback that answers for the public npm registry from a local one, so that n8n
// installs community packages from its *default* registry setting, as most admins run it; and, when
// asked, for other fixed HTTPS hosts that n8n's own nodes call (the Slack node always posts to
// https://slack.com/api/…), each from a local HTTP server such as an HTTP sink.
//
// Why not N8N_COMMUNITY_PACKAGES_REGISTRY: n8n refuses any registry other than
// https://registry.npmjs.org unless its licence has the custom-registry feature, and an unlicensed
// instance is what users of a community package have. In each pinned runtime (2.41.1, 2.8.4,
// 1.123.81): n8n/dist/modules/community-packages/community-packages.service.js,
// CommunityPackagesService.getNpmRegistry(), throws FeatureNotLicensedError for
// 'feat:communityNodes:customRegistry' ("Your license does not allow for …") when the configured
// registry is not the string 'https://registry.npmjs.org' (with a trailing slash it already is not)
// and license.isCustomNpmRegistryEnabled() is false. Installing and updating call it before npm
// runs (2.41.1 and 1.123.81 in runRegistryChecks, 2.8.4 in installOrUpdatePackage). The setting is
// CommunityPackagesConfig.registry (community-packages.config.js), read from the variable when n8n
// starts; test/e2e/harness.e2e.test.ts shows the refusal on 2.41.1.
//
// n8n's own HTTP client and the npm it runs both honour HTTPS_PROXY, so the proxy sees every call
// to an HTTPS host; a CA made for the run signs one certificate naming every intercepted host and
// is trusted through NODE_EXTRA_CA_CERTS and npm's cafile. Every other host is refused, so nothing
// leaves the machine (n8n's package-status check against its own API then falls back to "allowed",
// as it does offline).
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

/**
 * Host name (port 443) → base URL of the local HTTP server that answers for it, e.g.
 * `{ 'slack.com': 'http://127.0.0.1:41234' }`. A path in the base URL is put before each
 * request's path, so one server can answer for several hosts under prefixes of its own.
 */
export type InterceptedHosts = Record<string, string>;

export interface RegistryProxy {
	/** `http://127.0.0.1:<port>`, for HTTPS_PROXY. */
	url: string;
	/** PEM file of the CA that signed the proxy's certificate for the intercepted hosts. */
	caFile: string;
	/** What a process needs to reach the intercepted hosts through the proxy (the rest directly). */
	environment(): Record<string, string>;
	/** `METHOD path` of every request answered from the local registry, oldest first. */
	readonly registryRequests: string[];
	/** `METHOD path` of every request answered for `host`, oldest first ([] for other hosts). */
	requestsTo(host: string): string[];
	/** `host:port` of every CONNECT the proxy refused (hosts it does not intercept). */
	readonly refusedHosts: string[];
	stop(): Promise<void>;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** Lower-cased host names with their parsed targets; refuses what the proxy could not serve. */
function parseTargets(hosts: InterceptedHosts): Map<string, URL> {
	const targets = new Map<string, URL>();
	for (const [name, base] of Object.entries(hosts)) {
		const host = name.toLowerCase();
		if (!HOST_NAME.test(host)) throw new Error(`not a host name to intercept: ${name}`);
		if (targets.has(host)) throw new Error(`${host} is intercepted twice`);
		const target = new URL(base);
		// The proxy terminates TLS and forwards in plain HTTP, to a server on this machine.
		if (target.protocol !== 'http:') throw new Error(`${host} must map to an http:// URL: ${base}`);
		targets.set(host, target);
	}
	return targets;
}

/** A CA and one certificate it signed with every host in `hosts` as a subject alternative name. */
async function makeCertificates(
	folder: string,
	hosts: string[],
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
		file('hosts.key'),
		'-out',
		file('hosts.csr'),
		'-subj',
		`/CN=${hosts[0]}`,
	]);
	const names = hosts.map((host) => `DNS:${host}`).join(',');
	await writeFile(
		file('hosts.ext'),
		`subjectAltName=${names}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
	);
	await run('openssl', [
		'x509',
		'-req',
		'-in',
		file('hosts.csr'),
		'-CA',
		file('ca.pem'),
		'-CAkey',
		file('ca.key'),
		'-CAcreateserial',
		'-out',
		file('hosts.pem'),
		'-days',
		'7',
		'-extfile',
		file('hosts.ext'),
	]);
	return {
		caFile: file('ca.pem'),
		key: await readFile(file('hosts.key')),
		cert: await readFile(file('hosts.pem')),
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

/**
 * Starts the proxy in front of `registryUrl` (the local registry, e.g. `http://127.0.0.1:4873/`),
 * also answering for each of `interceptedHosts`.
 */
export async function startRegistryProxy(
	registryUrl: string,
	interceptedHosts: InterceptedHosts = {},
): Promise<RegistryProxy> {
	if (Object.keys(interceptedHosts).some((host) => host.toLowerCase() === PUBLIC_REGISTRY_HOST)) {
		throw new Error(`${PUBLIC_REGISTRY_HOST} is always answered from the local registry`);
	}
	const targets = parseTargets({ [PUBLIC_REGISTRY_HOST]: registryUrl, ...interceptedHosts });
	const folder = await mkdtemp(join(tmpdir(), 'n8n-registry-proxy-'));
	const { caFile, key, cert } = await makeCertificates(folder, [...targets.keys()]);
	const requests = new Map<string, string[]>([...targets.keys()].map((host) => [host, []]));
	const refusedHosts: string[] = [];
	const sockets = new Set<Socket>();

	// One TLS facade per host, all with the same certificate: a tunnel is handed to the facade of
	// the host it was opened for, so the CONNECT target (not a Host header) decides where it goes.
	// Requests arrive decrypted; the Host header is kept so that the local registry writes tarball
	// URLs on the public host, which come back through the proxy.
	const facades = new Map(
		[...targets].map(([host, target]) => {
			const basePath = target.pathname.replace(/\/+$/, '');
			const facade = createHttpsServer({ key, cert }, (incoming, outgoing) => {
				requests.get(host)!.push(`${incoming.method} ${incoming.url}`);
				const forwarded = httpRequest(
					{
						host: target.hostname,
						port: target.port,
						method: incoming.method,
						path: `${basePath}${incoming.url ?? '/'}`,
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
					outgoing.end(`local server for ${host} unreachable: ${error.message}`);
				});
				incoming.pipe(forwarded);
			});
			return [host, facade] as const;
		}),
	);

	const proxy = createHttpServer((_incoming, outgoing) => {
		outgoing.writeHead(403, { 'content-type': 'text/plain' });
		outgoing.end('This proxy only tunnels to the hosts it answers for.');
	});
	proxy.on('connection', (socket: Socket) => {
		sockets.add(socket);
		socket.once('close', () => sockets.delete(socket));
	});
	proxy.on('connect', (incoming, socket: Socket, head: Buffer) => {
		const [host = '', port = '443'] = (incoming.url ?? '').toLowerCase().split(':');
		const facade = port === '443' ? facades.get(host) : undefined;
		if (facade === undefined) {
			refusedHosts.push(`${host}:${port}`);
			socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
			return;
		}
		// A client hanging up mid-tunnel must not take the test process down with it.
		socket.on('error', () => socket.destroy());
		socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
		if (head.length > 0) socket.unshift(head);
		facade.emit('connection', socket);
	});

	const port = await listen(proxy);
	const url = `http://127.0.0.1:${port}`;
	return {
		url,
		caFile,
		registryRequests: requests.get(PUBLIC_REGISTRY_HOST)!,
		requestsTo: (host) => requests.get(host.toLowerCase()) ?? [],
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
			for (const facade of facades.values()) facade.close();
			await rm(folder, { recursive: true, force: true });
		},
	};
}
