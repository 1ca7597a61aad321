import { eventCreatedAt, eventTooOld } from '../../../nodes/TruvOrderTrigger/eventAge';

const NOW = Date.UTC(2024, 6, 11, 22, 40, 48);

describe('eventCreatedAt', () => {
	test.each([
		['2024-07-11T21:40:48.424610Z', Date.UTC(2024, 6, 11, 21, 40, 48, 424)],
		['2024-07-11T21:40:48.424655+00:00', Date.UTC(2024, 6, 11, 21, 40, 48, 424)],
		['2024-07-11T23:40:48+02:00', Date.UTC(2024, 6, 11, 21, 40, 48)],
		['2024-07-11T21:40:48', Date.UTC(2024, 6, 11, 21, 40, 48)],
	])('reads %s', (createdAt, expected) => {
		expect(eventCreatedAt({ event_created_at: createdAt })).toBe(expected);
	});

	test.each([undefined, null, 1720734048, '', 'yesterday', '1', '2024-13-45T99:99:99Z'])(
		'reads no time from %p',
		(createdAt) => {
			expect(eventCreatedAt({ event_created_at: createdAt })).toBeUndefined();
		},
	);
});

describe('eventTooOld', () => {
	test('an event older than the maximum age is too old, and says by how much', () => {
		expect(eventTooOld({ event_created_at: '2024-07-11T21:40:47.000Z' }, 60, NOW)).toBe(
			"The event was created at 2024-07-11T21:40:47.000Z, 60 minutes ago, longer ago than this trigger's Maximum Event Age of 60 minutes; the workflow was not started",
		);
	});

	test('an event exactly as old as the maximum, newer, or from the future is not', () => {
		expect(eventTooOld({ event_created_at: '2024-07-11T21:40:48Z' }, 60, NOW)).toBeUndefined();
		expect(eventTooOld({ event_created_at: '2024-07-11T22:30:00Z' }, 60, NOW)).toBeUndefined();
		expect(eventTooOld({ event_created_at: '2024-07-12T00:00:00Z' }, 60, NOW)).toBeUndefined();
	});

	test('an event without a readable time is not', () => {
		expect(eventTooOld({}, 1, NOW)).toBeUndefined();
		expect(eventTooOld({ event_created_at: 'soon' }, 1, NOW)).toBeUndefined();
	});
});
