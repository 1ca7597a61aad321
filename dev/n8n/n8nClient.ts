// The editor's REST API (`/rest`, as the instance owner) and the public API (`/api/v1`, with an API
// key) of one n8n, as the harness drives it: sign-in, credentials, workflows, executions, node types
// and the Community Nodes installer.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { HttpError, request, type HttpResponse } from './http';
import { HARNESS_BROWSER_ID } from './n8nProcess';
import { n8nRuntimeSpec, type AnyN8nVersion } from './runtimes';
import { waitFor, type WaitOptions } from './wait';

export interface Owner {
	email: string;
	password: string;
	firstName: string;
	lastName: string;
}

export interface CreatedCredential {
	id: string;
	name: string;
	type: string;
	/** The data the credential was created with, as the editor's form would hold it. */
	data: Record<string, unknown>;
}

export interface CredentialTestResult {
	status: 'OK' | 'Error';
	message: string;
}

export interface WorkflowJson {
	name: string;
	nodes: Array<Record<string, unknown>>;
	connections: Record<string, unknown>;
	settings?: Record<string, unknown>;
	staticData?: unknown;
	[field: string]: unknown;
}

export interface Workflow extends WorkflowJson {
	id: string;
	active: boolean;
}

export type ExecutionStatus =
	| 'canceled'
	| 'crashed'
	| 'error'
	| 'new'
	| 'running'
	| 'success'
	| 'unknown'
	| 'waiting';

export interface Execution {
	id: string;
	workflowId: string;
	status: ExecutionStatus;
	mode: string;
	finished: boolean;
	startedAt: string;
	stoppedAt: string | null;
	/** Present with includeData; `resultData.runData[nodeName][run].data.main[output][item].json`. */
	data?: ExecutionData;
	[field: string]: unknown;
}

export interface ExecutionData {
	resultData: {
		runData: Record<string, Array<{ data?: { main?: Array<Array<{ json: unknown }> | null> } }>>;
		error?: { message: string; [field: string]: unknown };
		lastNodeExecuted?: string;
	};
	[field: string]: unknown;
}

export interface ExecutionQuery {
	workflowId?: string;
	includeData?: boolean;
	status?: 'canceled' | 'error' | 'running' | 'success' | 'waiting';
}

/** A row of the Community Nodes settings page (`GET /rest/community-packages`). */
export interface CommunityPackage {
	packageName: string;
	installedVersion: string;
	/** Set when the registry has a newer version (n8n runs `npm outdated`). */
	updateAvailable?: string;
	failedLoading?: boolean;
	installedNodes: Array<{ name: string; type: string; latestVersion: number }>;
}

export interface N8nClient {
	readonly owner: Owner;
	/** A key for the public API (`X-N8N-API-KEY`) with every scope the owner may grant. */
	readonly apiKey: string;
	/** Signs in as the owner (creating it on a fresh instance) and makes sure an API key exists. */
	signIn(): Promise<void>;
	/** The editor's REST API as the owner; returns the `data` of the answer. */
	rest<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
	/** The public API with the API key; returns the answer's JSON. */
	api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
	createCredential(
		type: string,
		name: string,
		data: Record<string, unknown>,
	): Promise<CreatedCredential>;
	/** What the credential modal's Test button does; `data` defaults to the created data. */
	testCredential(
		credential: CreatedCredential,
		data?: Record<string, unknown>,
	): Promise<CredentialTestResult>;
	createWorkflow(workflow: WorkflowJson): Promise<Workflow>;
	getWorkflow(id: string): Promise<Workflow>;
	activateWorkflow(id: string): Promise<Workflow>;
	deactivateWorkflow(id: string): Promise<Workflow>;
	/** Every node type n8n has loaded, with the type versions it knows of each, ascending. */
	nodeTypes(): Promise<Map<string, number[]>>;
	/** Every credential type n8n has loaded, by name. */
	credentialTypes(): Promise<string[]>;
	/** Every execution matching the query, newest first. */
	executions(query?: ExecutionQuery): Promise<Execution[]>;
	/** Resolves with the matching executions once at least `count` of them have finished. */
	waitForExecutions(query: ExecutionQuery & { count: number } & WaitOptions): Promise<Execution[]>;
	/** Settings → Community Nodes → Install: n8n fetches the package from its npm registry. */
	installCommunityPackage(name: string, version?: string): Promise<CommunityPackage>;
	/** The Update button of an installed package. */
	updateCommunityPackage(name: string, version?: string): Promise<CommunityPackage>;
	/** The Uninstall button of an installed package. */
	uninstallCommunityPackage(name: string): Promise<void>;
	/** What the Community Nodes settings page lists. */
	communityPackages(): Promise<CommunityPackage[]>;
}

