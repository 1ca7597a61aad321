import type { IDataObject, IHookFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import {
	isTruvProductionApi,
	isTruvUnreached,
	resolveEnvironment,
	readTruvCredentials,
	truvApiRequest,
	truvApiError,
	truvListRequest,
} from '../shared/truvTransport';
import type { TruvCredentials, TruvEnvironment } from '../shared/truvTransport';
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
	/** Where the webhook was registered: a credential switched to another environment must still delete it. */
	environment: TruvEnvironment;
	/**
	 * The Truv account (Client ID) it was registered in: another account's keys cannot reach it.
	 * Records written before the Client ID was kept have none and are taken to be this account's.
	 */
	clientId?: string;
}

const WEBHOOKS_PATH = '/v1/webhooks/';
const MAX_WEBHOOK_NAME_LENGTH = 128;

// Registrations are keyed by webhook URL because n8n runs these hooks for the test URL (while the
// editor listens) and for the production URL (while the workflow is active), both with this
// node's static data: one must never adopt or delete the other's Truv webhook.
const REGISTRATIONS_KEY = 'truvWebhooks';

// Test URLs whose Execute step registered nothing at Truv (a sample run, or a registration that
// failed). Once the test run is over n8n runs the delete hook for the test URL in mode 'internal'
// (TestWebhooks.deactivateWebhooks, n8n 1.123, 2.8.4 and 2.41.1), with the static data of the
// hooks that ran at its start; also when they failed, and then an error of the delete hook
// replaces theirs.
// Without this, a delete that finds no record would look for the URL's webhook in Truv's list:
// a call the run does not need, which with Truv out of reach waits for its timeout and fails.
const NOTHING_REGISTERED_KEY = 'truvNothingRegistered';

interface Target {
	manual: false;
	url: string;
	environment: TruvEnvironment;
	events: string[];
	/** Read once per hook call: each read costs n8n 2.41 an expression sandbox. */
	credentials: TruvCredentials;
}

/** Manual registration needs the URL only: it makes no Truv call. */
type HookTarget = Target | { manual: true; url: string };

/**
 * The variable that sets n8n's public address: n8n up to 2.8 reads WEBHOOK_URL; later 2.x versions
 * read N8N_WEBHOOK_URL for the test and production URLs, still honour WEBHOOK_URL (for the test URL
 * only without N8N_EDITOR_BASE_URL) and report it as deprecated at start.
 */
export const WEBHOOK_URL_VARIABLES =
	'WEBHOOK_URL environment variable (N8N_WEBHOOK_URL once n8n reports WEBHOOK_URL as deprecated at start, as n8n 2.41 does)';

/** What builds a workflow without a public URL or Truv (the README says the same). */
export const SAMPLE_ADVICE =
	'or, to build the workflow without a public URL, set Test Event to Show a Sample Event: Execute step then shows a sample at once';

