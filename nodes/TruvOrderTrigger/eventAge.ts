import type { IDataObject } from 'n8n-workflow';

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const TIME_ZONE = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/** When Truv created the event, by its event_created_at; undefined when it has no readable one. */
export function eventCreatedAt(payload: IDataObject): number | undefined {
	const createdAt = payload.event_created_at;
	if (typeof createdAt !== 'string' || !ISO_DATE_TIME.test(createdAt)) return undefined;
	// Truv writes UTC with a Z; one without a zone is taken as UTC too, not as this n8n's local time.
	const time = Date.parse(TIME_ZONE.test(createdAt) ? createdAt : `${createdAt}Z`);
	return Number.isNaN(time) ? undefined : time;
}

/**
 * Why the event is too old for Maximum Event Age, or undefined when it is not (or cannot tell:
 * an event without a readable event_created_at is never skipped, since skipping would lose it).
 */
export function eventTooOld(
	payload: IDataObject,
	maxAgeMinutes: number,
	now: number,
): string | undefined {
	const createdAt = eventCreatedAt(payload);
	if (createdAt === undefined) return undefined;
	const ageMinutes = (now - createdAt) / 60_000;
	if (ageMinutes <= maxAgeMinutes) return undefined;
	return `The event was created at ${String(payload.event_created_at)}, ${Math.floor(ageMinutes)} minutes ago, longer ago than this trigger's Maximum Event Age of ${maxAgeMinutes} minutes; the workflow was not started`;
}
