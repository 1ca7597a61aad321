// What the stand-in offers its callers (tests, the control API, the CLI): the types of its
// seeds, deliveries and recorded calls, and the interface of a running stand-in. Kept apart from
// the server so that the control API depends on this, not on the server that mounts it.

import type { FaultSpec } from './faultSwitches';
import type { RateLimitSetting } from './rateLimit';
import type { SuborderStatus, TruvOrder } from './orderRules';
import type { WebhookEvent } from './webhookBody';
import type { DeliveryAttempt, DeliverySettings } from './webhookDelivery';
import type { RecordedDelivery } from './webhookHistory';
import type { TruvEnvironment, TruvWebhook } from './webhookRules';

export interface TruvStandInAccount {
	clientId: string;
	/** Each secret's prefix (`sandbox-`, `dev-`, `prod-`) is its environment. */
	secrets: string[];
}

export interface TruvStandInOptions {
	/** 0 (the default) picks a free port. */
	port?: number;
	accounts?: TruvStandInAccount[];
	/** Page size of every list: webhooks, delivery history, orders and order events. */
	pageSize?: number;
	delivery?: Partial<DeliverySettings>;
	/** How long a report made by `POST …/reports/` answers 404; 2 s by default. */
	reportReadyDelayMs?: number;
	/** How many reads of an order's invoice answer `pending` before it is made; 1 by default. */
	invoicePendingReads?: number;
	/** Truv's 300 requests a minute per Access Secret unless lowered (for tests). */
	rateLimit?: Partial<RateLimitSetting>;
	/** Receives one line per API call and per delivery attempt. */
	log?: (line: string) => void;
}

export interface AccountCredentials {
	clientId: string;
	secrets: Partial<Record<TruvEnvironment, string>>;
}

export interface RecordedCall {
	method: string;
	path: string;
	query: Record<string, string>;
	/** Lower-case names, as received. */
	headers: Record<string, string>;
	/** Parsed JSON; the raw text when it is not JSON; undefined without a body. */
	body: unknown;
	/** null while unanswered, and for ever under a `hang` fault. */
	status: number | null;
	/** Who the credentials identified, when they were checked and valid. */
	clientId: string | null;
	env: TruvEnvironment | null;
	at: string;
}

export interface DeliverOptions {
	/** Environment whose webhooks receive the event; `sandbox` by default. */
	env?: TruvEnvironment;
	/** Account whose webhooks receive the event; the first account by default. */
	clientId?: string;
	/** Send to this URL only, instead of the environment's registered webhooks. */
	url?: string;
	/** Signing key; the environment's first secret by default. */
	secret?: string;
	/** The whole `X-WEBHOOK-SIGN` value; null sends no signature header. */
	signature?: string | null;
	/** Added or replacing headers (names match case-insensitively); null removes one. */
	headers?: Record<string, string | null>;
	maxRetries?: number;
	retryDelayMs?: number;
	timeoutMs?: number;
}

export interface DeliveryTargetResult {
	url: string;
	/** The registered webhook, or null for `opts.url`. */
	webhookId: string | null;
	/** Whether the last attempt got a 2xx answer. */
	delivered: boolean;
	attempts: DeliveryAttempt[];
}

export interface DeliveryResult {
	eventType: string | null;
	/** The exact bytes sent, as UTF-8 text. */
	body: string;
	signature: string | null;
	targets: DeliveryTargetResult[];
	/** Every attempt to every target, in the order they finished. */
	attempts: DeliveryAttempt[];
}

/** A webhook "created in Truv's dashboard": only the URL is needed. */
export type WebhookSeed = Partial<TruvWebhook> & { webhook_url: string; clientId?: string };

/**
 * An order "created in Truv's dashboard": a `POST /v1/orders/` body (checked the same way), for
 * the first account's sandbox unless told otherwise, with an id and creation time if pinned.
 */
export type OrderSeed = Record<string, unknown> & {
	clientId?: string;
	env?: TruvEnvironment;
	id?: string;
	created_at?: string;
};

export interface TruvStandIn {
	/** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
	readonly url: string;
	readonly port: number;
	readonly account: AccountCredentials;
	/** Every request outside the control API, oldest first. */
	readonly calls: readonly RecordedCall[];
	/** Every delivery attempt, oldest first. */
	readonly deliveries: readonly RecordedDelivery[];
	/** `X-Access-Client-Id` and `X-Access-Secret` of the first account for `env`. */
	authHeaders(env?: TruvEnvironment): Record<string, string>;
	/** Current webhooks of one account, or of every account. */
	webhooks(clientId?: string): TruvWebhook[];
	resetCalls(): void;
	/** @throws TruvValidationError with the same rules as `POST /v1/webhooks/`. */
	addWebhook(seed: WebhookSeed): TruvWebhook;
	removeWebhook(id: string): boolean;
	/** @throws Error for an unknown id. */
	disableWebhook(id: string): TruvWebhook;
	/** Current orders, newest first, of one account (and environment), or of every account. */
	orders(clientId?: string, env?: TruvEnvironment): TruvOrder[];
	/** @throws TruvValidationError with the same rules as `POST /v1/orders/`. */
	addOrder(seed: OrderSeed): TruvOrder;
	/**
	 * The applicant's progress: one suborder (employer or financial account), or every one,
	 * reaches `status`; past `pending` it has a connection (`link_id`), which a refresh needs.
	 * @throws Error for an unknown order or suborder.
	 */
	setSuborderStatus(orderId: string, status: SuborderStatus, suborderId?: string): TruvOrder;
	rateLimit(): RateLimitSetting;
	/** A new limit (unset fields take Truv's), every secret's count back at zero. */
	setRateLimit(setting: Partial<RateLimitSetting>): RateLimitSetting;
	setFault(spec: FaultSpec): void;
	clearFaults(): void;
	faults(): FaultSpec[];
	deliver(event: WebhookEvent, opts?: DeliverOptions): Promise<DeliveryResult>;
	/** Ends the server, open sockets (hanging ones too), deliveries and retry timers. */
	close(): Promise<void>;
}
