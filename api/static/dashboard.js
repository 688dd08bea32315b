// repertory dashboard: actions with a visible outcome, live refresh, local times. No build step.
"use strict";

const flashBox = () => document.getElementById("flash");

function flash(kind, text) {
  const box = flashBox();
  box.hidden = false;
  box.className = kind;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  box.textContent = text;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "close";
  close.setAttribute("aria-label", "dismiss");
  close.textContent = "×";
  close.onclick = () => { box.hidden = true; };
  box.appendChild(close);
}

function pad(n) { return String(n).padStart(2, "0"); }

function localTimes(root) {
  for (const t of root.querySelectorAll("time[datetime]")) {
    const d = new Date(t.getAttribute("datetime"));
    if (isNaN(d)) continue;
    t.title = t.getAttribute("datetime").replace("+00:00", " UTC");
    t.textContent = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
}

function describe(answer, fallback) {
  if (answer && Array.isArray(answer.requeued)) return `${fallback}: ${answer.requeued.length} message(s)`;
  if (answer && Array.isArray(answer.purged)) return `${fallback}: ${answer.purged.length} message(s)`;
  if (answer && answer.status) return `${fallback}: the job is ${answer.status}`;
  if (answer && answer.job_id) return `${fallback}: job ${answer.job_id}`;
  return fallback;
}

async function act(button) {
  const [method, path] = button.dataset.action.split(" ");
  if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
  const label = button.textContent.trim();
  button.disabled = true;
  try {
    const init = {method, credentials: "same-origin", headers: {"Accept": "application/json"}};
    if (button.dataset.body) {
      init.body = button.dataset.body;
      init.headers["Content-Type"] = "application/json";
    }
    const response = await fetch(path, init);
    const answer = await response.json().catch(() => null);
    if (response.ok) {
      flash("ok", describe(answer, `${label}: ${button.dataset.done || "done"}`));
      await refresh(true);
    } else if (response.status === 401) {
      flash("error", `${label} failed: 401 ${answer && answer.error || "unauthorized"}; reload the page to sign in`);
    } else {
      flash("error", `${label} failed: ${response.status} ${answer && answer.error || response.statusText}`);
    }
  } catch (err) {
    flash("error", `${label} failed: the API did not answer (${err.message})`);
  } finally {
    button.disabled = false;
  }
}

let timer = null;

async function refresh(now) {
  const main = document.querySelector("main");
  if (!now && (document.hidden || main.querySelector("details[open]"))) return schedule();
  try {
    const response = await fetch(location.href, {credentials: "same-origin"});
    if (response.ok && !response.redirected) {
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = doc.querySelector("main");
      if (fresh) {
        main.innerHTML = fresh.innerHTML;
        if (fresh.dataset.refresh) main.dataset.refresh = fresh.dataset.refresh;
        else delete main.dataset.refresh;
        document.title = doc.title;
        localTimes(main);
        loadUserSchedules();
        document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
      }
    }
  } catch (err) {
    document.getElementById("updated").textContent = "not updated: " + err.message;
  }
  schedule();
}

function schedule() {
  clearTimeout(timer);
  const every = Number(document.querySelector("main").dataset.refresh || 0);
  if (every > 0) timer = setTimeout(() => refresh(false), every * 1000);
}

const esc = s => String(s ?? "").replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);

function localTime(epoch) {
  return epoch ? `<time datetime="${new Date(epoch * 1000).toISOString()}">${esc(epoch)}</time>` : "—";
}

function scheduleRow(s, source) {
  const when = s.cron ? `<code>${esc(s.cron)}</code> ${esc(s.timezone || "")}` : `every ${esc(s.every_s)} s`;
  const last = (s.last_runs || [])[0];
  const lastCell = last
    ? `${localTime(last.sent || last.planned)} <span class="${esc(last.outcome)}">${esc(last.outcome)}</span>` +
      (last.job_id ? ` <a href="/dashboard/jobs/${esc(last.job_id)}">${esc(last.job_id.slice(0, 8))}</a>` : "")
    : '<span class="muted">never</span>';
  const kind = s.job && s.job.kind ? esc(s.job.kind) : "";
  return `<tr id="schedule-${esc(s.name)}"><td>${esc(s.name)}</td><td>${esc(s.origin)}</td><td>${when}</td>` +
    `<td>${kind}</td><td>${s.paused ? '<span class="muted">paused</span>' : localTime(s.next_run)}</td>` +
    `<td class="text">${lastCell}</td><td><button data-action="POST ${esc(source)}/${encodeURIComponent(s.name)}/run" ` +
    `data-done="run queued">Run now</button></td></tr>`;
}

async function loadUserSchedules() {
  const box = document.getElementById("user-schedules");
  if (!box) return;
  try {
    const response = await fetch(box.dataset.source + "?runs=1", {credentials: "same-origin"});
    const answer = await response.json();
    if (!response.ok) throw new Error(`${response.status} ${answer.error || ""}`);
    const items = answer.schedules || [];
    const leader = answer.leader ? `scheduler: ${esc(answer.leader.holder || answer.leader.id || "leader")}` : "no scheduler is running: schedules fire only while one is";
    if (!items.length) { box.innerHTML = `<p class="muted">No schedules. ${leader}</p>`; return; }
    box.innerHTML = `<p class="muted">${leader}</p><div class="scroll"><table><thead><tr><th>name</th><th>origin</th>` +
      `<th>when</th><th>job</th><th>next run</th><th>last run</th><th></th></tr></thead><tbody>` +
      items.map(s => scheduleRow(s, box.dataset.source)).join("") + "</tbody></table></div>";
    localTimes(box);
  } catch (err) {
    box.innerHTML = "";
    const p = document.createElement("p");
    p.className = "problem";
    p.textContent = `could not read ${box.dataset.source}: ${err.message}`;
    box.appendChild(p);
  }
}

document.addEventListener("click", event => {
  const button = event.target.closest("button[data-action]");
  if (button) { event.preventDefault(); act(button); }
});

document.addEventListener("DOMContentLoaded", () => {
  localTimes(document);
  loadUserSchedules();
  schedule();
});
