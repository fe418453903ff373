// The page's stylesheet and script, served from the package as they are (no build step).

export const STYLE_CSS = `
body { font-family: system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { background: #2d4f6c; color: #fff; padding: .5em 1em; display: flex; gap: 1.5em; align-items: center; }
header a { color: #fff; text-decoration: none; } header a:hover { text-decoration: underline; }
header form { margin-left: auto; } header .who { opacity: .8; }
main { padding: 1em 1.5em; }
table { border-collapse: collapse; margin: .5em 0 1em; background: #fff; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; font-size: .92em; }
th { background: #eef2f5; }
.ok { color: #176a2c; } .bad { color: #a11; } .muted { color: #777; }
.status-complete { color: #176a2c; } .status-failed, .status-interrupted { color: #a11; } .status-running { color: #a60; }
.flash { padding: .5em 1em; border: 1px solid #c99; background: #fee; margin: .5em 0; }
.flash.info { border-color: #9c9; background: #efe; }
.columns { display: flex; gap: 2em; align-items: flex-start; flex-wrap: wrap; }
fieldset { border: 1px solid #ccc; margin: .5em 0; background: #fff; }
label { display: inline-block; margin: .15em .6em .15em 0; }
input[type=text], input[type=password], input[type=number], input[type=date], select { padding: .2em; }
#progress { min-width: 22em; border: 1px solid #ccc; background: #fff; padding: .5em 1em; }
pre.explain { background: #fff; border: 1px solid #ccc; padding: .5em; max-height: 40em; overflow: auto; font-size: .85em; }
button { padding: .25em .8em; }
`;

/** Polls /api/jobs/<id> while a job runs, shows its progress, and reloads the page when it ends. */
export const APP_JS = `
(function () {
  var box = document.getElementById('progress');
  if (!box || !box.dataset.job || box.dataset.running !== '1') return;
  var id = box.dataset.job;
  function text(t) { return String(t).replace(/[&<>"]/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]; }); }
  function render(j) {
    var rows = ['<h3>' + text(j.kind === 'retrieve' ? 'Retrieve' : 'Query') + ' in progress</h3>',
      '<p>Stage: <b id="stage">' + text(j.stage) + '</b> <span class="muted">' + text(j.detail || '') + '</span></p>'];
    var finds = Object.keys(j.finds || {});
    if (finds.length) {
      rows.push('<table><tr><th>Query</th><th>Responses</th></tr>');
      finds.forEach(function (k) { rows.push('<tr><td>' + text(k) + '</td><td>' + j.finds[k] + '</td></tr>'); });
      rows.push('</table>');
    }
    if (j.movesTotal) rows.push('<p id="moves">Moves: ' + j.movesDone + ' of ' + j.movesTotal + '; sub-operations completed ' + j.completed + ', failed ' + j.failed + ', warning ' + j.warning + '; objects arrived ' + j.arrived + '</p>');
    if (j.warnings && j.warnings.length) rows.push('<p class="bad">' + j.warnings.length + ' warning(s): ' + text(j.warnings[j.warnings.length - 1]) + '</p>');
    box.innerHTML = rows.join('');
  }
  function poll() {
    fetch('/api/jobs/' + encodeURIComponent(id), { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (j) {
      if (j.error && !j.kind) { box.innerHTML = '<p class="bad">' + text(j.error) + '</p>'; return; }
      render(j);
      if (j.done) { setTimeout(function () { location.reload(); }, 200); return; }
      setTimeout(poll, 300);
    }).catch(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
`;
