import { randomBytes } from 'node:crypto';

import { type InvalidParam, TruvValidationError } from './truvErrors';

export const TRUV_ENVIRONMENTS = ['sandbox', 'dev', 'prod'] as const;
export type TruvEnvironment = (typeof TRUV_ENVIRONMENTS)[number];

/** The event names Truv's registration API accepts (truv-api.md lists 17). */
export const REGISTRABLE_EVENTS: readonly string[] = [
	'task-status-updated',
	'link-connected',
	'link-disconnected',
	'link-deleted',
	'employment-created',
	'employment-updated',
	'profile-created',
	'profile-updated',
	'statements-created',
	'statements-updated',
	'shifts-created',
	'shifts-updated',
	'bank-accounts-created',
	'bank-accounts-updated',
	'order-created',
	'order-status-updated',
	'order-refresh-failed',
];

const NAME_MAX_LENGTH = 128;
const URL_MAX_LENGTH = 2048;

export interface TruvWebhook {
	id: string;
	name: string;
	webhook_url: string;
	events: string[];
	env_type: TruvEnvironment;
	enabled: boolean;
	created_at: string;
	updated_at: string;
}

/** The writable fields of a webhook, after validation. */
export type WebhookFields = Pick<
	TruvWebhook,
	'name' | 'webhook_url' | 'events' | 'env_type' | 'enabled'
>;

export function isTruvEnvironment(value: unknown): value is TruvEnvironment {
	return typeof value === 'string' && (TRUV_ENVIRONMENTS as readonly string[]).includes(value);
}

/** The environment a secret belongs to, read from its prefix as Truv does. */
export function environmentOfSecret(secret: string): TruvEnvironment | undefined {
	return TRUV_ENVIRONMENTS.find((env) => secret.startsWith(`${env}-`));
}

export function newTruvId(): string {
	return randomBytes(16).toString('hex');
}

/** Django REST framework renders datetimes with microseconds and a `Z` suffix. */
export function truvTimestamp(date: Date = new Date()): string {
	return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Checks a create (`partial = false`) or update (`partial = true`) body field by field, with
 * the messages Django REST framework gives, and collects every problem before answering.
 * Unknown and read-only fields are ignored, as Truv's serializer does.
 */
export function validateWebhookFields(input: unknown, partial: boolean): Partial<WebhookFields> {
	if (typeof input !== 'object' || input === null || Array.isArray(input)) {
		const got = Array.isArray(input) ? 'list' : input === null ? 'NoneType' : typeof input;
		throw new TruvValidationError([
			{
				field: 'non_field_errors',
				message: `Invalid data. Expected a dictionary, but got ${got}.`,
			},
		]);
	}
	const body = input as Record<string, unknown>;
	const problems: InvalidParam[] = [];
	const fields: Partial<WebhookFields> = {};
	const present = (field: string) => Object.prototype.hasOwnProperty.call(body, field);

	const checkRequired = (field: string): boolean => {
		if (!present(field) || body[field] === undefined) {
			if (!partial) problems.push({ field, message: 'This field is required.' });
			return false;
		}
		if (body[field] === null) {
			problems.push({ field, message: 'This field may not be null.' });
			return false;
		}
		return true;
	};

	if (checkRequired('name')) {
		const message = stringProblem(body.name, NAME_MAX_LENGTH);
		if (message) problems.push({ field: 'name', message });
		else fields.name = body.name as string;
	}

	if (checkRequired('webhook_url')) {
		const message =
			stringProblem(body.webhook_url, URL_MAX_LENGTH) ?? urlProblem(body.webhook_url as string);
		if (message) problems.push({ field: 'webhook_url', message });
		else fields.webhook_url = body.webhook_url as string;
	}

	if (checkRequired('env_type')) {
		if (isTruvEnvironment(body.env_type)) fields.env_type = body.env_type;
		else problems.push({ field: 'env_type', message: notAChoice(body.env_type) });
	}

	if (present('events') && body.events !== undefined) {
		const events = body.events;
		if (events === null) {
			problems.push({ field: 'events', message: 'This field may not be null.' });
		} else if (!Array.isArray(events)) {
			problems.push({
				field: 'events',
				message: `Expected a list of items but got type "${pythonTypeName(events)}".`,
			});
		} else {
			const invalid = events.filter(
				(event) => typeof event !== 'string' || !REGISTRABLE_EVENTS.includes(event),
			);
			for (const event of invalid) problems.push({ field: 'events', message: notAChoice(event) });
			if (invalid.length === 0) fields.events = [...(events as string[])];
		}
	}

	if (present('enabled') && body.enabled !== undefined) {
		if (typeof body.enabled === 'boolean') fields.enabled = body.enabled;
		else problems.push({ field: 'enabled', message: 'Must be a valid boolean.' });
	}

	if (problems.length > 0) throw new TruvValidationError(problems);
	return fields;
}

export function duplicateUrlProblem(env: TruvEnvironment): InvalidParam {
	return { field: 'webhook_url', message: `Webhook url for ${env} already registered` };
}

export function stringProblem(value: unknown, maxLength: number): string | undefined {
	if (typeof value !== 'string') return 'Not a valid string.';
	if (value.trim() === '') return 'This field may not be blank.';
	if (value.length > maxLength)
		return `Ensure this field has no more than ${maxLength} characters.`;
	return undefined;
}

/**
 * Django's URLValidator: http(s) only, and a host that is `localhost`, an IP address or a
 * dotted domain. A bare container name such as `http://n8n:5678/` is refused, as Truv would.
 */
function urlProblem(value: string): string | undefined {
	const invalid = 'Enter a valid URL.';
	if (/\s/.test(value)) return invalid;
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		return invalid;
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') return invalid;
	if (!/^https?:\/\//i.test(value)) return invalid;
	const host = url.hostname;
	const isIpv4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
	const isIpv6 = host.startsWith('[') && host.endsWith(']');
	const isDottedDomain = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}\.?$/i.test(host);
	if (host === 'localhost' || isIpv4 || isIpv6 || isDottedDomain) return undefined;
	return invalid;
}

export function notAChoice(value: unknown): string {
	return `"${typeof value === 'string' ? value : JSON.stringify(value)}" is not a valid choice.`;
}

export function pythonTypeName(value: unknown): string {
	if (typeof value === 'string') return 'str';
	if (typeof value === 'boolean') return 'bool';
	if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
	return 'dict';
}
