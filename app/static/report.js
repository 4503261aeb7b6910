// Findings and the draft report: one card per sentence with accept / edit / reject, error
// category and clinical significance. Each action is sent at once (trigger 'review') with a
// fresh client_request_id; the card shows "saved" only when the server's answer - the
// reviews now in the store - comes back as the new value. Hover or click on a card asks the
// viewer to highlight its region and evidence; a click on a region in the viewer marks the
// sentences about it.
const root = element.querySelector('.gs-report');
const R = { data: null, sel: null, editing: null, pending: {} };
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const nice = (id) => String(id).replace(/_/g, ' ');

function options(list, value, empty) {
  return `<option value="">${esc(empty)}</option>` + list.map((v) => `<option value="${esc(v)}"${v === value ? ' selected' : ''}>${esc(nice(v))}</option>`).join('');
}

function renderFindings(d) {
  const box = root.querySelector('.gs-findings');
  if (!d.findings || !d.findings.length) {
    box.innerHTML = `<div class="gs-empty-note">${esc(d.findings_note || 'No findings: no classifier is loaded.')}</div>`;
    return;
  }
  box.innerHTML = d.findings.map((f) => `
    <div class="gs-finding" data-finding="${esc(f.finding)}" title="p = ${Number(f.probability).toFixed(3)}">
      <span>${esc(f.name || nice(f.finding))}</span>
      <span class="gs-bar"><i style="width:${(100 * f.probability).toFixed(1)}%"></i></span>
      <span class="gs-band gs-band-${esc(String(f.band).replace(/ /g, '_'))}">${esc(f.band)}</span>
    </div>`).join('');
}

function evidenceText(s) {
  const ev = s.evidence || {}, parts = [];
  if (ev.fixations && ev.fixations.length) parts.push(`${ev.fixations.length} fixation${ev.fixations.length > 1 ? 's' : ''}`);
  if (ev.dwell_s) parts.push(`${Number(ev.dwell_s).toFixed(1)} s dwell`);
  if (ev.attention_peak) parts.push('attention peak');
  if (ev.measurement) parts.push(`${nice(ev.measurement.id)} ${Number(ev.measurement.value).toFixed(2)}${ev.measurement.unit && ev.measurement.unit !== 'ratio' ? ' ' + ev.measurement.unit : ''}`);
  return parts.join(' · ');
}

function renderSentences(d) {
  const box = root.querySelector('.gs-sentences');
  if (!d.sentences || !d.sentences.length) {
    box.innerHTML = `<div class="gs-empty-note">${esc(d.sentences_note || 'No report sentences for this case.')}</div>`;
    return;
  }
  const reviews = d.reviews || {}, ro = !!d.readonly;
  box.innerHTML = d.sentences.map((s) => {
    const rv = reviews[s.id], status = rv ? rv.action : '';
    const text = rv && rv.action === 'edit' && rv.edited_text ? rv.edited_text : s.text;
    const pend = R.pending[s.id];
    const state = pend ? 'saving…' : rv ? `${{ accept: 'accepted', edit: 'edited', reject: 'rejected' }[rv.action]} · saved${rv.revision > 1 ? ` (revision ${rv.revision})` : ''}` : 'not reviewed';
    return `
    <div class="gs-sent${R.sel === s.id ? ' gs-selected' : ''}${R.editing === s.id ? ' gs-editing' : ''}" data-sid="${esc(s.id)}" data-status="${esc(status)}">
      <div class="gs-text">${esc(text)}</div>
      ${rv && rv.action === 'edit' ? `<div class="gs-orig">draft: ${esc(s.text)}</div>` : ''}
      <div class="gs-meta">
        ${(s.region_ids || []).map((r) => `<span class="gs-chip">${esc(nice(r))}</span>`).join('')}
        ${s.band ? `<span class="gs-band gs-band-${esc(s.band.replace(/ /g, '_'))}">${esc(s.band)}</span>` : ''}
        <span class="gs-ev">${esc(evidenceText(s))}</span>
      </div>
      <div class="gs-actions">
        <button data-act="accept" title="Accept (A)"${ro ? ' disabled' : ''}>Accept</button>
        <button data-act="edit" title="Edit (E)"${ro ? ' disabled' : ''}>Edit</button>
        <button data-act="reject" title="Reject (X)"${ro ? ' disabled' : ''}>Reject</button>
        <span class="gs-state">${esc(state)}</span>
      </div>
      <div class="gs-actions gs-grade">
        <select class="gs-cat" aria-label="Error category" title="Error category (for an edit or a rejection)"${ro ? ' disabled' : ''}>${options(d.categories || [], rv && rv.error_category, 'error category…')}</select>
        <select class="gs-sig" aria-label="Clinical significance" title="Clinical significance of the error"${ro ? ' disabled' : ''}>${options(d.significances || [], rv && rv.significance, 'significance…')}</select>
      </div>
      <div class="gs-edit">
        <textarea aria-label="Edited sentence">${esc(text)}</textarea>
        <div class="gs-actions"><button data-act="save">Save edit</button><button data-act="cancel">Cancel</button></div>
      </div>
    </div>`;
  }).join('');
  const p = root.querySelector('.gs-progress');
  const n = d.sentences.length, done = d.sentences.filter((s) => reviews[s.id]).length;
  p.textContent = `${done} of ${n} sentences reviewed`;
  root.dataset.reviewed = String(done);
}

