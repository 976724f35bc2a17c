/** One server-sent event as the dashboard's stream writes it (`event:` + `data:` lines). */
export interface StreamEvent {
  event: string;
  data: string;
}

/**
 * Reads a server-sent event stream over a real socket (the dashboard's `/__admin/ui/events`),
 * collecting every event as it arrives. Comments (`: keep-alive`) and `retry:` lines are skipped.
 *
 * @example
 * const stream = await openEventStream(`${base}/__admin/ui/events`);
 * await stream.waitFor((e) => e.event === 'change' && e.data.includes(hash));
 * await stream.close();
 */
export async function openEventStream(url: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  const events: StreamEvent[] = [];
  const state = { ended: false };
  let buffer = '';
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const pump = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          state.ended = true;
          return;
        }
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = '';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (event || data.length > 0) events.push({ event: event || 'message', data: data.join('\n') });
        }
      }
    } catch {
      // aborted by close(), or the server went away
      state.ended = true;
    }
  })();
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    events,
    /** True once the server ended the stream (or close() was called). */
    get ended() {
      return state.ended;
    },
    /** Resolves with the first event (already seen or still to come) that matches; rejects after `ms`. */
    async waitFor(match: (e: StreamEvent) => boolean, ms = 5_000): Promise<StreamEvent> {
      const until = Date.now() + ms;
      for (;;) {
        const hit = events.find(match);
        if (hit) return hit;
        if (Date.now() > until)
          throw new Error(`no matching event in ${ms} ms; saw ${JSON.stringify(events.slice(-5))}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async close() {
      abort.abort();
      await pump;
    },
  };
}

export type EventStream = Awaited<ReturnType<typeof openEventStream>>;
