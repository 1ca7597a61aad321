import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Truv's sample payloads, shared with the node's own tests. */
export const FIXTURE_DIRECTORY = resolve(__dirname, 'fixtures', 'truv');

/**
 * What `deliver` sends: a fixture name (its file bytes), a Buffer or any other string (as-is),
 * or a JSON value (serialised compactly).
 */
export type WebhookEvent = string | Buffer | Record<string, unknown> | unknown[];

/** Looks like a file name, not like JSON: `order-created`, `order-created.json`. */
const FIXTURE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function fixtureNames(): string[] {
	return readdirSync(FIXTURE_DIRECTORY)
		.filter((file) => file.endsWith('.json'))
		.map((file) => file.slice(0, -'.json'.length))
		.sort();
}

export function readTruvFixture(name: string): Buffer {
	const fileName = name.endsWith('.json') ? name : `${name}.json`;
	const path = join(FIXTURE_DIRECTORY, fileName);
	if (!FIXTURE_NAME.test(name) || !existsSync(path)) {
		throw new Error(`Unknown Truv fixture "${name}"; known: ${fixtureNames().join(', ')}`);
	}
	return readFileSync(path);
}

/**
 * A string that looks like a fixture name is one; a body that happens to look like a name
 * (for example `true`) must be passed as a Buffer.
 */
export function webhookBodyBytes(event: WebhookEvent): Buffer {
	if (Buffer.isBuffer(event)) return event;
	if (typeof event === 'string') {
		return FIXTURE_NAME.test(event) ? readTruvFixture(event) : Buffer.from(event, 'utf8');
	}
	return Buffer.from(JSON.stringify(event), 'utf8');
}

export interface PayloadSummary {
	eventType: string | null;
	payloadWebhookId: string | null;
	eventCreatedAt: string | null;
}

/** The fields Truv's delivery history repeats; a body that is not a JSON object has none. */
export function summarisePayload(body: Buffer): PayloadSummary {
	let parsed: unknown;
	try {
		parsed = JSON.parse(body.toString('utf8'));
	} catch {
		parsed = undefined;
	}
	const record =
		typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
			? (parsed as Record<string, unknown>)
			: {};
	const text = (value: unknown) => (typeof value === 'string' ? value : null);
	return {
		eventType: text(record.event_type),
		payloadWebhookId: text(record.webhook_id),
		eventCreatedAt: text(record.event_created_at),
	};
}
