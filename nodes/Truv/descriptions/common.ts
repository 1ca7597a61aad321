import type { INodeProperties } from 'n8n-workflow';

type DisplayConditions = NonNullable<NonNullable<INodeProperties['displayOptions']>['show']>;

/** Return All and Limit, n8n's usual pair, for one list operation. */
export function returnAllAndLimit(
	show: DisplayConditions,
	returnAllCaveat?: string,
): INodeProperties[] {
	return [
		{
			displayName: 'Return All',
			name: 'returnAll',
			type: 'boolean',
			default: false,
			description: 'Whether to return all results or only up to a given limit',
			...(returnAllCaveat === undefined ? {} : { description: returnAllCaveat }),
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

/**
 * Version 2 of the node changed parameters a version 1 workflow holds (IDs became resource
 * locators, the Webhook resource's default operation): version 1 keeps its own, so its saved
 * workflows load and run as they did.
 */
const VERSION_1 = { '@version': [1] };
const FROM_VERSION_2 = { '@version': [{ _cnd: { gte: 2 } }] };

/** The parameter as version 1 of the node has it. */
export function forVersion1(property: INodeProperties): INodeProperties {
	const show = property.displayOptions?.show ?? {};
	return { ...property, displayOptions: { show: { ...show, ...VERSION_1 } } };
}

/** The parameter as version 2 and later have it. */
export function fromVersion2(property: INodeProperties): INodeProperties {
	const show = property.displayOptions?.show ?? {};
	return { ...property, displayOptions: { show: { ...show, ...FROM_VERSION_2 } } };
}

interface IdParameter {
	name: string;
	displayName: string;
	description: string;
	placeholder: string;
	searchListMethod: string;
	show: DisplayConditions;
}

/** An ID parameter: plain text in version 1, picked from a searchable list or typed from 2 on. */
function idParameters(spec: IdParameter): INodeProperties[] {
	const common = {
		displayName: spec.displayName,
		name: spec.name,
		required: true,
		description: spec.description,
	};
	return [
		forVersion1({
			...common,
			type: 'string',
			default: '',
			placeholder: spec.placeholder,
			displayOptions: { show: spec.show },
		}),
		fromVersion2({
			...common,
			type: 'resourceLocator',
			default: { mode: 'list', value: '' },
			displayOptions: { show: spec.show },
			modes: [
				{
					displayName: 'From List',
					name: 'list',
					type: 'list',
					typeOptions: { searchListMethod: spec.searchListMethod, searchable: true },
				},
				{ displayName: 'By ID', name: 'id', type: 'string', placeholder: spec.placeholder },
			],
		}),
	];
}

/** Order ID: search the list by order number or applicant name. */
export function orderIdParameters(show: DisplayConditions, description: string): INodeProperties[] {
	return idParameters({
		name: 'orderId',
		displayName: 'Order ID',
		description,
		placeholder: 'e.g. 1e2a7b0c9d8f4e6a8b7c6d5e4f3a2b1c',
		searchListMethod: 'searchOrders',
		show,
	});
}

/** Webhook ID: search the list by name or URL. */
export function webhookIdParameters(show: DisplayConditions): INodeProperties[] {
	return idParameters({
		name: 'webhookId',
		displayName: 'Webhook ID',
		description: 'The ID Truv gave the webhook',
		placeholder: 'e.g. 8c3f1a2b4d5e6f708192a3b4c5d6e7f8',
		searchListMethod: 'searchWebhooks',
		show,
	});
}
