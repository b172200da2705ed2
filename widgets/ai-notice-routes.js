// Single-page apps: the notice follows the route (docs/widget.md), by the service's
// route rules the page carries (<script type="application/json" data-ai-notice-routes>,
// from `ai-disclosure render --routes`). Loaded by ai-notice.js when a page has them.

/** The path as the server's router sees it (dot segments, repeated slashes). */
export const normalizePath = (path) => {
  const out = [];
  for (const part of path.split("/")) part === ".." ? out.pop() : part && part !== "." && out.push(part);
  return "/" + out.join("/") + (out.length && /\/\.{0,2}$/.test(path) ? "/" : "");
};

/** The systems of the first rule `[pattern, systems]` matching a path (`*`: anything). */
export const routeSystems = (rules, path) => {
  const p = normalizePath(path);
  for (const [pattern, systems] of rules) {
    const re = new RegExp(`^${pattern.split("*").map((x) => x.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "s");
    if (re.test(p)) return systems;
  }
  return [];
};

/** Keep the notice on the current route's systems; `say` announces a system the first time a route change shows it. */
export const follow = (host, rules, say) => {
  const seen = new Set();
  const update = (changed) => {
    const on = new Set(routeSystems(rules, location.pathname));
    let shown = 0;
    for (const item of host.querySelectorAll("[data-ai-notice-system]")) {
      const key = item.getAttribute("data-ai-notice-system");
      item.hidden = !on.has(key);
      if (item.hidden) continue;
      shown++;
      if (changed && !seen.has(key)) say(item.querySelector(".ai-notice__label").textContent);
      seen.add(key);
    }
    host.hidden = !shown;
  };
  for (const name of ["pushState", "replaceState"]) {
    const native = history[name];
    history[name] = function (...args) {
      const result = native.apply(this, args);
      update(1);
      return result;
    };
  }
  addEventListener("popstate", () => update(1));
  update(0);
};
