// dom: elements built from data. Text always goes in as text nodes (never as HTML), so
// whatever a citizen said is shown as typed, never run.

// h('tr', {class: 'x', testid: 'inbox-row', onclick: f}, child, 'text', [more]) -> Element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'testid') el.setAttribute('data-testid', v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Replace everything inside el.
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// A labelled field: field('文本', input) -> [label, input].
export function field(text, input) {
  const id = input.id || ('f' + Math.random().toString(36).slice(2, 9));
  input.id = id;
  return [h('label', {for: id}, text), input];
}

export function option(value, text, selected) {
  return h('option', {value, selected: selected || null}, text);
}

// "2026-11-28T09:30:00+08:00" -> "11-28 09:30"
export function shortTime(ts) {
  if (!ts) return '';
  const m = /^\d{4}-(\d\d-\d\d)T(\d\d:\d\d)/.exec(ts);
  return m ? m[1] + ' ' + m[2] : ts;
}

export function percent(rate) {
  return rate === null || rate === undefined ? '—' : (rate * 100).toFixed(1) + '%';
}

export function errorText(e) {
  if (e && e.status === 0) return '无法连接服务器';
  return (e && e.message) || String(e);
}
