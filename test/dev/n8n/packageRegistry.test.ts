import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { npmProjectConfig } from '../../../dev/n8n/packageRegistry';

const run = promisify(execFile);

// Shaped like startPackageRegistry's n8nEnvironment(), plus settings npm must not be given.
const environment = {
	HTTPS_PROXY: 'http://127.0.0.1:40001',
	https_proxy: 'http://127.0.0.1:40001',
	NO_PROXY: '127.0.0.1,localhost,::1',
	no_proxy: '127.0.0.1,localhost,::1',
	NODE_EXTRA_CA_CERTS: '/tmp/proxy/ca.pem',
	npm_config_cafile: '/tmp/proxy/ca.pem',
	npm_config_registry: 'https://registry.npmjs.org/',
	npm_config_cache: '/tmp/n8n-npm-cache',
	N8N_PORT: '5678',
	npm_config_empty: '',
};

describe('npmProjectConfig', () => {
	test("writes npm's own keys for the proxy, CA, registry and cache, and nothing else", () => {
		expect(npmProjectConfig(environment)).toBe(
			[
				'https-proxy=http://127.0.0.1:40001',
				'noproxy=127.0.0.1,localhost,::1',
				'cafile=/tmp/proxy/ca.pem',
				'registry=https://registry.npmjs.org/',
				'cache=/tmp/n8n-npm-cache',
				'',
			].join('\n'),
		);
	});

	test('maps npm_config_* variables to keys as npm does', () => {
		expect(npmProjectConfig({ npm_config_strict_ssl: 'true', NPM_CONFIG_FETCH_RETRIES: '0' })).toBe(
			'strict-ssl=true\nfetch-retries=0\n',
		);
	});

	// What n8n 1.123's `npm outdated` sees: PATH and NODE_ENV only, in the folder with the .npmrc.
	test('npm reads the settings from the folder it runs in, with no environment of the harness', async () => {
		const folder = await mkdtemp(join(tmpdir(), 'npmrc-test-'));
		try {
			await writeFile(join(folder, 'package.json'), '{"name":"installed-nodes","private":true}');
			await writeFile(join(folder, '.npmrc'), npmProjectConfig(environment));
			const keys = ['https-proxy', 'noproxy', 'cafile', 'registry', 'cache'];
			const { stdout } = await run('npm', ['config', 'get', ...keys], {
				cwd: folder,
				env: { PATH: process.env.PATH, NODE_ENV: 'production' },
			});
			expect(stdout.trim().split('\n')).toEqual([
				'https-proxy=http://127.0.0.1:40001',
				'noproxy=127.0.0.1,localhost,::1',
				'cafile=/tmp/proxy/ca.pem',
				'registry=https://registry.npmjs.org/',
				'cache=/tmp/n8n-npm-cache',
			]);
		} finally {
			await rm(folder, { recursive: true, force: true });
		}
	});
});
