import { join } from 'path';

import { cacheRoot } from '../../dev/n8n/runtimes';

/** What `npm start` is running, for `npm run send-event`. */
export interface DevState {
	mode: 'stand-in' | 'truv';
	standInUrl?: string;
	n8nUrl: string;
	/** Production webhook URL of each active example workflow, by workflow name. */
	webhookUrls: Record<string, string>;
}

export const devStateFile = join(cacheRoot, 'dev', 'state.json');
