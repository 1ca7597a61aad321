import { TruvValidationError } from './truvErrors';
import {
	duplicateUrlProblem,
	newTruvId,
	truvTimestamp,
	type TruvWebhook,
	validateWebhookFields,
	type WebhookFields,
} from './webhookRules';

interface StoredWebhook {
	clientId: string;
	webhook: TruvWebhook;
}

/** Server-assigned fields a test may pin when seeding a webhook "from the dashboard". */
export type WebhookSeedOverrides = Partial<Pick<TruvWebhook, 'id' | 'created_at' | 'updated_at'>>;

/**
 * The webhooks of every account, in creation order. Objects handed out are copies, so a test
 * holding one cannot change the stand-in's state behind its back.
 */
export class WebhookStore {
	private readonly stored: StoredWebhook[] = [];

	list(clientId?: string): TruvWebhook[] {
		return this.stored
			.filter((entry) => clientId === undefined || entry.clientId === clientId)
			.map((entry) => copy(entry.webhook));
	}

	/** Looks up any account's webhook when `clientId` is undefined. */
	find(clientId: string | undefined, id: string): TruvWebhook | undefined {
		const entry = this.entry(clientId, id);
		return entry && copy(entry.webhook);
	}

	/** @throws TruvValidationError with the messages Truv answers. */
	create(clientId: string, input: unknown, overrides: WebhookSeedOverrides = {}): TruvWebhook {
		const fields = validateWebhookFields(input, false) as Required<
			Pick<WebhookFields, 'name' | 'webhook_url' | 'env_type'>
		> &
			Partial<WebhookFields>;
		this.rejectDuplicateUrl(clientId, fields.webhook_url, fields.env_type);
		const id = overrides.id ?? newTruvId();
		if (this.stored.some((entry) => entry.webhook.id === id)) {
			throw new TruvValidationError([
				{ field: 'id', message: 'webhook with this id already exists.' },
			]);
		}
		const now = truvTimestamp();
		const webhook: TruvWebhook = {
			id,
			name: fields.name,
			webhook_url: fields.webhook_url,
			events: fields.events ?? [],
			env_type: fields.env_type,
			enabled: fields.enabled ?? true,
			created_at: overrides.created_at ?? now,
			updated_at: overrides.updated_at ?? overrides.created_at ?? now,
		};
		this.stored.push({ clientId, webhook });
		return copy(webhook);
	}

	/** @throws TruvValidationError; returns undefined for an unknown id. */
	update(clientId: string | undefined, id: string, input: unknown): TruvWebhook | undefined {
		const entry = this.entry(clientId, id);
		if (entry === undefined) return undefined;
		const fields = validateWebhookFields(input, true);
		const merged = { ...entry.webhook, ...fields };
		if (fields.webhook_url !== undefined || fields.env_type !== undefined) {
			this.rejectDuplicateUrl(entry.clientId, merged.webhook_url, merged.env_type, id);
		}
		entry.webhook = { ...merged, updated_at: truvTimestamp() };
		return copy(entry.webhook);
	}

	remove(clientId: string | undefined, id: string): boolean {
		const index = this.stored.findIndex(
			(entry) => entry.webhook.id === id && (clientId === undefined || entry.clientId === clientId),
		);
		if (index === -1) return false;
		this.stored.splice(index, 1);
		return true;
	}

	private entry(clientId: string | undefined, id: string): StoredWebhook | undefined {
		return this.stored.find(
			(entry) => entry.webhook.id === id && (clientId === undefined || entry.clientId === clientId),
		);
	}

	private rejectDuplicateUrl(
		clientId: string,
		webhookUrl: string,
		env: TruvWebhook['env_type'],
		ignoredId?: string,
	): void {
		const taken = this.stored.some(
			(entry) =>
				entry.clientId === clientId &&
				entry.webhook.id !== ignoredId &&
				entry.webhook.env_type === env &&
				entry.webhook.webhook_url === webhookUrl,
		);
		if (taken) throw new TruvValidationError([duplicateUrlProblem(env)]);
	}
}

function copy(webhook: TruvWebhook): TruvWebhook {
	return { ...webhook, events: [...webhook.events] };
}
