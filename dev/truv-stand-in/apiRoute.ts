// A route of the stand-in's Truv API and who called it: what truvApi.ts dispatches to and the
// route tables (ordersApi.ts) provide.
import type { Answer, ReceivedRequest } from './httpExchange';
import type { TruvEnvironment } from './webhookRules';

/** Who called, as decided by the `X-Access-Client-Id` and `X-Access-Secret` headers. */
export interface Caller {
	clientId: string;
	env: TruvEnvironment;
}

export type RouteHandler = (request: ReceivedRequest, caller: Caller, body: unknown) => Answer;

export interface Route {
	methods: Record<string, RouteHandler>;
}
