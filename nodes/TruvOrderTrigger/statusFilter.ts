import type { IHookFunctions, IWebhookFunctions } from 'n8n-workflow';

/** The statuses of the trigger's status filter, or undefined for every status. */
export function configuredStatuses(
	context: IHookFunctions | IWebhookFunctions,
): Set<string> | undefined {
	const picked = context.getNodeParameter('orderStatuses', []) as string[];
	const typed = String(context.getNodeParameter('otherOrderStatuses', '') ?? '')
		.split(',')
		.map((status) => status.trim())
		.filter((status) => status.length > 0);
	const statuses = [...picked, ...typed];
	return statuses.length > 0 ? new Set(statuses) : undefined;
}
