import type { INodeProperties } from 'n8n-workflow';

type DisplayConditions = NonNullable<NonNullable<INodeProperties['displayOptions']>['show']>;

/** Return All and Limit, n8n's usual pair, for one list operation. */
export function returnAllAndLimit(show: DisplayConditions): INodeProperties[] {
	return [
		{
			displayName: 'Return All',
			name: 'returnAll',
			type: 'boolean',
			default: false,
			description: 'Whether to return all results or only up to a given limit',
			displayOptions: { show },
		},
		{
			displayName: 'Limit',
			name: 'limit',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 50,
			description: 'Max number of results to return',
			displayOptions: { show: { ...show, returnAll: [false] } },
		},
	];
}

/** The Simplify switch, on by default, as n8n's nodes name and describe it. */
export function simplify(show: DisplayConditions): INodeProperties {
	return {
		displayName: 'Simplify',
		name: 'simplify',
		type: 'boolean',
		default: true,
		description: 'Whether to return a simplified version of the response instead of the raw data',
		displayOptions: { show },
	};
}