interface ClientState {
	owner: Owner;
	apiKey?: string;
}

const stateFileName = 'n8n-harness.json';
const defaultOwner: Owner = {
	email: 'owner@n8n-nodes-truv.test',
	// n8n requires 8+ characters with a digit and an upper-case letter.
	password: 'Harness-Passw0rd',
	firstName: 'Harness',
	lastName: 'Owner',
};

const finishedStatuses: ExecutionStatus[] = ['success', 'error', 'crashed', 'canceled'];

/** Keys the public API accepts when creating a workflow; it rejects any other. */
const workflowCreateKeys = ['name', 'nodes', 'connections', 'settings', 'staticData'];

/**
 * A client for the n8n at `baseUrl`. The owner and API key are kept in `userFolder`, so a client
 * for a restarted instance signs in as the same owner.
 */
export function createN8nClient(
	version: AnyN8nVersion,
	baseUrl: string,
	userFolder: string,
): N8nClient {
	const stateFile = join(userFolder, stateFileName);
	const state: ClientState = existsSync(stateFile)
		? (JSON.parse(readFileSync(stateFile, 'utf8')) as ClientState)
		: { owner: defaultOwner };
	let authCookie = '';

	const restRaw = async (method: string, path: string, body?: unknown): Promise<HttpResponse> => {
		const url = `${baseUrl}/rest${path}`;
		const answer = await request(url, {
			method,
			body,
			// n8n binds the auth cookie to the browser id sent when it was issued.
			headers: { 'browser-id': HARNESS_BROWSER_ID, ...(authCookie ? { cookie: authCookie } : {}) },
			// Installing a package runs npm inside n8n.
			timeoutMs: 180_000,
		});
		if (answer.status >= 400) throw new HttpError(method, url, answer);
		return answer;
	};

	const rest = async <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => {
		const answer = await restRaw(method, path, body);
		return (answer.json as { data: T }).data;
	};

	const rememberCookie = (answer: HttpResponse): void => {
		const cookies = answer.headers['set-cookie'] ?? [];
		const auth = cookies.find((cookie) => cookie.startsWith('n8n-auth='));
		if (!auth) throw new Error(`n8n set no auth cookie: ${JSON.stringify(answer.headers)}`);
		authCookie = auth.split(';')[0];
	};

	const api = async <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => {
		if (!state.apiKey) throw new Error('no API key yet');
		const url = `${baseUrl}/api/v1${path}`;
		const answer = await request(url, {
			method,
			body,
			headers: { 'x-n8n-api-key': state.apiKey },
		});
		if (answer.status >= 400) throw new HttpError(method, url, answer);
		return answer.json as T;
	};

	const editorFile = async <T>(path: string): Promise<T> => {
		const url = `${baseUrl}${path}`;
		const answer = await request(url, {
			headers: { 'browser-id': HARNESS_BROWSER_ID, cookie: authCookie },
		});
		if (answer.status !== 200) throw new HttpError('GET', url, answer);
		return answer.json as T;
	};

	/** The type versions of every node type n8n loaded, from the files the editor reads. */
	const loadedNodeTypes = async (): Promise<Map<string, number[]>> => {
		const known = new Map<string, number[]>();
		// A versioned node may describe one version in several entries of nodes.json.
		const add = (type: string, versions: number[]): void => {
			const merged = new Set([...(known.get(type) ?? []), ...versions]);
			known.set(
				type,
				[...merged].sort((a, b) => a - b),
			);
		};
		try {
			// `<type>@<version>` each: a few kilobytes where nodes.json is megabytes.
			for (const identifier of await editorFile<string[]>('/types/node-versions.json')) {
				const at = identifier.lastIndexOf('@');
				add(identifier.slice(0, at), [Number(identifier.slice(at + 1))]);
			}
			return known;
		} catch (error) {
			// n8n 1.x never writes node-versions.json; every description in nodes.json names its
			// type and version(s), a number or, for a node with several, an array of them.
			if (!(error instanceof HttpError && error.response.status === 404)) throw error;
		}
		const descriptions =
			await editorFile<Array<{ name: string; version: number | number[] }>>('/types/nodes.json');
		for (const { name, version: versions } of descriptions) {
			add(name, Array.isArray(versions) ? versions : [versions]);
		}
		return known;
	};

	const listExecutions = async (query: ExecutionQuery = {}): Promise<Execution[]> => {
		const all: Execution[] = [];
		let cursor: string | undefined;
		do {
			const parameters = new URLSearchParams({ limit: '250' });
			if (query.workflowId) parameters.set('workflowId', query.workflowId);
			if (query.includeData) parameters.set('includeData', 'true');
			if (query.status) parameters.set('status', query.status);
			if (cursor) parameters.set('cursor', cursor);
			const page = await api<{ data: Execution[]; nextCursor: string | null }>(
				'GET',
				`/executions?${parameters.toString()}`,
			);
			all.push(...page.data);
			cursor = page.nextCursor ?? undefined;
		} while (cursor);
		return all;
	};

	const [publishRoute, unpublishRoute] = n8nRuntimeSpec(version).publishRoutes;

	return {
		get owner() {
			return state.owner;
		},
		get apiKey() {
			return state.apiKey ?? '';
		},
		async signIn() {
			const settings = await request(`${baseUrl}/rest/settings`, {
				headers: { 'browser-id': HARNESS_BROWSER_ID },
			});
			const showSetupOnFirstLoad = (
				settings.json as { data?: { userManagement?: { showSetupOnFirstLoad?: boolean } } }
			)?.data?.userManagement?.showSetupOnFirstLoad;
			if (showSetupOnFirstLoad) {
				rememberCookie(await restRaw('POST', '/owner/setup', state.owner));
			} else {
				rememberCookie(
					await restRaw('POST', '/login', {
						emailOrLdapLoginId: state.owner.email,
						password: state.owner.password,
					}),
				);
			}
			if (!state.apiKey) {
				// Without the API-key-scopes licence n8n grants every scope of the role whatever is
				// asked; asking for exactly those works with and without it.
				const scopes = await rest<string[]>('GET', '/api-keys/scopes');
				const created = await rest<{ rawApiKey: string }>('POST', '/api-keys', {
					label: 'e2e harness',
					expiresAt: null,
					scopes,
				});
				state.apiKey = created.rawApiKey;
			}
			writeFileSync(stateFile, JSON.stringify(state, null, 2));
		},
		rest,
		api,
		async createCredential(type, name, data) {
			const created = await rest<{ id: string; name: string; type: string }>(
				'POST',
				'/credentials',
				{ type, name, data },
			);
			return { id: created.id, name: created.name, type: created.type, data };
		},
		async testCredential(credential, data = credential.data) {
			return await rest<CredentialTestResult>('POST', '/credentials/test', {
				credentials: { id: credential.id, name: credential.name, type: credential.type, data },
			});
		},
		async createWorkflow(workflow) {
			const body: Record<string, unknown> = { settings: {} };
			for (const key of workflowCreateKeys) {
				if (workflow[key] !== undefined) body[key] = workflow[key];
			}
			return await api<Workflow>('POST', '/workflows', body);
		},
		getWorkflow: async (id) => await api<Workflow>('GET', `/workflows/${id}`),
		activateWorkflow: async (id) =>
			await api<Workflow>('POST', `/workflows/${id}/${publishRoute}`, {}),
		deactivateWorkflow: async (id) =>
			await api<Workflow>('POST', `/workflows/${id}/${unpublishRoute}`, {}),
		nodeTypes: loadedNodeTypes,
		async credentialTypes() {
			const types = await editorFile<Array<{ name: string }>>('/types/credentials.json');
			return types.map(({ name }) => name);
		},
		executions: listExecutions,
		async waitForExecutions({ count, timeoutMs, intervalMs, description, ...query }) {
			return await waitFor(
				async () => {
					const executions = await listExecutions(query);
					const finished = executions.filter((execution) =>
						finishedStatuses.includes(execution.status),
					);
					if (finished.length < count) {
						throw new Error(`${finished.length} finished of ${executions.length} so far`);
					}
					return finished;
				},
				{
					timeoutMs,
					intervalMs: intervalMs ?? 500,
					description: description ?? `${count} finished execution(s)`,
				},
			);
		},
		installCommunityPackage: async (name, packageVersion) =>
			await rest<CommunityPackage>('POST', '/community-packages', {
				name,
				...(packageVersion ? { version: packageVersion } : {}),
			}),
		updateCommunityPackage: async (name, packageVersion) =>
			await rest<CommunityPackage>('PATCH', '/community-packages', {
				name,
				...(packageVersion ? { version: packageVersion } : {}),
			}),
		async uninstallCommunityPackage(name) {
			await restRaw('DELETE', `/community-packages?name=${encodeURIComponent(name)}`);
		},
		communityPackages: async () => await rest<CommunityPackage[]>('GET', '/community-packages'),
	};
}
