// stream: GET /v1/stream read with fetch (EventSource cannot send the Authorization header).
// Reconnects with Last-Event-ID after a drop; stop() ends it.
import {authHeaders} from './api.js';

export function openStream(onEvent, onState) {
  const ctl = {stopped: false, abort: null, lastId: null};
  run(ctl, onEvent, onState || (() => {}));
  return {stop() { ctl.stopped = true; if (ctl.abort) ctl.abort.abort(); }};
}

async function run(ctl, onEvent, onState) {
  while (!ctl.stopped) {
    ctl.abort = new AbortController();
    const headers = authHeaders();
    if (ctl.lastId !== null) headers['Last-Event-ID'] = ctl.lastId;
    try {
      const r = await fetch('/v1/stream', {headers, signal: ctl.abort.signal});
      if (r.ok && r.body) {
        onState(true);
        await readFrames(r.body.getReader(), ctl, onEvent);
      }
    } catch (e) {
      // aborted or dropped: reconnect below unless stopped
    }
    onState(false);
    if (!ctl.stopped) await new Promise((res) => setTimeout(res, 3000));
  }
}

async function readFrames(reader, ctl, onEvent) {
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (done || ctl.stopped) return;
    buf += decoder.decode(value, {stream: true});
    let at;
    while ((at = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, at);
      buf = buf.slice(at + 2);
      const ev = {};
      for (const line of frame.split('\n')) {
        if (line.startsWith(':')) continue;
        const i = line.indexOf(': ');
        if (i > 0) ev[line.slice(0, i)] = line.slice(i + 2);
      }
      if (ev.id) ctl.lastId = ev.id;
      if (ev.data) {
        try { onEvent(JSON.parse(ev.data)); } catch (e) { /* a frame we do not understand */ }
      }
    }
  }
}
