import type { INodeExecutionData } from 'n8n-workflow';

/**
 * A signed delivery the trigger cannot read (not Truv's documented format). Refusing it would make
 * Truv send the same bytes again until it disables the endpoint, losing every later event, so it is
 * acknowledged and reported by failing its execution: the user sees it in the executions list, and
 * n8n's Error Workflow runs for it. The failure is raised in the execution (deliveryExecution.ts),
 * not in webhook(): thrown there, after the answer, n8n would log the error with a stack trace and
 * try to answer a second time.
 */
export interface UnreadableDelivery {
	title: string;
	description: string;
}

/** The field of the one item webhook() emits for an unreadable delivery. */
export const UNREADABLE_DELIVERY_FIELD = 'n8n_unreadable_truv_delivery';

/** How many bytes of an unreadable delivery the failed execution quotes: enough to recognise it. */
const QUOTED_PAYLOAD_CHARS = 2000;

export function unreadableDeliveryItem(
	problems: string[],
	eventType: string | undefined,
	rawBody: Buffer,
): INodeExecutionData {
	// The bytes as received, not the parsed payload written again: that can nest too deep to write.
	const quoted =
		rawBody.length === 0 ? undefined : rawBody.toString('utf8', 0, QUOTED_PAYLOAD_CHARS);
	const what =
		eventType === undefined
			? 'a delivery'
			: `${/^[aeiou]/.test(eventType) ? 'an' : 'a'} ${eventType} event`;
	const unreadable: UnreadableDelivery = {
		title: `Truv sent ${what} this trigger cannot read`,
		description: [
			`Problems: ${problems.join('; ')}.`,
			'The delivery was signed with your Access Secret, so it came from Truv; it was acknowledged, so Truv will not send it again.',
			...(quoted === undefined ? [] : [`Received: ${quoted}`]),
		].join('\n'),
	};
	return { json: { [UNREADABLE_DELIVERY_FIELD]: { ...unreadable } } };
}
