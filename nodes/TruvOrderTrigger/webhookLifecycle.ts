import type { IDataObject, IHookFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import {
	isTruvProductionApi,
	resolveEnvironment,
	readTruvCredentials,
	truvApiRequest,
	truvApiError,
	truvListRequest,
} from '../Truv/shared/truvTransport';
import type { TruvCredentials, TruvEnvironment } from '../Truv/shared/truvTransport';
import { samplesRequested, sendSampleEvent } from './sampleEvents';

export interface TruvWebhook {
	id: string;
	name?: string;
	webhook_url: string;
	events?: string[] | null;
	env_type: string;
	enabled?: boolean;
}

interface Registration {
	id: string;
	environment: TruvEnvironment;
}

const WEBHOOKS_PATH = '/v1/webhooks/';
const MAX_WEBHOOK_NAME_LENGTH = 128;

// Registrations are keyed by webhook URL because n8n runs these hooks for the test URL (while the
// editor listens) and for the production URL (while the workflow is active), both with this
// node's static data: one must never adopt or delete the other's Truv webhook.
const REGISTRATIONS_KEY = 'truvWebhooks';

interface Target {
	url: string;
	environment: TruvEnvironment;
	events: string[];
	manual: boolean;
	/** Read once per hook call: each read costs n8n 2.41 an expression sandbox. */
	credentials?: TruvCredentials;
}

function isManual(context: IHookFunctions): boolean {
	return context.getNodeParameter('registration', 'automatic') === 'manual';
}

function registrations(context: IHookFunctions): Record<string, Registration> {
	const staticData = context.getWorkflowStaticData('node');
	const stored = staticData[REGISTRATIONS_KEY];
	return typeof stored === 'object' && stored !== null
		? (stored as Record<string, Registration>)
		: {};
}

function storeRegistration(context: IHookFunctions, url: string, registration?: Registration) {
	const next = { ...registrations(context) };
	if (registration) next[url] = registration;
	else delete next[url];
	// A new object (not a mutation) is what marks n8n's static data as changed.
	context.getWorkflowStaticData('node')[REGISTRATIONS_KEY] = next as unknown as IDataObject;
}

const PRIVATE_HOST =
	/^(localhost|.*\.localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|172\.(1[6-9]|2\d|3[01])\.\d+\.\d+|169\.254\.\d+\.\d+|\[::1?\]|\[f[cd][0-9a-f]*:.*\]|\[fe80:.*\])$/i;

/** Why Truv (on the internet, HTTPS only in production) could not deliver to `url`, if it could not. */
export function unreachableReason(url: string): string | undefined {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		return 'it is not a valid URL';
	}
	if (PRIVATE_HOST.test(parsed.hostname))
		return `${parsed.hostname} is not reachable from the internet`;
	if (parsed.protocol !== 'https:') return 'it is not an https:// address';
	return undefined;
}

async function resolveTarget(context: IHookFunctions): Promise<Target> {
	const url = context.getNodeWebhookUrl('default');
	if (!url) {
		throw new NodeOperationError(
			context.getNode(),
			'n8n did not provide a webhook URL for this trigger',
		);
	}
	// The options' values are Truv's event names (Connection Failed is task-status-updated), so the
	// selection is what Truv is asked to send.
	const events = context.getNodeParameter('events', []) as string[];
	const manual = isManual(context);
	if (manual) return { url, events, manual, environment: 'sandbox' };

	const credentials = await readTruvCredentials(context);
	const environment = resolveEnvironment(credentials);
	if (!environment) {
		throw new NodeOperationError(
			context.getNode(),
			'Cannot tell the Truv environment from the Access Secret',
			{
				description:
					'Truv secrets start with sandbox-, dev- or prod-. Choose the Environment in the Truv API credential.',
			},
		);
	}
	if (events.length === 0) {
		throw new NodeOperationError(context.getNode(), 'Select at least one event in Events');
	}
	const reason = isTruvProductionApi(credentials) ? unreachableReason(url) : undefined;
	if (reason) {
		throw new NodeOperationError(
			context.getNode(),
			`Truv cannot deliver webhooks to ${url}: ${reason}`,
			{
				description:
					"Set n8n's WEBHOOK_URL environment variable to the public https:// address of this n8n (for example your reverse proxy or tunnel) and restart n8n, or choose Registration: Manually in the Truv Dashboard.",
			},
		);
	}
	return { url, events, manual, environment, credentials };
}

