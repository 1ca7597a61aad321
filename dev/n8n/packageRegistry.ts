// Where n8n's Community Nodes installer finds packages in the harness: a local npm registry that
// stands in for registry.npmjs.org behind an HTTPS proxy (see registryProxy.ts for why), with the
// packages under test published to it. The same proxy can answer for other HTTPS hosts n8n's nodes
// call, from local servers: `interceptedHosts`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { readTarballPackageJson } from './communityPackage';
import { startNpmRegistry, type NpmRegistry } from './npmRegistry';
import { startRegistryProxy, type InterceptedHosts, type RegistryProxy } from './registryProxy';

export type { InterceptedHosts } from './registryProxy';

export interface PublishedPackage {
	name: string;
	version: string;
}

export interface PackageRegistryOptions {
	/**
	 * HTTPS hosts besides the registry that n8n reaches through the proxy, each answered by a
	 * local HTTP server: `{ 'slack.com': slackSink.url }` lands the Slack node's
	 * `POST https://slack.com/api/chat.postMessage` in that sink as `POST /api/chat.postMessage`.
	 * Hosts not named (nor the registry) stay refused. Pass the registry to startN8n's `registry`
	 * and stop it yourself after n8n.
	 */
	interceptedHosts?: InterceptedHosts;
}

export interface PackageRegistry {
	/**
	 * The local registry's own URL (`http://127.0.0.1:<port>/`), which n8n is not given: n8n reaches
	 * it as registry.npmjs.org through the proxy (see registryProxy.ts for why).
	 */
	localUrl: string;
	/** Publishes a packed package unless the registry already has that version. */
	publish(tarballPath: string): Promise<PublishedPackage>;
	/** What n8n needs to install from the registry as if from npmjs.org (and reach the hosts). */
	n8nEnvironment(): Record<string, string>;
	/** `METHOD path` of every request the registry answered through the proxy, oldest first. */
	readonly requests: string[];
	/** `METHOD path` of every request the proxy answered for an intercepted `host`, oldest first. */
	requestsTo(host: string): string[];
	/** `host:port` of every tunnel the proxy refused: hosts neither the registry nor intercepted. */
	readonly refusedHosts: string[];
	stop(): Promise<void>;
}

/** npm's name for each proxy variable npm itself reads; every `npm_config_<key>` is npm's too. */
const npmProxyKeys: Record<string, string> = {
	HTTPS_PROXY: 'https-proxy',
	https_proxy: 'https-proxy',
	NO_PROXY: 'noproxy',
	no_proxy: 'noproxy',
};

/**
 * The npm settings in an n8n environment, as the `.npmrc` of the folder n8n runs npm in (its
 * `.n8n/nodes`). n8n 1.123 runs `npm outdated` (on every Community Nodes page load) with only
 * PATH, NODE_PATH, APPDATA and NODE_ENV, so the proxy, CA, registry and cache in the environment
 * never reach it: it goes to registry.npmjs.org directly and stalls until that times out. npm
 * reads the project `.npmrc` of its working folder whatever the environment; where n8n does pass
 * the environment on (2.x), the same settings from it take precedence, so nothing changes there.
 */
export function npmProjectConfig(environment: Record<string, string | undefined>): string {
	const settings = new Map<string, string>();
	for (const [name, value] of Object.entries(environment)) {
		if (value === undefined || value === '') continue;
		const npmConfig = /^npm_config_(.+)$/i.exec(name)?.[1];
		// As npm maps npm_config_* variables to keys: `_` after the first character is `-`.
		const key = npmConfig ? npmConfig.replace(/(?!^)_/g, '-').toLowerCase() : npmProxyKeys[name];
		if (key) settings.set(key, value);
	}
	return [...settings].map(([key, value]) => `${key}=${value}\n`).join('');
}

export async function startPackageRegistry(
	options: PackageRegistryOptions = {},
): Promise<PackageRegistry> {
	const registry: NpmRegistry = await startNpmRegistry();
	let proxy: RegistryProxy;
	try {
		proxy = await startRegistryProxy(registry.url, options.interceptedHosts);
	} catch (error) {
		await registry.stop();
		throw error;
	}
	// n8n's npm gets a cache of its own: a user's cache could hold another build of the same
	// name@version (a packument cached for minutes names the old tarball's integrity).
	const npmCache = await mkdtemp(join(tmpdir(), 'n8n-npm-cache-'));
	return {
		localUrl: registry.url,
		async publish(tarballPath) {
			const { name, version } = await readTarballPackageJson(tarballPath);
			if (!(await registry.versions(name)).includes(version)) await registry.publish(tarballPath);
			return { name, version };
		},
		n8nEnvironment: () => ({ ...proxy.environment(), npm_config_cache: npmCache }),
		get requests() {
			return proxy.registryRequests;
		},
		requestsTo: (host) => proxy.requestsTo(host),
		get refusedHosts() {
			return proxy.refusedHosts;
		},
		async stop() {
			await proxy.stop();
			await registry.stop();
			await rm(npmCache, { recursive: true, force: true });
		},
	};
}
