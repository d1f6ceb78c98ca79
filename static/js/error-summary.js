/*
 * An error summary at the top of the editor (issue 16): every field error on the page,
 * including those on a hidden tab (a slug clash on "Promote") and in the closed schedule
 * dialog (a daylight-saving gap, with the valid choices), is listed by tab and field,
 * announced (role="alert"), and each entry opens its tab or dialog and focuses the field.
 */
(() => {
  // The heading comes translated from the server (publishing/scheduler/wagtail_hooks.py).
  const script = document.currentScript;
  const HEADING = (script && script.dataset.heading) || 'Not saved. Please correct:';

  function text(element) {
    return element ? element.textContent.replace(/\s+/g, ' ').trim() : '';
  }

  // A label's or tab's words, without the required mark or error count inside it.
  function plain(element) {
    if (!element) return '';
    const copy = element.cloneNode(true);
    copy.querySelectorAll('.w-required-mark, [data-w-count-target], .w-tabs__errors, .w-sr-only')
      .forEach((e) => e.remove());
    return text(copy).replace(/\s*\(\s*\d*\s*\)\s*$/, '').replace(/\*$/, '').trim();
  }

  function where(error) {
    const dialog = error.closest('[role="dialog"]');
    if (dialog) {
      const title = dialog.querySelector('[id^="title-"]') || dialog.querySelector('h2');
      return { area: text(title), open: () => {
        const opener = document.querySelector(`[data-a11y-dialog-show="${dialog.id}"], [data-w-dialog-target-value="${dialog.id}"]`)
          || Array.from(document.querySelectorAll('button')).find((b) => /schedule/i.test(text(b)) && b.offsetParent !== null);
        if (opener) opener.click();
      } };
    }
    const panel = error.closest('[role="tabpanel"]');
    if (panel) {
      const tab = document.getElementById(panel.getAttribute('aria-labelledby'))
        || document.querySelector(`[role="tab"][href="#${panel.id}"]`);
      const name = tab && (tab.querySelector('[data-tabs-label], .w-tabs__label') || tab);
      return { area: plain(name), open: () => tab && tab.click() };
    }
    return { area: '', open: () => {} };
  }

  function build() {
    const form = document.querySelector('form#page-edit-form')
      || document.querySelector('form[data-edit-form]');
    if (!form || document.getElementById('editor-error-summary')) return;
    // Field errors anywhere in the editor: the schedule dialog lives outside the form.
    const errors = Array.from(document.querySelectorAll('[data-field-errors] .error-message'))
      .filter((e) => text(e) && !e.closest('#editor-error-summary'));
    if (!errors.length) return;
    const summary = document.createElement('div');
    summary.id = 'editor-error-summary';
    summary.className = 'help-block help-critical editor-error-summary';
    summary.setAttribute('role', 'alert');
    summary.setAttribute('tabindex', '-1');
    const heading = document.createElement('h2');
    heading.textContent = HEADING;
    summary.append(heading);
    const list = document.createElement('ul');
    errors.forEach((error) => {
      const wrapper = error.closest('[data-field-wrapper], .w-field__wrapper');
      const input = wrapper && wrapper.querySelector('input:not([type="hidden"]), select, textarea');
      const label = (input && (document.getElementById(`${input.id}-label`)
        || document.querySelector(`label[for="${input.id}"]`)))
        || (wrapper && wrapper.querySelector('label, legend, .w-field__label'));
      const place = where(error);
      const item = document.createElement('li');
      const link = document.createElement('a');
      link.href = input && input.id ? `#${input.id}` : '#';
      link.dataset.errorTab = place.area;
      link.textContent = [place.area, plain(label)].filter(Boolean).join(' › ');
      link.addEventListener('click', (event) => {
        event.preventDefault();
        place.open();
        if (input) window.setTimeout(() => input.focus(), 50);
      });
      item.append(link, document.createTextNode(`: ${text(error)}`));
      list.append(item);
    });
    summary.append(list);
    form.prepend(summary);
  }

  // After "load": Wagtail's controllers have then moved the schedule dialog (kept in a
  // <template> in the HTML) into the page, where its errors can be found.
  if (document.readyState === 'complete') {
    build();
  } else {
    window.addEventListener('load', build);
  }
})();