function renderStudy(d) {
  const box = root.querySelector('.gs-study');
  if (!d.study && !d.turing) { box.innerHTML = ''; return; }
  if (d.turing) {
    box.innerHTML = d.completed ? '<div class="gs-done">Answered. Thank you.</div>' : `
      <div class="gs-turing-q">Was this scanpath made by a radiologist or by the model?</div>
      <div class="gs-actions"><button data-study="human">A radiologist</button><button data-study="model">The model</button></div>`;
  } else {
    box.innerHTML = d.completed ? '<div class="gs-done">Case completed.</div>'
      : '<button data-study="complete" class="gs-complete">Complete case and open the next &#9654;</button>';
  }
}

function render(d) {
  R.data = d || null;
  if (!d || !d.case) {
    root.querySelector('.gs-findings').innerHTML = '';
    root.querySelector('.gs-sentences').innerHTML = '<div class="gs-empty-note">Open a case to see its findings and draft report.</div>';
    return;
  }
  if (d.case !== root.dataset.case) { R.sel = null; R.editing = null; R.pending = {}; root.querySelector('.gs-region-note').textContent = ''; }
  // the server's answer settles every pending action it covers
  for (const sid of Object.keys(R.pending)) if ((d.answered || []).includes(R.pending[sid])) delete R.pending[sid];
  root.dataset.case = d.case;
  root.querySelector('.gs-findings-box').style.display = d.show_findings === false || d.turing ? 'none' : '';
  root.querySelector('.gs-report-box').style.display = d.turing ? 'none' : '';
  renderFindings(d);
  renderSentences(d);
  renderStudy(d);
  if (d.key !== R.openedKey) { R.openedKey = d.key; R.openedAt = performance.now(); }
  if (d.error) root.querySelector('.gs-progress').textContent = d.error;
  root.dataset.renderedCase = d.case;
}

function select(sid, scroll) {
  R.sel = sid;
  root.querySelectorAll('.gs-sent').forEach((c) => c.classList.toggle('gs-selected', c.dataset.sid === sid));
  const s = R.data && R.data.sentences.find((q) => q.id === sid);
  gs.emit('sentence-select', { case: R.data && R.data.case, sentence_id: sid, map: s && s.finding });
  if (scroll) root.querySelector(`.gs-sent[data-sid="${sid}"]`)?.scrollIntoView({ block: 'nearest' });
}

function send(sid, action, extra) {
  if (!R.data || R.data.readonly) return;
  const card = root.querySelector(`.gs-sent[data-sid="${sid}"]`);
  const id = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now()) + Math.random();
  R.pending[sid] = id;
  card.querySelector('.gs-state').textContent = 'saving…';
  trigger('review', {
    case: R.data.case, key: R.data.key, assignment_id: R.data.assignment_id || null,
    prediction_id: R.data.prediction_id, sentence_id: sid, action,
    edited_text: extra && extra.edited_text, client_request_id: id,
    error_category: card.querySelector('.gs-cat').value || null,
    significance: card.querySelector('.gs-sig').value || null,
  });
}

