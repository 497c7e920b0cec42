// The dashboard: sign-in, then one view per hash route. Views return a cleanup function
// (closing WebSockets and live images) that runs when the route changes.
import { ApiError, get, request, setCsrf } from "./api.js";
import { h, toast } from "./dom.js";
import { adminView } from "./admin.js";
import { deviceView, devicesView } from "./devices.js";
import { plotsView } from "./plots.js";
import { recordingsView } from "./recordings.js";
import { webhooksView } from "./webhooks.js";

const main = document.getElementById("main");
const header = document.querySelector(".top");
let session = null;
let cleanup = null;

const routes = [
  [/^#\/devices$/, () => devicesView()],
  [/^#\/device\/(.+)$/, (m) => deviceView(decodeURIComponent(m[1]), session)],
  [/^#\/recordings$/, () => recordingsView(session)],
  [/^#\/plots$/, () => plotsView()],
  [/^#\/webhooks$/, () => webhooksView(session)],
  [/^#\/admin$/, () => (may("administer") ? adminView(session) : refused())],
];

// What the signed-in principal may do (GET /ui/session "may"); the server checks anyway.
function may(ability) {
  return Boolean(session && session.may && session.may[ability]);
}

// The admin page is not linked for others, and typed in it refuses and goes back.
function refused() {
  setTimeout(() => {
    if (location.hash === "#/admin") location.replace("#/devices");
  }, 1500);
  return {
    node: h(
      "section",
      { class: "card", role: "alert", "data-refused": "admin" },
      h("h1", {}, "Not available"),
      h("p", {}, "Users and keys are managed by administrators. Taking you back to the devices…"),
    ),
  };
}

function signInForm(message) {
  const error = h("p", { class: "error", role: "alert" }, message || "");
  const form = h(
    "form",
    { class: "card sign-in", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in to camnet"),
    h("label", { for: "username" }, "User"),
    h("input", { id: "username", name: "username", autocomplete: "username", required: true }),
    h("label", { for: "password" }, "Password"),
    h("input", {
      id: "password",
      name: "password",
      type: "password",
      autocomplete: "current-password",
      required: true,
    }),
    h("button", { type: "submit" }, "Sign in"),
    error,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const data = new FormData(form);
    try {
      const result = await request("POST", "/ui/session", {
        username: data.get("username"),
        password: data.get("password"),
      });
      signedIn(result.body);
      if (!location.hash || location.hash === "#/") location.hash = "#/devices";
      else render();
    } catch (e) {
      error.textContent = e instanceof ApiError ? e.message : "camnet did not answer";
    }
  });
  return form;
}

function signedIn(who) {
  session = who;
  setCsrf(who.csrf);
  header.hidden = false;
  header.querySelector(".who").textContent = `${who.user} (${who.role})`;
  const admin = header.querySelector("[data-admin]");
  admin.hidden = !(who.may ? who.may.administer : who.administrator);
}

function showSignIn(message) {
  session = null;
  setCsrf("");
  header.hidden = true;
  if (cleanup) cleanup();
  cleanup = null;
  main.replaceChildren(signInForm(message));
  main.querySelector("#username").focus();
}

async function render() {
  if (!session) return;
  if (cleanup) cleanup();
  cleanup = null;
  const hash = location.hash || "#/devices";
  for (const link of header.querySelectorAll("nav a")) {
    const current = hash.startsWith(link.getAttribute("href")) ||
      (hash.startsWith("#/device/") && link.getAttribute("href") === "#/devices");
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  for (const [pattern, view] of routes) {
    const match = hash.match(pattern);
    if (match) {
      main.replaceChildren(h("p", { class: "loading" }, "Loading…"));
      try {
        const result = await view(match);
        main.replaceChildren(result.node);
        cleanup = result.cleanup || null;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return;
        main.replaceChildren(h("p", { class: "error", role: "alert" }, String(e.message || e)));
      }
      main.focus({ preventScroll: true });
      return;
    }
  }
  location.hash = "#/devices";
}

header.querySelector(".sign-out").addEventListener("click", async () => {
  try {
    await request("DELETE", "/ui/session");
  } catch {
    // Signed out already (an expired session): the form below is what is left to show.
  }
  showSignIn("Signed out.");
});

window.addEventListener("camnet:signed-out", () => {
  if (session) {
    showSignIn("Your session ended; please sign in again.");
    toast("Signed out", "error");
  }
});
window.addEventListener("hashchange", render);

async function start() {
  try {
    signedIn(await get("/ui/session"));
    if (!location.hash) location.hash = "#/devices";
    await render();
  } catch {
    showSignIn("");
  }
}

start();
