// Builds n8n-core's real execution contexts (WebhookContext, HookContext, ExecuteContext) around the
// real node types,
// so parameters resolve with their defaults, static data is n8n's observable object and HTTP calls go
// through n8n-core's own httpRequestWithAuthentication. Only what n8n's CLI package would provide
// (the credentials store, the Express request and response) is faked here.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

import { ExecuteContext, HookContext, LoadOptionsContext, WebhookContext } from 'n8n-core';
// Not exported by n8n-core's index: see releaseSshCleanupTimer().
import { SSHClientsManager } from 'n8n-core/dist/execution-engine/ssh-clients-manager';
import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteData,
	IHttpRequestOptions,
	INode,
	INodeExecutionData,
	INodeListSearchResult,
	INodeParameters,
	INodeType,
	INodeTypes,
	ITaskDataConnections,
	IWebhookData,
	IWorkflowExecuteAdditionalData,
	NodeExecutionHint,
	WorkflowActivateMode,
	WorkflowExecuteMode,
} from 'n8n-workflow';
import { createRunExecutionData, Workflow } from 'n8n-workflow';

import { TruvApi } from '../../credentials/TruvApi.credentials';
import { processedDataStore } from './processedDataStore';
// The explicit .ts: tools run under tsx, whose resolver would otherwise find the codex file
// TruvOrderTrigger.node.json before TruvOrderTrigger.node.ts.
import { TruvOrderTrigger } from '../../nodes/TruvOrderTrigger/TruvOrderTrigger.node.ts';
import { Truv } from '../../nodes/Truv/Truv.node.ts';

export const NODE_TYPE = 'n8n-nodes-truv.truvOrderTrigger';
export const NODE_NAME = 'Truv Order Trigger';
export const ACTION_NODE_TYPE = 'n8n-nodes-truv.truv';
export const ACTION_NODE_NAME = 'Truv';
/** The type n8n gives the AI tool it generates from the Truv node (usableAsTool). */
export const ACTION_TOOL_TYPE = `${ACTION_NODE_TYPE}Tool`;
export const INSTANCE_BASE_URL = 'https://n8n.example.com/';
export const WEBHOOK_ID = '6f1b3a52-3c0e-4b7e-9d52-2f7c4e1d9a10';
export const PRODUCTION_WEBHOOK_BASE = 'https://n8n.example.com/webhook';
export const TEST_WEBHOOK_BASE = 'https://n8n.example.com/webhook-test';
export const PRODUCTION_WEBHOOK_URL = `${PRODUCTION_WEBHOOK_BASE}/${WEBHOOK_ID}/webhook`;

export const SANDBOX_SECRET = 'sandbox-0123456789abcdef0123456789abcdef';

export function truvCredentials(overrides: IDataObject = {}): ICredentialDataDecryptedObject {
	return {
		clientId: 'client-0123456789abcdef',
		accessSecret: SANDBOX_SECRET,
		environment: 'fromSecret',
		secondaryAccessSecret: '',
		baseUrl: 'https://prod.truv.com',
		...overrides,
	};
}

const nodeType = new TruvOrderTrigger();
const actionNodeType = new Truv();
const credentialType = new TruvApi();

const nodeTypeByName: Record<string, INodeType> = {
	[NODE_TYPE]: nodeType as INodeType,
	[ACTION_NODE_TYPE]: actionNodeType,
	// n8n runs the generated tool's node with the Truv node's own execute().
	[ACTION_TOOL_TYPE]: actionNodeType,
};

const nodeTypes: INodeTypes = {
	getByName: (name) => nodeTypeByName[name],
	getByNameAndVersion: (name) => nodeTypeByName[name],
	getKnownTypes: () => ({}),
};

/** Resolves `={{$credentials.name}}` the way n8n's CredentialsHelper does for generic auth. */
function authenticateWithTruvCredential(
	credentials: ICredentialDataDecryptedObject,
	requestOptions: IHttpRequestOptions,
): IHttpRequestOptions {
	const headers: IDataObject = { ...(requestOptions.headers as IDataObject) };
	for (const [name, template] of Object.entries(
		credentialType.authenticate.properties.headers ?? {},
	)) {
		const field = /^=\{\{\$credentials\.(\w+)\}\}$/.exec(String(template))?.[1];
		headers[name] = field ? credentials[field] : template;
	}
	return { ...requestOptions, headers };
}

