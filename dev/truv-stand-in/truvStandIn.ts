import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { handleControlRequest } from './controlApi';
import { ANSWER_SHAPING_FAULTS, faultAnswer, type FaultSpec, FaultSwitches } from './faultSwitches';
import {
	type Answer,
	headerRecord,
	jsonAnswer,
	queryRecord,
	readRequestBody,
	type ReceivedRequest,
	writeAnswer,
} from './httpExchange';
import { type Caller, handleTruvApiRequest, type TruvApiContext } from './truvApi';
import {
	type PayloadSummary,
	summarisePayload,
	type WebhookEvent,
	webhookBodyBytes,
} from './webhookBody';
import {
	DEFAULT_DELIVERY_SETTINGS,
	type DeliveryAttempt,
	type DeliverySettings,
	isSuccessStatus,
	mergeHeaders,
	WebhookDeliverer,
} from './webhookDelivery';
import type { RecordedDelivery } from './webhookHistory';
import {
	environmentOfSecret,
	isTruvEnvironment,
	TRUV_ENVIRONMENTS,
	type TruvEnvironment,
	type TruvWebhook,
} from './webhookRules';
import { signTruvWebhookBody, SIGNATURE_HEADER } from './webhookSignature';
import { WebhookStore } from './webhookStore';
import type { SuborderStatus, TruvOrder } from './orderRules';
import { OrderStore } from './orderStore';
import { RateLimiter, type RateLimitSetting } from './rateLimit';
import { InvoiceBook } from './invoices';
import { ReportStore } from './reportStore';
import type {
	TruvStandInAccount,
	TruvStandInOptions,
	AccountCredentials,
	RecordedCall,
	DeliverOptions,
	DeliveryTargetResult,
	DeliveryResult,
	WebhookSeed,
	OrderSeed,
	TruvStandIn,
} from './standInContract';

export type * from './standInContract';

export type { DeliveryAttempt, DeliverySettings } from './webhookDelivery';
export type { FaultKind, FaultSpec } from './faultSwitches';
export type { RateLimitSetting } from './rateLimit';
export { TRUV_RATE_WINDOW_MS, TRUV_REQUESTS_PER_WINDOW } from './rateLimit';
export type { RecordedDelivery, WebhookRequestItem } from './webhookHistory';
export type { TruvEnvironment, TruvWebhook } from './webhookRules';
export type {
	SuborderStatus,
	TruvOrder,
	TruvOrderEmployer,
	TruvOrderEvent,
	TruvOrderFinancialAccount,
} from './orderRules';
export { REFRESHES_PER_DAY, SUBORDER_STATUSES } from './orderRules';
export type { WebhookEvent } from './webhookBody';
export { REGISTRABLE_EVENTS } from './webhookRules';
export { readTruvFixture, fixtureNames } from './webhookBody';
export { signTruvWebhookBody, SIGNATURE_HEADER } from './webhookSignature';
export { TruvValidationError } from './truvErrors';

export const DEFAULT_ACCOUNT: TruvStandInAccount = {
	clientId: 'stand-in-client-id',
	secrets: ['sandbox-stand-in-secret', 'dev-stand-in-secret', 'prod-stand-in-secret'],
};

const DEFAULT_PAGE_SIZE = 20;
/** Truv's demo retries a new report after 0, 2 and 4 s: it can answer 404 for a few seconds. */
const DEFAULT_REPORT_READY_DELAY_MS = 2_000;
const DEFAULT_INVOICE_PENDING_READS = 1;
const USER_AGENT = 'Truv-Webhook-Service/2.0';

/** The first account's credentials, one secret per environment it has. */
export async function startTruvStandIn(options: TruvStandInOptions = {}): Promise<TruvStandIn> {
	const standIn = new TruvStandInServer(options);
	await standIn.listen(options.port ?? 0);
	return standIn;
}

class TruvStandInServer implements TruvStandIn {
	readonly calls: RecordedCall[] = [];
	readonly deliveries: RecordedDelivery[] = [];
	readonly account: AccountCredentials;

