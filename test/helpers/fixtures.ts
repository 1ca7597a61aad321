import { signTruvPayload } from '../../nodes/TruvOrderTrigger/truvSignature';
import {
	fixtureNames as standInFixtureNames,
	readTruvFixture,
} from '../../dev/truv-stand-in/webhookBody';

/** Names of Truv's sample payloads (file names without .json). */
export const fixtureNames = standInFixtureNames();

/** The exact bytes of a sample payload, as Truv would send them. */
export const fixtureBytes = readTruvFixture;

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