function webhookName(context: IHookFunctions): string {
	const workflow = context.getWorkflow();
	const name = `n8n: ${workflow.name ?? 'workflow'} (workflow ${workflow.id ?? '?'})`;
	return name.length > MAX_WEBHOOK_NAME_LENGTH
		? `${name.slice(0, MAX_WEBHOOK_NAME_LENGTH - 1)}…`
		: name;
}

function sameEvents(current: TruvWebhook['events'], wanted: string[]): boolean {
	const have = new Set(current ?? []);
	return have.size === wanted.length && wanted.every((event) => have.has(event));
}

function matches(webhook: TruvWebhook, target: Target): boolean {
	return webhook.webhook_url === target.url && webhook.env_type === target.environment;
}

/** Every webhook of the account, across pages. */
async function listWebhooks(context: IHookFunctions, target: Target): Promise<TruvWebhook[]> {
	return await truvListRequest<TruvWebhook>(context, WEBHOOKS_PATH, {
		credentials: target.credentials,
	});
}

/** Makes an existing Truv webhook send what this trigger uses, and re-enables it if Truv disabled it. */
async function reconcile(context: IHookFunctions, webhook: TruvWebhook, target: Target) {
	const update: IDataObject = {};
	if (!sameEvents(webhook.events, target.events)) update.events = target.events;
	if (webhook.enabled === false) update.enabled = true;
	if (Object.keys(update).length > 0) {
		await truvApiRequest(context, 'PATCH', `${WEBHOOKS_PATH}${webhook.id}/`, {
			body: update,
			credentials: target.credentials,
		});
	}
	storeRegistration(context, target.url, { id: webhook.id, environment: target.environment });
}

async function adoptExisting(context: IHookFunctions, target: Target): Promise<boolean> {
	const existing = (await listWebhooks(context, target)).find((webhook) =>
		matches(webhook, target),
	);
	if (!existing) return false;
	await reconcile(context, existing, target);
	return true;
}

export async function checkWebhookExists(this: IHookFunctions): Promise<boolean> {
	// Execute step with a sample: nothing to register at Truv, which need not reach this n8n; the
	// sample goes to the test URL n8n has just registered (sampleEvents.ts).
	if (samplesRequested(this)) {
		await sendSampleEvent(this);
		return true;
	}
	const target = await resolveTarget(this);
	if (target.manual) return true;

	const stored = registrations(this)[target.url];
	if (stored) {
		const { statusCode, body } = await truvApiRequest<TruvWebhook>(
			this,
			'GET',
			`${WEBHOOKS_PATH}${stored.id}/`,
			{ allowStatus: [404], credentials: target.credentials },
		);
		if (statusCode !== 404 && matches(body, target)) {
			await reconcile(this, body, target);
			return true;
		}
		storeRegistration(this, target.url, undefined);
	}
	return await adoptExisting(this, target);
}

function isDuplicateUrlError(body: unknown): boolean {
	const invalid = (
		body as {
			error?: { extra?: { 'invalid-params'?: Array<{ field?: string; message?: string }> } };
		}
	)?.error?.extra?.['invalid-params'];
	return (invalid ?? []).some(
		({ field, message }) => field === 'webhook_url' && /already registered/i.test(message ?? ''),
	);
}

export async function createWebhook(this: IHookFunctions): Promise<boolean> {
	const target = await resolveTarget(this);
	if (target.manual) return true;

	const { statusCode, body } = await truvApiRequest<TruvWebhook>(this, 'POST', WEBHOOKS_PATH, {
		body: {
			name: webhookName(this),
			webhook_url: target.url,
			env_type: target.environment,
			events: target.events,
			enabled: true,
		},
		allowStatus: [400],
		credentials: target.credentials,
	});
	if (statusCode !== 400) {
		storeRegistration(this, target.url, { id: body.id, environment: target.environment });
		return true;
	}
	// Someone (an earlier activation whose record was lost, or an admin) registered this URL
	// already: Truv allows one webhook per URL and environment, so that one becomes ours.
	if (isDuplicateUrlError(body) && (await adoptExisting(this, target))) return true;
	throw truvApiError(this, 'POST', WEBHOOKS_PATH, statusCode, body);
}

export async function deleteWebhook(this: IHookFunctions): Promise<boolean> {
	if (isManual(this)) return true;
	const url = this.getNodeWebhookUrl('default');
	const stored = url ? registrations(this)[url] : undefined;
	if (!url || !stored) return true;
	// 404: already gone (deleted in the dashboard, say), which is what we wanted.
	await truvApiRequest(this, 'DELETE', `${WEBHOOKS_PATH}${stored.id}/`, { allowStatus: [404] });
	storeRegistration(this, url, undefined);
	return true;
}