	private readonly server: Server;
	private readonly store = new WebhookStore();
	private readonly reportStore = new ReportStore(() => this.baseUrl);
	private readonly orderStore = new OrderStore(
		() => this.baseUrl,
		() => new Date(),
		this.reportStore,
	);
	private readonly invoices: InvoiceBook;
	private readonly reportReadyDelayMs: number;
	private readonly faultSwitches = new FaultSwitches();
	private readonly rateLimiter: RateLimiter;
	private readonly deliverer = new WebhookDeliverer();
	private readonly pendingDeliveries = new Set<Promise<unknown>>();
	/** clientId → secret → environment. */
	private readonly secretsByClient = new Map<string, Map<string, TruvEnvironment>>();
	private readonly deliverySettings: DeliverySettings;
	private readonly pageSize: number;
	private readonly log: (line: string) => void;
	private baseUrl = '';
	private closing: Promise<void> | undefined;

	constructor(options: TruvStandInOptions) {
		const accounts = options.accounts ?? [DEFAULT_ACCOUNT];
		if (accounts.length === 0) throw new Error('The stand-in needs at least one account');
		for (const account of accounts) {
			const secrets = new Map<string, TruvEnvironment>();
			for (const secret of account.secrets) {
				const env = environmentOfSecret(secret);
				if (env === undefined) {
					throw new Error(`Secret of ${account.clientId} lacks a sandbox-/dev-/prod- prefix`);
				}
				secrets.set(secret, env);
			}
			this.secretsByClient.set(account.clientId, secrets);
		}
		this.account = {
			clientId: accounts[0].clientId,
			secrets: Object.fromEntries(
				TRUV_ENVIRONMENTS.flatMap((env) => {
					const secret = accounts[0].secrets.find(
						(candidate) => environmentOfSecret(candidate) === env,
					);
					return secret === undefined ? [] : [[env, secret]];
				}),
			),
		};
		this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
		if (!(Number.isInteger(this.pageSize) && this.pageSize > 0)) {
			throw new Error('pageSize must be a positive integer');
		}
		this.deliverySettings = {
			...DEFAULT_DELIVERY_SETTINGS,
			...definedFields(options.delivery ?? {}),
		};
		this.rateLimiter = new RateLimiter(options.rateLimit ?? {});
		this.reportReadyDelayMs = options.reportReadyDelayMs ?? DEFAULT_REPORT_READY_DELAY_MS;
		this.invoices = new InvoiceBook(
			options.invoicePendingReads ?? DEFAULT_INVOICE_PENDING_READS,
			() => this.baseUrl,
		);
		this.log = options.log ?? (() => undefined);
		this.server = createServer((request, response) => void this.handle(request, response));
	}

	get url(): string {
		return this.baseUrl;
	}

	get port(): number {
		return (this.server.address() as AddressInfo).port;
	}

	listen(port: number): Promise<void> {
		return new Promise((resolve, reject) => {
			this.server.once('error', reject);
			this.server.listen(port, '127.0.0.1', () => {
				this.server.off('error', reject);
				this.baseUrl = `http://127.0.0.1:${this.port}`;
				resolve();
			});
		});
	}

	authHeaders(env: TruvEnvironment = 'sandbox'): Record<string, string> {
		const secret = this.account.secrets[env];
		if (secret === undefined) throw new Error(`The first account has no ${env} secret`);
		return { 'X-Access-Client-Id': this.account.clientId, 'X-Access-Secret': secret };
	}

	webhooks(clientId?: string): TruvWebhook[] {
		return this.store.list(clientId);
	}

	resetCalls(): void {
		this.calls.length = 0;
	}

	addWebhook(seed: WebhookSeed): TruvWebhook {
		const { clientId = this.account.clientId, id, created_at, updated_at, ...fields } = seed;
		if (!this.secretsByClient.has(clientId)) throw new Error(`Unknown account ${clientId}`);
		return this.store.create(
			clientId,
			{ name: 'Dashboard webhook', env_type: 'sandbox', ...fields },
			definedFields({ id, created_at, updated_at }),
		);
	}

	removeWebhook(id: string): boolean {
		return this.store.remove(undefined, id);
	}

	disableWebhook(id: string): TruvWebhook {
		const webhook = this.store.update(undefined, id, { enabled: false });
		if (webhook === undefined) throw new Error(`No webhook ${id}`);
		return webhook;
	}

	orders(clientId?: string, env?: TruvEnvironment): TruvOrder[] {
		return this.orderStore.list(clientId, env);
	}

	addOrder(seed: OrderSeed): TruvOrder {
		const { clientId = this.account.clientId, env = 'sandbox', id, created_at, ...body } = seed;
		if (!this.secretsByClient.has(clientId)) throw new Error(`Unknown account ${clientId}`);
		if (!isTruvEnvironment(env)) throw new Error(`Unknown environment ${String(env)}`);
		return this.orderStore.create(clientId, env, body, definedFields({ id, created_at }));
	}