export interface ContextOptions {
	parameters?: INodeParameters;
	credentials?: ICredentialDataDecryptedObject;
	/**
	 * Called for every read of the credential instead of returning `credentials`: to count reads,
	 * or (returning a promise) to hold reads open or make them fail.
	 */
	readCredentials?: () => ICredentialDataDecryptedObject | Promise<ICredentialDataDecryptedObject>;
	/** The id of the credential the node references. */
	credentialId?: string;
	/** The workflow's whole static data, as n8n loads it from the database. */
	staticData?: IDataObject;
	workflowId?: string;
	workflowName?: string;
	webhookBaseUrl?: string;
	webhookTestBaseUrl?: string;
	/** What `getInstanceBaseUrl()` answers, with its trailing slash as n8n gives it. */
	instanceBaseUrl?: string;
}

/** Which node of this package the workflow holds, and its node settings. */
interface NodeSpec {
	name: string;
	type: string;
	typeVersion: number;
	webhookId?: string;
	onError?: INode['onError'];
}

const TRIGGER_NODE: NodeSpec = {
	name: NODE_NAME,
	type: NODE_TYPE,
	typeVersion: 1.1,
	webhookId: WEBHOOK_ID,
};

function buildWorkflow(
	options: ContextOptions,
	spec: NodeSpec = TRIGGER_NODE,
): { workflow: Workflow; node: INode } {
	const node: INode = {
		id: 'a1b2c3d4-0000-4000-8000-000000000001',
		name: spec.name,
		type: spec.type,
		typeVersion: spec.typeVersion,
		position: [0, 0],
		...(spec.webhookId === undefined ? {} : { webhookId: spec.webhookId }),
		...(spec.onError === undefined ? {} : { onError: spec.onError }),
		parameters: options.parameters ?? {},
		credentials: { truvApi: { id: options.credentialId ?? 'cred-1', name: 'Truv sandbox' } },
	};
	const workflow = new Workflow({
		id: options.workflowId ?? 'wf-1',
		name: options.workflowName ?? 'Truv orders',
		nodes: [node],
		connections: {},
		active: true,
		nodeTypes,
		staticData: options.staticData ?? {},
	});
	// n8n-core resolves parameters against the node's defaults, as the editor saves them.
	return { workflow, node: workflow.getNode(spec.name) as INode };
}

function additionalDataFor(
	options: ContextOptions,
	extra: Partial<IWorkflowExecuteAdditionalData> = {},
): IWorkflowExecuteAdditionalData {
	const credentials = options.credentials ?? truvCredentials();
	return {
		credentialsHelper: {
			getDecrypted: async () => (await options.readCredentials?.()) ?? credentials,
			// With the credential n8n-core hands over, as n8n does: a node may pass one it read earlier.
			authenticate: async (
				decrypted: ICredentialDataDecryptedObject,
				_type: string,
				request: IHttpRequestOptions,
			) => authenticateWithTruvCredential(decrypted, request),
			// Truv's credential has no pre-authentication step (no token exchange).
			preAuthentication: async () => undefined,
			getParentTypes: () => [],
			getCredentialsProperties: () => credentialType.properties,
		},
		webhookBaseUrl: options.webhookBaseUrl ?? PRODUCTION_WEBHOOK_BASE,
		webhookTestBaseUrl: options.webhookTestBaseUrl ?? TEST_WEBHOOK_BASE,
		webhookWaitingBaseUrl: 'https://n8n.example.com/webhook-waiting',
		formWaitingBaseUrl: 'https://n8n.example.com/form-waiting',
		restApiUrl: 'https://n8n.example.com/rest',
		instanceBaseUrl: options.instanceBaseUrl ?? INSTANCE_BASE_URL,
		variables: {},
		executionId: undefined,
		...extra,
	} as unknown as IWorkflowExecuteAdditionalData;
}

/** What the fake Express response recorded. */
export interface RecordedResponse {
	statusCode: number;
	body: unknown;
	headers: Record<string, string>;
	sent: boolean;
}

/**
 * The parts of Express's response the trigger uses, with the events of Node's: `finish` once the
 * answer is sent, then `close`.
 */
