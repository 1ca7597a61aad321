import type { IWebhookFunctions } from 'n8n-workflow';

import { configuredStatuses } from '../../../nodes/TruvOrderTrigger/statusFilter';

function contextWith(parameters: Record<string, unknown>): IWebhookFunctions {
	return {
		getNodeParameter: (name: string, fallback: unknown) => parameters[name] ?? fallback,
	} as unknown as IWebhookFunctions;
}

describe('configuredStatuses', () => {
	it('is undefined when no status is picked or typed: every status passes', () => {
		expect(configuredStatuses(contextWith({}))).toBeUndefined();
		expect(
			configuredStatuses(contextWith({ orderStatuses: [], otherOrderStatuses: ' , ' })),
		).toBeUndefined();
	});

	it('joins the picked statuses and the typed ones, trimmed', () => {
		const statuses = configuredStatuses(
			contextWith({ orderStatuses: ['completed'], otherOrderStatuses: ' in_review,on_hold ,' }),
		);
		expect([...(statuses ?? [])].sort()).toEqual(['completed', 'in_review', 'on_hold']);
	});
});
