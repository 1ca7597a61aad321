import { incorrectParametersBody, invalidCursorBody, type InvalidParam } from './truvErrors';
import { type Answer, jsonAnswer } from './httpExchange';
import type { DeliveryAttempt } from './webhookDelivery';
import type { TruvEnvironment } from './webhookRules';

/** One delivery attempt, as `standIn.deliveries` lists it and the history API reports it. */
export interface RecordedDelivery extends DeliveryAttempt {
	/** Increases with every attempt; the history's cursors point at it. */
	sequence: number;
	/** When the attempt started (ISO-8601). */
	at: string;
	clientId: string;
	env: TruvEnvironment;
	/** The registered webhook this went to, or null for a delivery to an explicit URL. */
	webhookId: string | null;
	eventType: string | null;
	/** The payload's own `webhook_id`, which identifies the webhook request. */
	payloadWebhookId: string | null;
	eventCreatedAt: string | null;
	/** The exact body bytes sent, as UTF-8 text. */
	body: string;
	requestHeaders: Record<string, string>;
}

/** An item of `GET /v1/webhook-requests/`. */
export interface WebhookRequestItem {
	webhook_id: string | null;
	event_type: string | null;
	event_created_at: string | null;
	status_code: number | null;
	error_message: string | null;
	webhook_payload: string;
	webhook_url: string;
}

/**
 * `GET /v1/webhook-requests/`: newest first, filtered by exact `event_type`, exact
 * `status_code`, `created_at__gte` and `created_at__lte` (the attempt's time), paginated with opaque cursors that
 * point at a position, as Django REST framework's CursorPagination does, so deliveries made
 * while a client pages through do not shift the pages.
 */
export function answerWebhookRequests(
	records: readonly RecordedDelivery[],
	url: URL,
	baseUrl: string,
	pageSize: number,
): Answer {
	const query = url.searchParams;
	const problems: InvalidParam[] = [];
	const eventType = query.get('event_type') || undefined;
	const statusCodeText = query.get('status_code') || undefined;
	const createdAfterText = query.get('created_at__gte') || undefined;
	const createdBeforeText = query.get('created_at__lte') || undefined;

	const statusCode = statusCodeText === undefined ? undefined : Number(statusCodeText);
	if (statusCode !== undefined && !Number.isInteger(statusCode)) {
		problems.push({ field: 'status_code', message: 'Enter a number.' });
	}
	const readTime = (field: string, text: string | undefined) => {
		const time = text === undefined ? undefined : Date.parse(text);
		if (time !== undefined && Number.isNaN(time)) {
			problems.push({ field, message: 'Enter a valid date/time.' });
		}
		return time;
	};
	const createdAfter = readTime('created_at__gte', createdAfterText);
	const createdBefore = readTime('created_at__lte', createdBeforeText);
	if (problems.length > 0) return jsonAnswer(400, incorrectParametersBody(problems));

	const cursorText = query.get('cursor');
	const cursor = cursorText ? decodeCursor(cursorText) : undefined;
	if (cursor === null) return jsonAnswer(404, invalidCursorBody());

	const matching = records
		.filter(
			(record) =>
				(eventType === undefined || record.eventType === eventType) &&
				(statusCode === undefined || record.status === statusCode) &&
				(createdAfter === undefined || Date.parse(record.at) >= createdAfter) &&
				(createdBefore === undefined || Date.parse(record.at) <= createdBefore),
		)
		.sort((a, b) => b.sequence - a.sequence);

	let page: RecordedDelivery[];
	if (cursor === undefined) {
		page = matching.slice(0, pageSize);
	} else if (cursor.reverse) {
		const newer = matching.filter((record) => record.sequence > cursor.position);
		page = newer.slice(Math.max(0, newer.length - pageSize));
	} else {
		page = matching.filter((record) => record.sequence < cursor.position).slice(0, pageSize);
	}

	const { next, previous } = neighbourCursors(matching, page, cursor);
	const pageUrl = (target: Cursor | undefined) => {
		if (target === undefined) return null;
		const address = new URL(url.pathname + url.search, baseUrl);
		address.searchParams.set('cursor', encodeCursor(target));
		return address.toString();
	};
	return jsonAnswer(200, {
		next: pageUrl(next),
		previous: pageUrl(previous),
		results: page.map(toWebhookRequestItem),
	});
}

/**
 * `next` leads to older records, `previous` to newer ones. An empty page (everything before
 * or after the cursor is gone) still links back to the records on the cursor's other side.
 */
function neighbourCursors(
	matching: RecordedDelivery[],
	page: RecordedDelivery[],
	cursor: Cursor | undefined,
): { next?: Cursor; previous?: Cursor } {
	const exists = (test: (sequence: number) => boolean) =>
		matching.some((record) => test(record.sequence));
	if (page.length > 0) {
		const newest = page[0].sequence;
		const oldest = page[page.length - 1].sequence;
		return {
			next: exists((sequence) => sequence < oldest)
				? { position: oldest, reverse: false }
				: undefined,
			previous: exists((sequence) => sequence > newest)
				? { position: newest, reverse: true }
				: undefined,
		};
	}
	if (cursor === undefined) return {};
	const position = cursor.position;
	if (cursor.reverse) {
		return exists((sequence) => sequence <= position)
			? { next: { position: position + 1, reverse: false } }
			: {};
	}
	return exists((sequence) => sequence >= position)
		? { previous: { position: position - 1, reverse: true } }
		: {};
}

export function toWebhookRequestItem(record: RecordedDelivery): WebhookRequestItem {
	return {
		webhook_id: record.payloadWebhookId,
		event_type: record.eventType,
		event_created_at: record.eventCreatedAt,
		status_code: record.status,
		error_message: record.error ?? null,
		webhook_payload: record.body,
		webhook_url: record.url,
	};
}

interface Cursor {
	position: number;
	reverse: boolean;
}

/** Same wire form as Django REST framework: base64 of `p=<position>[&r=1]`. */
function encodeCursor(cursor: Cursor): string {
	const params = new URLSearchParams({ p: String(cursor.position) });
	if (cursor.reverse) params.set('r', '1');
	return Buffer.from(params.toString(), 'utf8').toString('base64');
}

function decodeCursor(text: string): Cursor | null {
	const params = new URLSearchParams(Buffer.from(text, 'base64').toString('utf8'));
	const position = Number(params.get('p'));
	if (!params.has('p') || !Number.isInteger(position)) return null;
	return { position, reverse: params.get('r') === '1' };
}