function fakeExpressResponse(recorded: RecordedResponse) {
	const events = new EventEmitter();
	const sent = () => {
		recorded.sent = true;
		events.emit('finish');
		events.emit('close');
	};
	const response = {
		get statusCode() {
			return recorded.statusCode;
		},
		status(code: number) {
			recorded.statusCode = code;
			return response;
		},
		setHeader(name: string, value: string) {
			recorded.headers[name.toLowerCase()] = value;
			return response;
		},
		json(body: unknown) {
			if (recorded.sent) throw new Error('response sent twice');
			recorded.headers['content-type'] = 'application/json';
			recorded.body = body;
			sent();
			return response;
		},
		send(body: unknown) {
			if (recorded.sent) throw new Error('response sent twice');
			recorded.body = body;
			sent();
			return response;
		},
		end() {
			sent();
			return response;
		},
		get headersSent() {
			return recorded.sent;
		},
		once(event: string, listener: () => void) {
			events.once(event, listener);
			return response;
		},
		on(event: string, listener: () => void) {
			events.on(event, listener);
			return response;
		},
		/** The client closes the connection before an answer (Truv gives up after 10 s). */
		clientHangsUp() {
			events.emit('close');
		},
		/** A new request on the same response object: listeners of the last one are gone. */
		reset() {
			events.removeAllListeners();
			Object.assign(recorded, { statusCode: 200, body: undefined, headers: {}, sent: false });
		},
	};
	return response;
}

export interface DeliveryRequest extends ContextOptions {
	rawBody: Buffer | string | undefined;
	headers?: Record<string, string | string[] | undefined>;
	mode?: WorkflowExecuteMode;
	/** Leave the body for the node to read, as n8n does for content types it does not parse. */
	bodyUnread?: boolean;
	/**
	 * n8n storing the execution before it sends the node's webhookResponse: resolves false when
	 * storing fails, and n8n then answers 500. Stored at once by default.
	 */
	storeExecution?: () => Promise<boolean>;
	/** The client closes the connection while n8n is still storing the execution. */
	clientHangsUpWhileStoring?: boolean;
}

export interface DeliveryResult {
	status: number;
	body: IDataObject;
	/** What n8n would start the workflow with: one array per output, or undefined for none. */
	workflowData: INodeExecutionData[][] | undefined;
	staticData: IDataObject;
	workflow: Workflow;
	/** Who sent the answer: the node itself, or n8n from the node's webhookResponse. */
	answeredBy: 'node' | 'n8n';
	/**
	 * What the node threw after answering: n8n then stores a failed execution with this error
	 * (the trigger's node marked as failed) instead of running the workflow.
	 */
	failedExecutionError?: Error;
}

function normaliseHeaders(
	headers: DeliveryRequest['headers'] = {},
): Record<string, string | string[]> {
	const normalised: Record<string, string | string[]> = { 'content-type': 'application/json' };
	for (const [name, value] of Object.entries(headers)) {
		if (value !== undefined) normalised[name.toLowerCase()] = value;
	}
	return normalised;
}

export interface DeliveryRunner {
	/** Sends one request through the same workflow, node and WebhookContext. */
	run(
		rawBody: Buffer | undefined,
		headers?: DeliveryRequest['headers'],
		storeExecution?: DeliveryRequest['storeExecution'],
		clientHangsUpWhileStoring?: boolean,
	): Promise<DeliveryResult>;
	workflow: Workflow;
}

/**
 * A WebhookContext kept for many requests, as n8n keeps one workflow per webhook call; benchmarks
 * use it so that they time the node, not the building of n8n's objects.
 */
