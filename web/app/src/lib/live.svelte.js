// Connection state of the live channel, shown by <LiveIndicator>.
// status: 'idle' (no live data on this page) | 'connecting' | 'live' | 'reconnecting'
export const live = $state({ status: 'idle', since: null, lastEventAt: null });