/** Execute step: the hooks n8n runs for the test URL when it starts listening. */
function isTestRun(context: IHookFunctions): boolean {
	return context.getMode() === 'manual';
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

function nothingRegistered(context: IHookFunctions): Record<string, true> {
	const stored = context.getWorkflowStaticData('node')[NOTHING_REGISTERED_KEY];
	return typeof stored === 'object' && stored !== null ? (stored as Record<string, true>) : {};
}

/** Notes (or, with false, forgets) that this test run registered nothing at Truv for `url`. */
function markNothingRegistered(context: IHookFunctions, url: string, marked: boolean) {
	const current = nothingRegistered(context);
	const markedNow = url in current;
	if (marked === markedNow) return;
	const next = { ...current };
	if (marked) next[url] = true;
	else delete next[url];
	const staticData = context.getWorkflowStaticData('node');
	if (Object.keys(next).length > 0) staticData[NOTHING_REGISTERED_KEY] = next;
	else delete staticData[NOTHING_REGISTERED_KEY];
}

function storeRegistration(context: IHookFunctions, url: string, registration?: Registration) {
	if (!registration && !(url in registrations(context))) return;
	if (registration) markNothingRegistered(context, url, false);
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

async function resolveTarget(context: IHookFunctions): Promise<HookTarget> {
	const url = context.getNodeWebhookUrl('default');
	if (!url) {
		throw new NodeOperationError(
			context.getNode(),
			'n8n did not provide a webhook URL for this trigger',
		);
	}
	if (isManual(context)) return { manual: true, url };
	// The options' values are Truv's event names (Connection Failed is task-status-updated), so the
	// selection is what Truv is asked to send.
	const events = context.getNodeParameter('events', []) as string[];

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
		const ways = [
			`Set the public https:// address of this n8n (for example your reverse proxy or tunnel) in n8n's ${WEBHOOK_URL_VARIABLES} and restart n8n`,
			'or choose Registration: Manually in the Truv Dashboard',
		];
		if (isTestRun(context)) ways.push(SAMPLE_ADVICE);
		throw new NodeOperationError(
			context.getNode(),
			`Truv cannot deliver webhooks to ${url}: ${reason}`,
			{ description: `${ways.join(', ')}.` },
		);
	}
	return { manual: false, url, events, environment, credentials };
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

/** Every webhook of the account, of every environment (`env_type` names it), across pages. */
async function listWebhooks(
	context: IHookFunctions,
	credentials: TruvCredentials,
): Promise<TruvWebhook[]> {
	return await truvListRequest<TruvWebhook>(context, WEBHOOKS_PATH, { credentials });
}

function registrationFor(webhook: TruvWebhook, target: Target): Registration {
	return { id: webhook.id, environment: target.environment, clientId: target.credentials.clientId };
}

const ENVIRONMENT_NAMES: Record<TruvEnvironment, string> = {
	sandbox: 'Sandbox',
	dev: 'Development',
	prod: 'Production',
};

/**
 * Truv's API reaches an account's webhooks only with that account's keys. A record of another
 * account means the credential was edited to other keys while the webhook existed. Forgetting the
 * record would leave that webhook delivering to this URL signed with a secret the trigger no
 * longer has (refused, retried, in production disabled with e-mails to that account), so the user
 * is told what to delete. n8n still deactivates the workflow when deactivation throws this.
 */
function assertReachable(
	context: IHookFunctions,
	url: string,
	stored: Registration,
	credentials: TruvCredentials,
): void {
	if (stored.clientId === undefined || stored.clientId === credentials.clientId) return;
	const environment = ENVIRONMENT_NAMES[stored.environment] ?? stored.environment;
	// n8n logs only the message of an error thrown from a hook, and n8n 2.41 shows only the
	// message of a failed activation: it names the webhook and both ways out.
	throw new NodeOperationError(
		context.getNode(),
		`Truv webhook ${stored.id} for ${url} is in another Truv account (Client ID ${stored.clientId}, ${environment}): put that account's keys back into the credential and activate and deactivate the workflow to delete it, or delete it in that account's Truv Dashboard and activate once with Registration set to Manually to forget it`,
		{
			description: `This trigger registered or adopted it, and the Truv API credential now holds the keys of Client ID ${credentials.clientId}, which cannot delete it. Until it is deleted, Truv sends this URL that account's events, signed with a secret the trigger no longer has, so they are refused. With the keys of Client ID ${stored.clientId} back in the credential, deactivating deletes the webhook; enter the new keys again afterwards. Or delete webhook ${stored.id} in that account's Truv Dashboard (Development → Webhooks), activate the workflow once with Registration set to Manually in the Truv Dashboard, which makes the trigger forget it, and set Registration back to Automatically.`,
		},
	);
}

/** 404: already gone (deleted in the dashboard, say), which is what we wanted. */
/** Deletes a Truv webhook; false when Truv had none with this id. */
async function deleteTruvWebhook(
	context: IHookFunctions,
	id: string,
	credentials: TruvCredentials,
): Promise<boolean> {
	const { statusCode } = await truvApiRequest(context, 'DELETE', `${WEBHOOKS_PATH}${id}/`, {
		allowStatus: [404],
		credentials,
	});
	return statusCode !== 404;
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
	if (update.enabled === true) {
		// At activation there is no execution to show it in: n8n's log is where an operator looks.
		context.logger.warn(
			`Truv had disabled webhook ${webhook.id} (${target.url}); it is enabled again. Events Truv sent while it was off may be missing: the Truv node's Webhook Request → Get Many lists them.`,
			{ workflowId: context.getWorkflow().id },
		);
	}
	storeRegistration(context, target.url, registrationFor(webhook, target));
}

async function adoptExisting(context: IHookFunctions, target: Target): Promise<boolean> {
	const existing = (await listWebhooks(context, target.credentials)).find((webhook) =>
		matches(webhook, target),
	);
	if (!existing) return false;
	await reconcile(context, existing, target);
	return true;
}

export async function checkWebhookExists(this: IHookFunctions): Promise<boolean> {
	if (isTestRun(this)) {
		// Until a registration is stored, the delete hook that ends the test run has nothing to do.
		const url = this.getNodeWebhookUrl('default');
		if (url) markNothingRegistered(this, url, true);
	}
	// Execute step with a sample: nothing to register at Truv, which need not reach this n8n; the
	// sample goes to the test URL n8n has just registered (sampleEvents.ts).
	if (samplesRequested(this)) {
		await sendSampleEvent(this);
		return true;
	}
	return await withTestRunAdvice(this, async () => {
		const target = await resolveTarget(this);
		if (target.manual) {
			forgetRegistration(this, target.url);
			return true;
		}
		return await settleRegistration(this, target);
	});
}

/**
 * On Execute step, Truv out of reach (a laptop behind a firewall, say) fails with what the user can
 * do about it rather than a network error: the same advice as the README.
 */
async function withTestRunAdvice<T>(context: IHookFunctions, hook: () => Promise<T>): Promise<T> {
	try {
		return await hook();
	} catch (error) {
		// The hooks raise NodeApiErrors and NodeOperationErrors: only Truv out of reach is reworded.
		const failure =
			isTestRun(context) && isTruvUnreached(error)
				? new NodeOperationError(
						context.getNode(),
						`${(error as Error).message}: the test URL could not be registered with Truv`,
						{
							description: `Execute step asks Truv to send events to the test URL, so both must reach each other: this n8n must reach Truv's API (check the credential's Base URL and any firewall or proxy), and Truv this n8n from the internet (its public address set in n8n's ${WEBHOOK_URL_VARIABLES}); ${SAMPLE_ADVICE}.`,
						},
					)
				: error;
		throw failure;
	}
}

/**
 * With manual registration the user keeps this URL's webhook in the Truv Dashboard, so what
 * automatic registration recorded is no longer the trigger's to manage. This is also the way out
 * for a record the credential cannot reach any more (see assertReachable), without a Truv call.
 */
function forgetRegistration(context: IHookFunctions, url: string) {
	storeRegistration(context, url, undefined);
}

/**
 * Whether this URL has its webhook in the credential's environment, made current (events,
 * enabled). A recorded webhook in another environment of the account is deleted first: the
 * credential was switched (sandbox to production, say) since it was registered.
 */
async function settleRegistration(context: IHookFunctions, target: Target): Promise<boolean> {
	const stored = registrations(context)[target.url];
	if (stored) {
		assertReachable(context, target.url, stored, target.credentials);
		if (stored.environment === target.environment) {
			const { statusCode, body } = await truvApiRequest<TruvWebhook>(
				context,
				'GET',
				`${WEBHOOKS_PATH}${stored.id}/`,
				{ allowStatus: [404], credentials: target.credentials },
			);
			if (statusCode !== 404 && matches(body, target)) {
				await reconcile(context, body, target);
				return true;
			}
		} else {
			await deleteTruvWebhook(context, stored.id, target.credentials);
		}
		storeRegistration(context, target.url, undefined);
	}
	return await adoptExisting(context, target);
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
	return await withTestRunAdvice(this, async () => await registerWebhook(this));
}

async function registerWebhook(context: IHookFunctions): Promise<boolean> {
	const target = await resolveTarget(context);
	if (target.manual) {
		forgetRegistration(context, target.url);
		return true;
	}
	// n8n asks checkExists first, which settles any record; one left means create was called
	// alone, and overwriting it could orphan its webhook.
	if (registrations(context)[target.url] && (await settleRegistration(context, target)))
		return true;

	const { statusCode, body } = await truvApiRequest<TruvWebhook>(context, 'POST', WEBHOOKS_PATH, {
		body: {
			name: webhookName(context),
			webhook_url: target.url,
			env_type: target.environment,
			events: target.events,
			enabled: true,
		},
		allowStatus: [400],
		credentials: target.credentials,
	});
	if (statusCode !== 400) {
		storeRegistration(context, target.url, registrationFor(body, target));
		return true;
	}
	// Someone (an earlier activation whose record was lost, or an admin) registered this URL
	// already: Truv allows one webhook per URL and environment, so that one becomes ours.
	if (isDuplicateUrlError(body) && (await adoptExisting(context, target))) return true;
	throw truvApiError(context, 'POST', WEBHOOKS_PATH, statusCode, body);
}

export async function deleteWebhook(this: IHookFunctions): Promise<boolean> {
	const url = this.getNodeWebhookUrl('default');
	if (!url) return true;
	const stored = registrations(this)[url];
	if (!stored && url in nothingRegistered(this)) {
		markNothingRegistered(this, url, false);
		return true;
	}
	if (isManual(this)) {
		forgetRegistration(this, url);
		return true;
	}
	const credentials = await readTruvCredentials(this);
	if (stored) {
		assertReachable(this, url, stored, credentials);
		// By id, whichever environment it is in (the credential may have been switched since): a
		// Truv webhook belongs to the account and names its environment in env_type.
		const found = await deleteTruvWebhook(this, stored.id, credentials);
		storeRegistration(this, url, undefined);
		if (found) return true;
		// A record naming a webhook Truv no longer has can be stale rather than wrong: in queue
		// mode a webhook process that loaded the static data before the last activation writes
		// its older copy back, so the webhook activation registered goes by another id.
	}
	// No usable record (n8n did not keep the static data, say): activation adopts the webhook
	// registered for this URL in the credential's environment, so deactivation deletes it by the
	// same rule.
	const environment = stored?.environment ?? resolveEnvironment(credentials);
	if (!environment) return true;
	let deleted = 0;
	for (const webhook of await listWebhooks(this, credentials)) {
		if (webhook.webhook_url === url && webhook.env_type === environment) {
			if (await deleteTruvWebhook(this, webhook.id, credentials)) deleted += 1;
		}
	}
	if (stored && deleted === 0) warnNotFound(this, url, stored);
	return true;
}

/**
 * The recorded webhook is gone from what this credential reaches, and none is registered for the
 * URL in its environment: deleted in the Truv Dashboard (nothing left to do), or out of the
 * credential's reach (its keys replaced by another environment's or account's without a Client ID
 * change, say), when it still sends events to this URL. Deactivation goes on either way; n8n's
 * log is where an operator looks for what to remove by hand.
 */
function warnNotFound(context: IHookFunctions, url: string, stored: Registration) {
	const environment = ENVIRONMENT_NAMES[stored.environment] ?? stored.environment;
	context.logger.warn(
		`Truv has no webhook ${stored.id} (${url}, ${environment} environment) for the Truv API credential's keys: if the Truv Dashboard still lists it under Development → Webhooks in ${environment}, delete it there, or Truv keeps sending this URL events`,
		{ workflowId: context.getWorkflow().id, truvWebhookId: stored.id, url, environment },
	);
}