export function deliveryRunner(
	options: Omit<DeliveryRequest, 'rawBody' | 'headers'>,
): DeliveryRunner {
	const { workflow, node } = buildWorkflow(options);
	const recorded: RecordedResponse = { statusCode: 200, body: undefined, headers: {}, sent: false };
	const httpRequest: IDataObject = { method: 'POST', body: {}, query: {}, params: {} };
	const httpResponse = fakeExpressResponse(recorded);
	const additionalData = additionalDataFor(options, {
		httpRequest: httpRequest as unknown as IWorkflowExecuteAdditionalData['httpRequest'],
		httpResponse: httpResponse as unknown as IWorkflowExecuteAdditionalData['httpResponse'],
	});
	const webhookData = {
		httpMethod: 'POST',
		node: node.name,
		path: 'webhook',
		webhookDescription: nodeType.description.webhooks![0],
		workflowId: workflow.id,
	} as unknown as IWebhookData;
	const context = new WebhookContext(
		workflow,
		node,
		additionalData,
		options.mode ?? 'webhook',
		webhookData,
		[],
		null,
	);
	return {
		workflow,
		async run(
			rawBody,
			headers,
			storeExecution = options.storeExecution,
			clientHangsUpWhileStoring = options.clientHangsUpWhileStoring,
		) {
			httpResponse.reset();
			httpRequest.headers = normaliseHeaders(headers);
			httpRequest.rawBody = rawBody;
			delete httpRequest.readRawBody;
			if (options.bodyUnread) {
				// n8n leaves the body unread for content types it does not parse, and offers readRawBody().
				httpRequest.rawBody = undefined;
				httpRequest.readRawBody = async () => {
					httpRequest.rawBody = rawBody;
				};
			}
			let result: Awaited<ReturnType<typeof nodeType.webhook>>;
			let failedExecutionError: Error | undefined;
			try {
				result = await nodeType.webhook.call(context);
			} catch (error) {
				// Without an answer, n8n would send Truv a 500: a thrown error is then the test's.
				if (!recorded.sent) throw error;
				failedExecutionError = error as Error;
				result = { noWebhookResponse: true };
			}
			const answeredBy = recorded.sent ? 'node' : 'n8n';
			if (!recorded.sent && result.webhookResponse !== undefined) {
				// What n8n does for `responseData: ''` once it has stored the execution, or when
				// storing fails.
				const storing = storeExecution?.() ?? Promise.resolve(true);
				if (clientHangsUpWhileStoring) httpResponse.clientHangsUp();
				if (await storing) {
					httpResponse.status(200).json(result.webhookResponse);
				} else {
					httpResponse.status(500).json({ code: 0, message: 'Error in workflow' });
				}
			}
			if (!recorded.sent) {
				throw new Error('the node neither answered the request nor returned a response');
			}
			return {
				status: recorded.statusCode,
				body: recorded.body as IDataObject,
				workflowData: result.workflowData,
				staticData: workflow.staticData,
				workflow,
				answeredBy,
				...(failedExecutionError === undefined ? {} : { failedExecutionError }),
			};
		},
	};
}

/**
 * Runs the node's real webhook() for one request, in n8n-core's WebhookContext, as n8n's webhook
 * server does after reading the body into `rawBody` (with lowercased header names).
 */
export async function deliver(request: DeliveryRequest): Promise<DeliveryResult> {
	const rawBody =
		typeof request.rawBody === 'string' ? Buffer.from(request.rawBody, 'utf8') : request.rawBody;
	return await deliveryRunner(request).run(rawBody, request.headers);
}

export interface HookOptions extends ContextOptions {
	isTest?: boolean;
	activation?: WorkflowActivateMode;
	/**
	 * The mode n8n runs the hook in: 'manual' for a test URL's checkExists and create, 'internal'
	 * for the delete that ends a test run; 'trigger' by default otherwise.
	 */
	mode?: WorkflowExecuteMode;
}

/** n8n-core's HookContext, as n8n builds it to run webhookMethods on (de)activation. */
export function hookContext(options: HookOptions): { context: HookContext; workflow: Workflow } {
	const { workflow, node } = buildWorkflow(options);
	const webhookData = { isTest: options.isTest ?? false } as IWebhookData;
	const context = new HookContext(
		workflow,
		node,
		additionalDataFor(options),
		options.mode ?? (options.isTest ? 'manual' : 'trigger'),
		options.activation ?? 'activate',
		webhookData,
	);
	return { context, workflow };
}

/** The logger class n8n-core's contexts hand out (n8n-core's own copy), for watching n8n's log. */
export function n8nCoreLogger(): typeof import('@n8n/backend-common').Logger {
	return (
		createRequire(require.resolve('n8n-core'))(
			'@n8n/backend-common',
		) as typeof import('@n8n/backend-common')
	).Logger;
}

/**
 * ExecuteContext hands every node SSH tunnel helpers from n8n-core's process-wide
 * SSHClientsManager, whose cleanup interval n8n clears only on shutdown: unreferenced, it no
 * longer keeps a test run or a tool's process alive once its work is done.
 */
function releaseSshCleanupTimer(): void {
	// n8n-core's own copy of its DI container: the package may hold another version of it.
	const { Container } = createRequire(require.resolve('n8n-core'))(
		'@n8n/di',
	) as typeof import('@n8n/di');
	const manager = Container.get(SSHClientsManager) as unknown as { cleanupTimer?: NodeJS.Timeout };
	manager.cleanupTimer?.unref();
}

export interface TriggerExecutionOptions extends ContextOptions {
	/** What webhook() emitted: one array of items per output. */
	outputs: INodeExecutionData[][];
	mode?: WorkflowExecuteMode;
}

