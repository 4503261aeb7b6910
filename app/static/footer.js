// The footer: disclaimer and the models that read the open case (HTML built and escaped in
// Python). Updated by the queued events and, for a case opened through the fast path, by the bus.
const box = element.querySelector('.gs-footer-body');
const show = (html) => { if (typeof html === 'string') box.innerHTML = html; };
gs.on('case-values', 'footer', (v) => show(v.footer));
watch('value', () => show(props.value));
show(props.value);
