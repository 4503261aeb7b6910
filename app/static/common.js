// Shared by every GazeScope component (prepended to each js_on_load): one page-wide bus for
// cross-component events and one keydown listener, installed once, that ignores keys typed
// into text fields and dispatches the rest to handlers the components register by key.
(function () {
  if (window.__gs) return;
  // handlers are keyed by owner, so a component mounted again replaces its old handlers
  const gs = { keys: {}, handlers: {} };
  gs.on = (name, owner, fn) => { (gs.handlers[name] = gs.handlers[name] || {})[owner] = fn; };
  gs.emit = (name, detail) => Object.values(gs.handlers[name] || {}).forEach((fn) => fn(detail));
  gs.bindKeys = (owner, map) => {
    for (const [k, fn] of Object.entries(map)) gs.keys[k] = { owner, fn };
  };
  function typing(t) {
    if (!t || !t.tagName) return false;
    const tag = t.tagName.toLowerCase();
    if (tag === 'textarea' || tag === 'select' || t.isContentEditable) return true;
    if (tag !== 'input') return false;
    const ty = (t.type || 'text').toLowerCase();
    return !['checkbox', 'radio', 'button', 'range', 'submit', 'reset', 'file', 'color'].includes(ty);
  }
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    const h = gs.keys[e.key];
    if (!h) return;
    e.preventDefault();
    h.fn(e);
  });
  // A component's values come from the fast path (the bus) and from queued events (watch).
  // receiver(draw) returns a function that draws a value unless it answers an older open than
  // one already drawn (value.req), or repeats the last value drawn (opening the open case again
  // must not redraw the report under a sentence being edited).
  gs.receiver = (draw) => {
    let req = 0, last = null;
    return (value) => {
      if (value && typeof value.req === 'number') {
        if (value.req < req) return;
        req = value.req;
      }
      const { req: _, ...rest } = value || {};
      const json = value ? JSON.stringify(rest) : null;
      if (json === last) return;
      last = json;
      draw(value);
    };
  };
  window.__gs = gs;
})();
const gs = window.__gs;
