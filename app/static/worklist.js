// The worklist: one row per case with its review status for the signed-in reader. Opening a
// case goes through Python (trigger 'open_case'); the open case is kept in the URL hash so a
// reload reopens it. J/K (or arrow keys) move through the list.
const root = element.querySelector('.gs-worklist');
const W = { data: null, restored: false };
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const LABEL = { unread: 'unread', in_progress: 'in progress', reviewed: 'reviewed' };

function open(sha) {
  if (!sha) return;
  W.data.current = sha;
  root.querySelectorAll('.gs-case').forEach((c) => c.classList.toggle('gs-current', c.dataset.case === sha));
  history.replaceState(null, '', '#case=' + sha);
  root.dataset.opening = sha;
  trigger('open_case', { case: sha });
}

function render(d) {
  W.data = d || { cases: [] };
  root.querySelector('.gs-wl-user').textContent = d && d.user ? d.user + (d.arm ? ' · arm ' + d.arm : '') : '';
  root.querySelector('.gs-wl-items').innerHTML = (W.data.cases || []).map((c, i) => `
    <div class="gs-case${c.sha256 === W.data.current ? ' gs-current' : ''}" data-case="${esc(c.sha256)}" data-status="${esc(c.status)}" title="${esc(c.note || '')}">
      <div class="gs-case-name">${i + 1}. ${esc(c.name)}</div>
      <div class="gs-case-meta"><span class="gs-status gs-status-${esc(c.status)}">${esc(LABEL[c.status] || c.status)}</span><span class="gs-src">${esc(c.source)}</span></div>
    </div>`).join('') || '<div class="gs-src">No cases.</div>';
  root.dataset.count = String((W.data.cases || []).length);
  if (!W.restored && W.data.cases && W.data.cases.length) {
    W.restored = true;
    const m = /#case=([0-9a-f]{64})/.exec(location.hash);
    if (m && W.data.cases.some((c) => c.sha256 === m[1])) open(m[1]);
  }
}

root.addEventListener('click', (e) => {
  const c = e.target.closest('.gs-case');
  if (c) open(c.dataset.case);
});
function move(dir) {
  const cases = (W.data && W.data.cases) || [];
  if (!cases.length) return;
  const i = cases.findIndex((c) => c.sha256 === W.data.current);
  const j = i < 0 ? 0 : Math.max(0, Math.min(cases.length - 1, i + dir));
  if (j !== i) open(cases[j].sha256);
}
gs.bindKeys('worklist', { j: () => move(1), k: () => move(-1), ArrowDown: () => move(1), ArrowUp: () => move(-1) });

watch('value', () => render(props.value));
render(props.value);