/**
 * n8n-core's ExecuteContext for the trigger's step in the execution a delivery started, as
 * n8n's WorkflowExecute builds it for a start node: webhook()'s outputs are its input.
 */
export function triggerExecution(options: TriggerExecutionOptions): {
	workflow: Workflow;
	/** The hints the step added, as n8n shows them in the output pane. */
	hints: NodeExecutionHint[];
	run(): Promise<INodeExecutionData[][]>;
} {
	processedDataStore();
	const { workflow, node } = buildWorkflow(options);
	const inputData: ITaskDataConnections = { main: options.outputs };
	const context = new ExecuteContext(
		workflow,
		node,
		additionalDataFor(options),
		options.mode ?? 'webhook',
		createRunExecutionData(),
		0,
		options.outputs.find((items) => items.length > 0) ?? [],
		inputData,
		{ node, data: inputData, source: null },
		[],
	);
	releaseSshCleanupTimer();
	return {
		workflow,
		hints: (context as unknown as { hints: NodeExecutionHint[] }).hints,
		run: async () => (await nodeType.execute!.call(context)) as INodeExecutionData[][],
	};
}

export interface ExecuteOptions extends ContextOptions {
	/** The Truv node's version in the workflow: 1 (a workflow saved before 2) by default. */
	typeVersion?: number;
	/** Run as the AI tool n8n generates from the node, as an AI Agent calls it. */
	asTool?: boolean;
	/** The items the node receives; one empty item (as after a manual trigger) by default. */
	inputItems?: INodeExecutionData[];
	/** The node's On Error setting: 'continueRegularOutput' is n8n's Continue (continueOnFail). */
	onError?: INode['onError'];
	mode?: WorkflowExecuteMode;
}

export interface ExecuteRun {
	context: ExecuteContext;
	workflow: Workflow;
	/** Runs the Truv node's execute() in the context: what n8n passes to the next node. */
	run(): Promise<INodeExecutionData[][]>;
}

/**
 * n8n-core's ExecuteContext for the Truv action node, as n8n's WorkflowExecute builds it for a
 * node with one main input: the input items, their source and a fresh run's execution data.
 */
export function executeContext(options: ExecuteOptions = {}): ExecuteRun {
	const { workflow, node } = buildWorkflow(options, {
		name: ACTION_NODE_NAME,
		type: options.asTool ? ACTION_TOOL_TYPE : ACTION_NODE_TYPE,
		typeVersion: options.typeVersion ?? 1,
		onError: options.onError,
	});
	const items = options.inputItems ?? [{ json: {} }];
	const inputData: ITaskDataConnections = { main: [items] };
	const executeData: IExecuteData = {
		node,
		data: inputData,
		source: { main: [{ previousNode: 'When clicking ‘Execute workflow’' }] },
	};
	const context = new ExecuteContext(
		workflow,
		node,
		additionalDataFor(options),
		options.mode ?? 'manual',
		createRunExecutionData(),
		0,
		items,
		inputData,
		executeData,
		[],
	);
	releaseSshCleanupTimer();
	return {
		context,
		workflow,
		run: async () => (await actionNodeType.execute.call(context)) as INodeExecutionData[][],
	};
}

/**
 * n8n-core's LoadOptionsContext for the Truv node, as n8n builds it when the editor asks a
 * resource locator's list: `search` calls the node's listSearch method in it.
 */
export function listSearchContext(options: ContextOptions & { typeVersion?: number } = {}): {
	context: LoadOptionsContext;
	search(method: string, filter?: string, paginationToken?: string): Promise<INodeListSearchResult>;
} {
	const { workflow, node } = buildWorkflow(options, {
		name: ACTION_NODE_NAME,
		type: ACTION_NODE_TYPE,
		typeVersion: options.typeVersion ?? 2,
	});
	const context = new LoadOptionsContext(workflow, node, additionalDataFor(options), '');
	return {
		context,
		search: async (method, filter, paginationToken) => {
			const search = actionNodeType.methods.listSearch[
				method as keyof typeof actionNodeType.methods.listSearch
			] as (
				this: LoadOptionsContext,
				filter?: string,
				paginationToken?: string,
			) => Promise<INodeListSearchResult>;
			return await search.call(context, filter, paginationToken);
		},
	};
}

export const truvOrderTrigger = nodeType;
export const truvActionNode = actionNodeType;