root.addEventListener('click', (e) => {
  const st = e.target.closest('[data-study]');
  if (st && R.data) {
    const id = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now()) + Math.random();
    const kind = st.dataset.study;
    st.disabled = true;
    trigger(kind === 'complete' ? 'complete' : 'turing', {
      key: R.data.key, assignment_id: R.data.assignment_id, answer: kind, client_request_id: id,
      seconds: (performance.now() - (R.openedAt || performance.now())) / 1000,
    });
    return;
  }
  const card = e.target.closest('.gs-sent');
  const f = e.target.closest('.gs-finding');
  if (f) { gs.emit('finding-select', { finding: f.dataset.finding }); return; }
  if (!card) return;
  const sid = card.dataset.sid, b = e.target.closest('button');
  if (R.sel !== sid) select(sid);
  if (!b) return;
  const act = b.dataset.act;
  if (act === 'accept' || act === 'reject') send(sid, act);
  else if (act === 'edit') startEdit(sid);
  else if (act === 'cancel') { R.editing = null; card.classList.remove('gs-editing'); }
  else if (act === 'save') {
    const t = card.querySelector('textarea').value.trim();
    if (!t) return;
    R.editing = null; card.classList.remove('gs-editing');
    send(sid, 'edit', { edited_text: t });
  }
});
function startEdit(sid) {
  const card = root.querySelector(`.gs-sent[data-sid="${sid}"]`);
  if (!card || (R.data && R.data.readonly)) return;
  R.editing = sid; card.classList.add('gs-editing');
  const ta = card.querySelector('textarea'); ta.focus(); ta.setSelectionRange(ta.value.length, ta.value.length);
}
root.addEventListener('mouseover', (e) => {
  const card = e.target.closest('.gs-sent');
  if (card && R.data) {
    const s = R.data.sentences.find((q) => q.id === card.dataset.sid);
    gs.emit('sentence-select', { case: R.data.case, sentence_id: card.dataset.sid, map: s && s.finding });
  }
});
root.addEventListener('mouseleave', () => { if (R.data) gs.emit('sentence-select', { case: R.data.case, sentence_id: R.sel }); });

gs.on('region-click', 'report', (d) => {
  if (!R.data || d.case !== R.data.case) return;
  const note = root.querySelector('.gs-region-note');
  const hits = d.region_id ? R.data.sentences.filter((s) => (s.region_ids || []).includes(d.region_id)) : [];
  root.querySelectorAll('.gs-sent').forEach((c) => c.classList.toggle('gs-region-match', hits.some((s) => s.id === c.dataset.sid)));
  note.textContent = d.region_id ? `${nice(d.region_id)}: ${hits.length ? hits.length + ' sentence' + (hits.length > 1 ? 's' : '') : 'no sentence about this region'}` : '';
  root.dataset.regionMatches = hits.map((s) => s.id).join(' ');
  if (hits.length) root.querySelector(`.gs-sent[data-sid="${hits[0].id}"]`)?.scrollIntoView({ block: 'nearest' });
});

function move(dir) {
  if (!R.data || !R.data.sentences.length) return;
  const ids = R.data.sentences.map((s) => s.id), i = ids.indexOf(R.sel);
  select(ids[Math.max(0, Math.min(ids.length - 1, i < 0 ? 0 : i + dir))], true);
}
gs.bindKeys('report', {
  n: () => move(1), p: () => move(-1),
  a: () => R.sel && send(R.sel, 'accept'),
  x: () => R.sel && send(R.sel, 'reject'),
  e: () => R.sel && startEdit(R.sel),
});

const receive = gs.receiver(render);
gs.on('case-values', 'report', (v) => receive(v.report));
watch('value', () => receive(props.value));
receive(props.value);