	setSuborderStatus(orderId: string, status: SuborderStatus, suborderId?: string): TruvOrder {
		return this.orderStore.setSuborderStatus(orderId, status, suborderId);
	}

	rateLimit(): RateLimitSetting {
		return this.rateLimiter.current;
	}

	setRateLimit(setting: Partial<RateLimitSetting>): RateLimitSetting {
		return this.rateLimiter.set(setting);
	}

	setFault(spec: FaultSpec): void {
		this.faultSwitches.set(spec);
	}

	clearFaults(): void {
		this.faultSwitches.clear();
	}

	faults(): FaultSpec[] {
		return this.faultSwitches.list();
	}

	async deliver(event: WebhookEvent, opts: DeliverOptions = {}): Promise<DeliveryResult> {
		if (this.closing !== undefined) throw new Error('The Truv stand-in is closed');
		const env = opts.env ?? 'sandbox';
		if (!isTruvEnvironment(env)) throw new Error(`Unknown environment ${String(env)}`);
		const clientId = opts.clientId ?? this.account.clientId;
		if (!this.secretsByClient.has(clientId)) throw new Error(`Unknown account ${clientId}`);

		const body = webhookBodyBytes(event);
		const payload = summarisePayload(body);
		const signature =
			opts.signature !== undefined
				? opts.signature
				: signTruvWebhookBody(body, opts.secret ?? this.signingSecret(clientId, env));
		const headers = mergeHeaders(
			{
				'Content-Type': 'application/json',
				'User-Agent': USER_AGENT,
				...(signature === null ? {} : { [SIGNATURE_HEADER]: signature }),
			},
			opts.headers,
		);
		const targets =
			opts.url !== undefined
				? [{ url: opts.url, webhookId: null }]
				: this.subscribedWebhooks(clientId, env, payload.eventType);

		const settings: DeliverySettings = {
			...this.deliverySettings,
			...definedFields({
				maxRetries: opts.maxRetries,
				retryDelayMs: opts.retryDelayMs,
				timeoutMs: opts.timeoutMs,
			}),
		};
		const allAttempts: DeliveryAttempt[] = [];
		const delivering = Promise.all(
			targets.map(async (target): Promise<DeliveryTargetResult> => {
				const attempts = await this.deliverer.deliver(
					{ url: target.url, body, headers },
					settings,
					(attempt) => {
						allAttempts.push(attempt);
						this.recordDelivery(attempt, {
							clientId,
							env,
							webhookId: target.webhookId,
							body,
							headers,
							payload,
						});
					},
				);
				const last = attempts[attempts.length - 1];
				return { ...target, delivered: isSuccessStatus(last?.status ?? null), attempts };
			}),
		);
		this.pendingDeliveries.add(delivering);
		try {
			const results = await delivering;
			return {
				eventType: payload.eventType,
				body: body.toString('utf8'),
				signature,
				targets: results,
				attempts: allAttempts,
			};
		} finally {
			this.pendingDeliveries.delete(delivering);
		}
	}

	close(): Promise<void> {
		this.closing ??= (async () => {
			this.deliverer.close();
			await new Promise<void>((resolve) => {
				this.server.close(() => resolve());
				this.server.closeAllConnections();
			});
			await Promise.allSettled([...this.pendingDeliveries]);
		})();
		return this.closing;
	}

	/** Truv signs with the environment's access secret; with two (rotation), the first. */
	private signingSecret(clientId: string, env: TruvEnvironment): string {
		const secrets = [...(this.secretsByClient.get(clientId) ?? [])];
		const secret = secrets.find(([, secretEnv]) => secretEnv === env)?.[0];
		if (secret === undefined)
			throw new Error(`Account ${clientId} has no ${env} secret to sign with`);
		return secret;
	}

	/**
	 * Truv sends to every enabled webhook of the environment that subscribed to the event; one
	 * registered without an event list subscribed to everything.
	 */
	private subscribedWebhooks(
		clientId: string,
		env: TruvEnvironment,
		eventType: string | null,
	): Array<{ url: string; webhookId: string }> {
		return this.store
			.list(clientId)
			.filter(
				(webhook) =>
					webhook.env_type === env &&
					webhook.enabled &&
					(webhook.events.length === 0 ||
						(eventType !== null && webhook.events.includes(eventType))),
			)
			.map((webhook) => ({ url: webhook.webhook_url, webhookId: webhook.id }));
	}

