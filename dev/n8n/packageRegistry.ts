// Where n8n's Community Nodes installer finds packages in the harness: a local npm registry that
// stands in for registry.npmjs.org behind an HTTPS proxy (see registryProxy.ts for why), with the
// packages under test published to it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { readTarballPackageJson } from './communityPackage';
import { startNpmRegistry, type NpmRegistry } from './npmRegistry';
import { startRegistryProxy, type RegistryProxy } from './registryProxy';

export interface PublishedPackage {
	name: string;
	version: string;
}

export interface PackageRegistry {
	/** Publishes a packed package unless the registry already has that version. */
	publish(tarballPath: string): Promise<PublishedPackage>;
	/** What n8n needs to install from the registry as if from npmjs.org. */
	n8nEnvironment(): Record<string, string>;
	/** `METHOD path` of every request the registry answered through the proxy, oldest first. */
	readonly requests: string[];
	stop(): Promise<void>;
}

export async function startPackageRegistry(): Promise<PackageRegistry> {
	const registry: NpmRegistry = await startNpmRegistry();
	let proxy: RegistryProxy;
	try {
		proxy = await startRegistryProxy(registry.url);
	} catch (error) {
		await registry.stop();
		throw error;
	}
	// n8n's npm gets a cache of its own: a user's cache could hold another build of the same
	// name@version (a packument cached for minutes names the old tarball's integrity).
	const npmCache = await mkdtemp(join(tmpdir(), 'n8n-npm-cache-'));
	return {
		async publish(tarballPath) {
			const { name, version } = await readTarballPackageJson(tarballPath);
			if (!(await registry.versions(name)).includes(version)) await registry.publish(tarballPath);
			return { name, version };
		},
		n8nEnvironment: () => ({ ...proxy.environment(), npm_config_cache: npmCache }),
		get requests() {
			return proxy.registryRequests;
		},
		async stop() {
			await proxy.stop();
			await registry.stop();
			await rm(npmCache, { recursive: true, force: true });
		},
	};
}
