import { z } from 'zod/v4';

import { describeSchemaIssue, truvEventEnvelopeSchema } from './orderEventSchemas';

/**
 * The event behind the trigger's Connection Failed events: Truv's order status webhooks only show
 * successful connections, so an applicant's failed attempt to connect an employer or account
 * arrives only as a task status update with an error status.
 */
export const TASK_STATUS_UPDATED_EVENT = 'task-status-updated';

/** The task statuses Truv documents as errors. */
export const TASK_ERROR_STATUSES = [
	'login_error',
	'mfa_error',
	'config_error',
	'account_locked',
	'unable_to_reset',
	'no_data',
	'unavailable',
	'error',
	'not_supported',
] as const;

const ERROR_STATUSES: ReadonlySet<string> = new Set(TASK_ERROR_STATUSES);

/**
 * Whether a task status is a failed connection attempt. Truv's status list is open; a status it
 * adds later that ends in `_error`, as most of its error statuses do, is taken as one too, so that
 * a new kind of failure is reported rather than silently dropped.
 */
export function isTaskErrorStatus(status: string): boolean {
	return ERROR_STATUSES.has(status) || status.endsWith('_error');
}

const optionalText = z.string().nullable().optional();

/**
 * `task-status-updated` as Truv documents it. `tracking_info` holds the order's `employer_id` in
 * order flows; `user_id` is optional because Truv's example app notes some task events omit it.
 */
export const taskStatusUpdatedEventSchema = truvEventEnvelopeSchema.extend({
	event_type: z.literal(TASK_STATUS_UPDATED_EVENT),
	task_id: z.string().min(1, 'must be a non-empty string'),
	link_id: optionalText,
	tracking_info: optionalText,
	status: z.string(),
	product: optionalText,
	data_source: optionalText,
});

export type TruvTaskEvent = z.infer<typeof taskStatusUpdatedEventSchema>;

export type TaskEventValidation =
	| { success: true; event: TruvTaskEvent }
	| { success: false; problems: string[] };

/** Validates a parsed task delivery; `problems` name each failing field for a 400 answer. */
export function validateTaskEvent(payload: unknown): TaskEventValidation {
	const result = taskStatusUpdatedEventSchema.safeParse(payload);
	if (result.success) return { success: true, event: result.data };
	return { success: false, problems: result.error.issues.map(describeSchemaIssue) };
}
