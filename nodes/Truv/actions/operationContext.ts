import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { TruvCredentials } from '../../shared/truvTransport';

/** What an operation runs with: n8n's context, the input item and the credential read once. */
export interface OperationContext {
	context: IExecuteFunctions;
	itemIndex: number;
	credentials: TruvCredentials;
}

/**
 * One operation for one input item; each object returned becomes an output item, or the items
 * are given whole (with binary data).
 */
export type TruvOperation = (
	operation: OperationContext,
) => Promise<IDataObject[] | { items: INodeExecutionData[] }>;

/**
 * A required ID parameter, trimmed and encoded for a URL path: the text of a version 1 node, or
 * the ID a resource locator holds, whichever way it was picked.
 */
export function pathId(
	{ context, itemIndex }: OperationContext,
	parameterName: string,
	label: string,
): string {
	const raw: unknown = context.getNodeParameter(parameterName, itemIndex, '', {
		extractValue: true,
	});
	const value = String(raw ?? '').trim();
	if (value === '') {
		throw new NodeOperationError(context.getNode(), `${label} is empty`, {
			itemIndex,
			description: `Enter the ${label} Truv gave, or map it from an earlier node.`,
		});
	}
	return encodeURIComponent(value);
}

/** The Limit of a list operation, or undefined with Return All. */
export function listLimit({ context, itemIndex }: OperationContext): number | undefined {
	if (context.getNodeParameter('returnAll', itemIndex, false) as boolean) return undefined;
	return context.getNodeParameter('limit', itemIndex, 50) as number;
}

/** The fields of a collection parameter that were filled in: empty strings are left out. */
export function filledFields(values: IDataObject): IDataObject {
	return Object.fromEntries(
		Object.entries(values).filter(
			([, value]) =>
				value !== undefined &&
				value !== null &&
				!(typeof value === 'string' && value.trim() === '') &&
				!(Array.isArray(value) && value.length === 0),
		),
	);
}