	private recordDelivery(
		attempt: DeliveryAttempt,
		context: {
			clientId: string;
			env: TruvEnvironment;
			webhookId: string | null;
			body: Buffer;
			headers: Record<string, string>;
			payload: PayloadSummary;
		},
	): void {
		this.deliveries.push({
			...attempt,
			sequence: this.deliveries.length + 1,
			at: new Date(Date.now() - attempt.durationMs).toISOString(),
			clientId: context.clientId,
			env: context.env,
			webhookId: context.webhookId,
			eventType: context.payload.eventType,
			payloadWebhookId: context.payload.payloadWebhookId,
			eventCreatedAt: context.payload.eventCreatedAt,
			body: context.body.toString('utf8'),
			requestHeaders: context.headers,
		});
		const outcome = attempt.status ?? attempt.error ?? 'no answer';
		this.log(
			`deliver ${context.payload.eventType ?? '(no event_type)'} → ${attempt.url}: ${outcome} (${attempt.durationMs} ms)`,
		);
	}

	private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
		try {
			const received: ReceivedRequest = {
				method: (request.method ?? 'GET').toUpperCase(),
				// Concatenated rather than resolved, so a path such as `//x` stays a path.
				url: new URL(`${this.baseUrl}${request.url ?? '/'}`),
				headers: request.headers,
				rawBody: await readRequestBody(request),
			};
			const path = received.url.pathname;
			if (path === '/_stand-in' || path.startsWith('/_stand-in/')) {
				respond(response, await handleControlRequest(this, received));
				return;
			}
			this.handleApiRequest(received, response);
		} catch (error) {
			respond(response, jsonAnswer(500, { error: (error as Error).message }));
		}
	}

	private handleApiRequest(request: ReceivedRequest, response: ServerResponse): void {
		const call: RecordedCall = {
			method: request.method,
			path: request.url.pathname,
			query: queryRecord(request.url),
			headers: headerRecord(request.headers),
			body: recordedBody(request.rawBody),
			status: null,
			clientId: null,
			env: null,
			at: new Date().toISOString(),
		};
		this.calls.push(call);

		let answer: Answer | null = null;
		let caller: Caller | undefined;
		const fault = this.faultSwitches.trip(request.method, request.url.pathname);
		if (fault === undefined || ANSWER_SHAPING_FAULTS.has(fault)) {
			({ answer, caller } = handleTruvApiRequest(this.apiContext(), request));
		}
		if (fault !== undefined) answer = faultAnswer(fault, answer);
		call.clientId = caller?.clientId ?? null;
		call.env = caller?.env ?? null;
		const faultNote = fault === undefined ? '' : ` (fault ${fault})`;
		if (answer === null) {
			this.log(
				`${call.method} ${request.url.pathname}${request.url.search} → no answer${faultNote}`,
			);
			return;
		}
		call.status = answer.status;
		this.log(
			`${call.method} ${request.url.pathname}${request.url.search} → ${answer.status}${faultNote}`,
		);
		respond(response, answer);
	}

	private apiContext(): TruvApiContext {
		return {
			baseUrl: this.baseUrl,
			pageSize: this.pageSize,
			webhooks: this.store,
			orders: this.orderStore,
			reports: this.reportStore,
			invoices: this.invoices,
			reportReadyDelayMs: this.reportReadyDelayMs,
			authenticate: (clientId, secret) => {
				if (clientId === undefined || secret === undefined) return undefined;
				const env = this.secretsByClient.get(clientId)?.get(secret);
				return env === undefined ? undefined : { clientId, env };
			},
			throttle: (secret) => this.rateLimiter.take(secret),
			deliveryHistory: (caller) =>
				this.deliveries.filter(
					(record) => record.clientId === caller.clientId && record.env === caller.env,
				),
		};
	}
}

/** A response whose socket `close()` already destroyed is silently dropped. */
function respond(response: ServerResponse, answer: Answer): void {
	if (response.destroyed || response.writableEnded) return;
	writeAnswer(response, answer);
}

function recordedBody(rawBody: Buffer): unknown {
	if (rawBody.length === 0) return undefined;
	const text = rawBody.toString('utf8');
	try {
		return JSON.parse(text);
	} catch {
		return text;
	}
}

/** Drops undefined values so they do not overwrite defaults when spread. */
function definedFields<T extends object>(value: T): Partial<T> {
	return Object.fromEntries(
		Object.entries(value).filter(([, field]) => field !== undefined),
	) as Partial<T>;
}
