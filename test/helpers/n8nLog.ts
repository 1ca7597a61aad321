import { createRequire } from 'node:module';

/**
 * Silences and records the warnings n8n's logger writes. The spy is on n8n-core's own copy of
 * the logger: the one a node's context hands out. Call `mockRestore()` when done.
 */
export function spyOnN8nWarnings() {
	const { Logger } = createRequire(require.resolve('n8n-core'))(
		'@n8n/backend-common',
	) as typeof import('@n8n/backend-common');
	return jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
}
