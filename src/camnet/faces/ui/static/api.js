// Requests to camnet with the session cookie (sent by the browser; scripts never see it)
// and the session's CSRF value on every state-changing request. Nothing is stored.

let csrf = "";

export function setCsrf(value) {
  csrf = value || "";
}

export class ApiError extends Error {
  constructor(status, body) {
    super(messageOf(status, body));
    this.status = status;
    this.body = body;
  }
}

function messageOf(status, body) {
  if (body && typeof body === "object") {
    if (typeof body.message === "string") return body.message;
    if (body.error && typeof body.error === "object" && body.error.message) return body.error.message;
    if (Array.isArray(body.detail)) return body.detail.map((d) => d.msg).join("; ");
    if (typeof body.detail === "string") return body.detail;
  }
  return `HTTP ${status}`;
}

export async function request(method, path, body, extraHeaders = {}) {
  // Sent on every request (empty before sign-in): it also tells camnet that a script
  // asks, so a refusal does not carry a Basic challenge (a browser would prompt).
  const headers = { Accept: "application/json", "X-Camnet-CSRF": csrf, ...extraHeaders };
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && path !== "/ui/session") {
      window.dispatchEvent(new CustomEvent("camnet:signed-out"));
    }
    throw new ApiError(response.status, parsed);
  }
  return { body: parsed, headers: response.headers, status: response.status };
}

export const get = async (path) => (await request("GET", path)).body;
export const post = async (path, body) => (await request("POST", path, body)).body;
export const put = async (path, body, headers) => (await request("PUT", path, body, headers)).body;
export const del = async (path, headers) => (await request("DELETE", path, undefined, headers)).body;
