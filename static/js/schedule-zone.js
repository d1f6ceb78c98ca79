/*
 * The zone label under a schedule field (cms/panels.py), redone for the date picked:
 * a June date reads PDT, UTC-07:00 even in January. The zone's own rules come from
 * the browser's Intl time-zone data, so the label matches what the server will store.
 */
(() => {
  const WALL = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?/;

  // Minutes the zone is ahead of UTC at an instant.
  function offsetAt(zone, instant) {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    }).formatToParts(new Date(instant));
    const part = (type) => Number(parts.find((p) => p.type === type).value);
    const asUTC = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour') % 24,
      part('minute'), part('second'));
    return Math.round((asUTC - Math.floor(instant / 1000) * 1000) / 60000);
  }

  // The instant a wall-clock time names in the zone (the earlier one in a repeated hour).
  function instantOf(zone, wallAsUTC) {
    const first = wallAsUTC - offsetAt(zone, wallAsUTC) * 60000;
    return wallAsUTC - offsetAt(zone, first) * 60000;
  }

  function abbreviation(zone, instant) {
    const part = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'short' })
      .formatToParts(new Date(instant)).find((p) => p.type === 'timeZoneName');
    return part ? part.value : '';
  }

  function offsetText(minutes) {
    const sign = minutes < 0 ? '-' : '+';
    const abs = Math.abs(minutes);
    const pad = (n) => String(n).padStart(2, '0');
    return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  }

  function update(label, input) {
    const match = WALL.exec(input.value.trim());
    const zone = label.dataset.scheduleZone;
    const [, y, mo, d, h, mi, s] = match || [];
    const instant = match
      ? instantOf(zone, Date.UTC(+y, +mo - 1, +d, +h, +mi, +(s || 0)))
      : Date.now();
    label.querySelector('[data-zone-abbr]').textContent = abbreviation(zone, instant);
    label.querySelector('[data-zone-offset]').textContent = offsetText(offsetAt(zone, instant));
  }

  // Wagtail's date picker floats over the page (appended to <body>) and, in the schedule
  // dialog, covers the expiry field and the "Save schedule" button. There it is moved
  // into the dialog, after its field, and laid out in the flow (static/css/schedule-zone.css):
  // it pushes the buttons down instead of covering them.
  function keepPickerInFlow(input) {
    const dialog = input.closest('[role="dialog"], dialog, .w-dialog');
    if (!dialog || !window.jQuery) return;
    const picker = window.jQuery(input).data('xdsoft_datetimepicker');
    if (!picker || !picker[0]) return;
    const field = input.closest('[data-field-wrapper], .w-field__wrapper') || input.parentElement;
    if (picker[0].previousElementSibling !== field) field.after(picker[0]);
    picker[0].classList.add('schedule-picker-in-flow');
    // The picker closes when its field loses focus or on a mousedown outside it; closed,
    // it no longer pushes the buttons down, so they would move between mousedown and
    // mouseup and the click be lost. A press on a dialog button keeps focus and picker
    // as they are, so the click lands (keyboard users reach the button by Tab as usual).
    dialog.querySelectorAll('button').forEach((button) => {
      if (button.dataset.schedulePickerKept) return;
      button.dataset.schedulePickerKept = 'true';
      button.addEventListener('mousedown', (event) => {
        event.preventDefault();
        event.stopPropagation();
      });
    });
  }

  function bind() {
    document.querySelectorAll('[data-schedule-zone-for]').forEach((label) => {
      const input = document.getElementById(label.dataset.scheduleZoneFor);
      if (!input || input.dataset.scheduleZoneBound) return;
      input.dataset.scheduleZoneBound = 'true';
      ['focus', 'click', 'input'].forEach((type) =>
        input.addEventListener(type, () => keepPickerInFlow(input)));
      keepPickerInFlow(input);
      const redo = () => update(label, input);
      ['input', 'change', 'blur'].forEach((type) => input.addEventListener(type, redo));
      // The date picker reports a pick through jQuery, which native listeners miss.
      if (window.jQuery) window.jQuery(input).on('change', redo);
      redo();
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', bind);
  } else {
    bind();
  }
})();
