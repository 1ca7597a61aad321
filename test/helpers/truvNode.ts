import type { IDataObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';

import {
	executeContext,
	type ExecuteOptions,
	truvCredentials,
} from '../../dev/n8n-core/n8nContexts';
import type { TruvStandIn } from '../../dev/truv-stand-in/truvStandIn';

/** The Truv API credential pointed at the stand-in, with its sandbox keys. */
export function standInCredentials(standIn: TruvStandIn, overrides: IDataObject = {}) {
	return truvCredentials({
		clientId: standIn.account.clientId,
		accessSecret: standIn.account.secrets.sandbox,
		baseUrl: standIn.url,
		...overrides,
	});
}

/** Runs the Truv node once in n8n-core's ExecuteContext and answers its (single) output. */
export async function runTruvNode(
	standIn: TruvStandIn,
	parameters: INodeParameters,
	options: Omit<ExecuteOptions, 'parameters'> = {},
): Promise<INodeExecutionData[]> {
	const { run } = executeContext({
		credentials: standInCredentials(standIn),
		...options,
		parameters,
	});
	const outputs = await run();
	expect(outputs).toHaveLength(1);
	return outputs[0];
}

/** The node's error for a run expected to fail. */
export async function truvNodeError(
	standIn: TruvStandIn,
	parameters: INodeParameters,
	options: Omit<ExecuteOptions, 'parameters'> = {},
): Promise<Error & { description?: string; httpCode?: string; context?: IDataObject }> {
	const outcome = await runTruvNode(standIn, parameters, options).then(
		() => undefined,
		(error: Error) => error,
	);
	if (outcome === undefined) throw new Error('the Truv node did not fail');
	return outcome;
}

/** `standIn.calls` as `METHOD /path?query`, to check which Truv requests a run made. */
export function truvRequests(standIn: TruvStandIn): string[] {
	return standIn.calls.map((call) => {
		const query = new URLSearchParams(call.query).toString();
		return `${call.method} ${call.path}${query ? `?${query}` : ''}`;
	});
}
