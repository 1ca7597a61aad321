import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';

import { signTruvPayload } from '../../nodes/TruvOrderTrigger/truvSignature';

export const FIXTURES_DIR = join(__dirname, '..', 'fixtures', 'truv');

/** Names of Truv's sample payloads (file names without .json). */
export const fixtureNames = readdirSync(FIXTURES_DIR)
	.filter((file) => file.endsWith('.json'))
	.map((file) => file.replace(/\.json$/, ''));

/** The exact bytes of a sample payload, as Truv would send them. */
export function fixtureBytes(name: string): Buffer {
	return readFileSync(join(FIXTURES_DIR, `${name}.json`));
}

export function fixtureJson(name: string): Record<string, unknown> {
	return JSON.parse(fixtureBytes(name).toString('utf8')) as Record<string, unknown>;
}

/** Headers of a genuine delivery of `body` signed with `secret`. */
export function signedHeaders(body: Buffer | string, secret: string): Record<string, string> {
	return {
		'user-agent': 'Truv-Webhook-Service/2.0',
		'content-type': 'application/json',
		'x-webhook-sign': signTruvPayload(body, secret),
	};
}
