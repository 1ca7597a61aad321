// zod's v4 API (shipped inside zod 3.25.x, which is what n8n 2.8 and 2.41 provide at runtime) is used
// because it validates these payloads several times faster than the v3 API: `npm run bench:handler`
// measures both side by side.
import { z } from 'zod/v4';

export const ORDER_EVENT_TYPES = [
	'order-created',
	'order-status-updated',
	'order-refresh-failed',
] as const;

export type OrderEventType = (typeof ORDER_EVENT_TYPES)[number];

export function isOrderEventType(eventType: string): eventType is OrderEventType {
	return (ORDER_EVENT_TYPES as readonly string[]).includes(eventType);
}

// Truv omits some documented fields in its own samples (`updated_at`, `order_number`,
// `employer_id`, `user_id`), so everything beyond the identifiers is optional and nullable.
const optionalText = z.string().nullable().optional();
const requiredId = z.string().min(1, 'must be a non-empty string');

/** Fields every Truv webhook carries. Unknown fields are kept: Truv adds fields without notice. */
export const truvEventEnvelopeSchema = z.looseObject({
	webhook_id: requiredId,
	event_type: requiredId,
	event_created_at: optionalText,
	updated_at: optionalText,
	user_id: optionalText,
	template_id: optionalText,
});

/** Fields shared by the three order events. Statuses stay open strings: Truv adds new ones. */
export const orderEventSchema = truvEventEnvelopeSchema.extend({
	order_id: requiredId,
	order_number: optionalText,
	employer_id: optionalText,
	status: z.string(),
	product: optionalText,
	link_id: optionalText,
	data_source: optionalText,
});

export const orderCreatedEventSchema = orderEventSchema.extend({
	event_type: z.literal('order-created'),
});

export const orderStatusUpdatedEventSchema = orderEventSchema.extend({
	event_type: z.literal('order-status-updated'),
});

/** `status` is the failure status (e.g. `login_error`), which Truv does not enumerate. */
export const orderRefreshFailedEventSchema = orderEventSchema.extend({
	event_type: z.literal('order-refresh-failed'),
});

export const orderEventSchemas = {
	'order-created': orderCreatedEventSchema,
	'order-status-updated': orderStatusUpdatedEventSchema,
	'order-refresh-failed': orderRefreshFailedEventSchema,
} satisfies Record<OrderEventType, z.ZodType>;

export type TruvOrderEvent = z.infer<typeof orderEventSchema>;

export type OrderEventValidation =
	| { success: true; event: TruvOrderEvent }
	| { success: false; problems: string[] };

/** Validates a parsed order delivery; `problems` name each failing field for a 400 answer. */
export function validateOrderEvent(
	eventType: OrderEventType,
	payload: unknown,
): OrderEventValidation {
	const result = orderEventSchemas[eventType].safeParse(payload);
	if (result.success) return { success: true, event: result.data };
	return { success: false, problems: result.error.issues.map(describeSchemaIssue) };
}

/** One failing field, as named in a 400 answer: `order_id: expected string, received undefined`. */
export function describeSchemaIssue(issue: z.core.$ZodIssue): string {
	const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
	return `${field}: ${issue.message.replace(/^Invalid input: /, '')}`;
}
