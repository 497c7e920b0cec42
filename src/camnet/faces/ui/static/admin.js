// Users and API keys of the signed-in administrator's account (identity resources).
import { del, get, post, request } from "./api.js";
import { h, section, toast } from "./dom.js";

const ROLES = ["viewer", "operator", "admin"];

export async function adminView(session) {
  const account = session.account;
  const base = `/accounts/${encodeURIComponent(account)}`;
  const [users, keys] = await Promise.all([get(`${base}/users`), get(`${base}/apikeys`)]);
  const reload = () => window.dispatchEvent(new HashChangeEvent("hashchange"));

  const userRows = users.users.map((u) => {
    const enabled = h("input", {
      type: "checkbox",
      checked: u.enabled,
      "aria-label": `${u.username} enabled`,
      onchange: async (e) => {
        try {
          await request("PATCH", `${base}/users/${encodeURIComponent(u.username)}`, {
            enabled: e.target.checked,
            version: u.version,
          });
          reload();
        } catch (error) {
          e.target.checked = !e.target.checked;
          toast(error.message, "error");
        }
      },
    });
    return h("tr", {}, h("td", {}, u.username), h("td", {}, u.role), h("td", {}, u.email || "–"), h("td", {}, enabled));
  });
  const roleSelect = (id) => h("select", { id, name: "role" }, ROLES.map((r) => h("option", { value: r, selected: r === "operator" }, r)));
  const userForm = h(
    "form",
    { class: "stack", "aria-label": "Add a user" },
    h("label", { for: "new-username" }, "User name"),
    h("input", { id: "new-username", name: "username", required: true, autocomplete: "off" }),
    h("label", { for: "new-password" }, "Password (8 characters or more)"),
    h("input", { id: "new-password", name: "password", type: "password", minlength: 8, required: true, autocomplete: "new-password" }),
    h("label", { for: "new-email" }, "Email (optional)"),
    h("input", { id: "new-email", name: "email", type: "email" }),
    h("label", { for: "new-role" }, "Role"),
    roleSelect("new-role"),
    h("button", { type: "submit" }, "Add user"),
  );
  userForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(userForm);
    const body = { username: data.get("username"), password: data.get("password"), role: data.get("role") };
    if (data.get("email")) body.email = data.get("email");
    try {
      await post(`${base}/users`, body);
      toast(`User ${body.username} added`);
      reload();
    } catch (e) {
      toast(e.message, "error");
    }
  });

  const shownKey = h("p", { class: "secret", "aria-live": "polite" });
  const keyRows = keys.apikeys.map((k) =>
    h(
      "tr",
      {},
      h("td", {}, k.name),
      h("td", {}, k.role),
      h("td", {}, k.created),
      h("td", {}, k.revoked ? `revoked ${k.revoked}` : h("button", {
        type: "button",
        "aria-label": `Revoke key ${k.name}`,
        onclick: async () => {
          try {
            await del(`${base}/apikeys/${encodeURIComponent(k.name)}`);
            reload();
          } catch (e) {
            toast(e.message, "error");
          }
        },
      }, "Revoke")),
    ),
  );
  const keyForm = h(
    "form",
    { class: "stack", "aria-label": "Add an API key" },
    h("label", { for: "key-name" }, "Key name"),
    h("input", { id: "key-name", name: "name", required: true, pattern: "[A-Za-z0-9_.\\-]{1,64}" }),
    h("label", { for: "key-role" }, "Role"),
    roleSelect("key-role"),
    h("button", { type: "submit" }, "Create key"),
    shownKey,
  );
  keyForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(keyForm);
    try {
      const created = await post(`${base}/apikeys`, { name: data.get("name"), role: data.get("role") });
      shownKey.textContent = `Key ${created.name} (shown once): ${created.key}`;
    } catch (e) {
      toast(e.message, "error");
    }
  });
  const table = (heads, rows) =>
    h("div", { class: "scroll" }, h("table", {}, h("thead", {}, h("tr", {}, heads.map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, rows)));
  return {
    node: h(
      "div",
      {},
      h("h1", {}, `Users and API keys of ${account}`),
      h(
        "div",
        { class: "device-panels" },
        section("Users", table(["User", "Role", "Email", "Enabled"], userRows), userForm),
        section("API keys", table(["Name", "Role", "Created", ""], keyRows), keyForm),
      ),
    ),
  };
}
