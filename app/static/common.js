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
  window.__gs = gs;
})();
const gs = window.__gs;
