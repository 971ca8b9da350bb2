/// The web app's one stylesheet: system fonts, high contrast (every pair of text and
/// background colours here is at least 4.5:1), a visible focus ring, one column on a phone,
/// and a print style that leaves only the page's content.
enum Stylesheet {
    static let text = #"""
:root { --ink: #1b1f24; --muted: #4a5360; --line: #c9d1da; --paper: #ffffff; --wash: #f3f6f9;
  --accent: #0b5cad; --accent-ink: #ffffff; --danger: #a3161d; --ok: #17652f; --warn: #7a4d00; --focus: #f2b300; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; font-size: 100%; color: var(--ink); background: var(--wash); }
body { margin: 0; line-height: 1.5; }
a { color: var(--accent); }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--paper); padding: .5rem 1rem; }
.skip:focus { left: .5rem; z-index: 10; }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .5rem 1rem; background: #0f2a44; color: #fff; }
.top a, .top button { color: #fff; }
.brand { margin: 0; font-weight: 700; font-size: 1.15rem; }
.brand a { text-decoration: none; }
.clinic { font-weight: 400; opacity: .9; margin-left: .5rem; }
.top nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: 0; padding: 0; list-style: none; }
.top nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
.sign-out { margin-left: auto; display: flex; align-items: center; gap: .5rem; }
.sign-out button { margin-top: 0; background: transparent; border: 1px solid #fff; border-radius: 4px; padding: .2rem .6rem; font: inherit; cursor: pointer; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
main:focus { outline: none; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
.panel { background: var(--paper); border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin-bottom: 1rem; }
.narrow { max-width: 26rem; margin: 2rem auto; }
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
input, select, textarea { font: inherit; width: 100%; padding: .45rem .5rem; border: 1px solid #6b7683; border-radius: 4px; background: #fff; color: var(--ink); }
input[aria-invalid="true"], select[aria-invalid="true"] { border: 2px solid var(--danger); }
.hint { color: var(--muted); font-size: .9rem; margin: .2rem 0 0; }
.field-error { color: var(--danger); font-weight: 600; margin: .2rem 0 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 0 1rem; }
button, .button { display: inline-block; font: inherit; font-weight: 600; background: var(--accent); color: var(--accent-ink); border: 0; border-radius: 4px;
  padding: .5rem 1rem; margin-top: 1rem; cursor: pointer; text-decoration: none; }
.button.secondary, button.secondary { background: #fff; color: var(--accent); border: 1px solid var(--accent); }
.alert { border-left: 6px solid var(--danger); background: #fdecec; padding: .75rem 1rem; margin-bottom: 1rem; }
.notice { border-left: 6px solid var(--ok); background: #e9f6ee; padding: .75rem 1rem; }
.idle-warning { position: fixed; bottom: 1rem; right: 1rem; max-width: 22rem; background: #fff8e5; color: var(--ink); border: 2px solid var(--warn); border-radius: 6px; padding: 1rem; z-index: 20; }
table { width: 100%; border-collapse: collapse; background: var(--paper); }
th, td { text-align: left; padding: .45rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--wash); }
.counts { display: flex; flex-wrap: wrap; gap: 1rem; padding: 0; list-style: none; }
.counts li { background: var(--paper); border: 1px solid var(--line); border-radius: 6px; padding: .5rem 1rem; min-width: 8rem; }
.counts strong { display: block; font-size: 1.6rem; }
.search { display: flex; gap: .5rem; align-items: end; }
.search div { flex: 1; }
.search button { margin-top: 0; }
dl.details { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dl.details dt { font-weight: 600; color: var(--muted); }
dl.details dd { margin: 0; }
form.inline { display: inline-block; margin: 0 .25rem .25rem 0; }
form.inline button { margin-top: 0; padding: .2rem .6rem; }
meter { width: 12rem; height: 1.1rem; }
.status { display: inline-block; padding: 0 .4rem; border-radius: 3px; border: 1px solid var(--line); background: var(--wash); }
fieldset { border: 1px solid var(--line); }
legend { font-weight: 700; padding: 0 .25rem; }
.prescription .clinic-name { font-size: 1.2rem; font-weight: 600; margin-top: 0; }
.signature { margin-top: 3rem; }
@media (max-width: 40rem) {
  .top { padding: .5rem; }
  .sign-out { margin-left: 0; }
  main { padding: .5rem; }
  table, thead, tbody, tr, th, td { display: block; }
  thead { position: absolute; left: -999px; }
  td { border: 0; padding: .15rem .5rem; }
  tr { border-bottom: 1px solid var(--line); padding: .4rem 0; }
  .search { flex-direction: column; align-items: stretch; }
}
@media print {
  .top, .skip, .no-print, .idle-warning, form { display: none !important; }
  html, body, .panel { background: #fff; border: 0; }
  main { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
}
"""#
}
