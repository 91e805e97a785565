/** The single-page app: hash routes (#/inbox, #/instances/ID, ...), navigation by role. */

import "./style.css";
import { h, clear } from "./dom";
import { hasRole, restore, signOut, signOutEverywhere, user } from "./session";
import type { Role } from "./types";
import { renderLogin } from "./pages/login";

export type Cleanup = () => void;

export interface PageModule {
  render(root: HTMLElement, args: string[]): Cleanup | void | Promise<Cleanup | void>;
}

interface Route {
  path: string;
  title: string;
  roles: Role[];
  load: () => Promise<PageModule>;
}

const ROUTES: Route[] = [
  { path: "inbox", title: "Inbox", roles: ["supervisor", "engineer"], load: () => import("./pages/inbox") },
  { path: "station", title: "Station", roles: ["operator", "supervisor"], load: () => import("./pages/station") },
  { path: "orders", title: "Orders", roles: ["supervisor", "engineer"], load: () => import("./pages/orders") },
  { path: "lots", title: "Lots", roles: ["supervisor", "engineer"], load: () => import("./pages/lots") },
  { path: "instances", title: "Instances", roles: ["engineer", "supervisor"], load: () => import("./pages/instances") },
  { path: "modeler", title: "Modeler", roles: ["engineer"], load: () => import("./pages/modeler") },
  { path: "dashboards", title: "Dashboards", roles: ["supervisor", "engineer"], load: () => import("./pages/dashboards") },
  { path: "equipment", title: "Equipment", roles: ["engineer", "supervisor"], load: () => import("./pages/equipment") },
  { path: "audit", title: "Audit", roles: ["supervisor", "engineer"], load: () => import("./pages/audit") },
  { path: "users", title: "Users", roles: ["admin"], load: () => import("./pages/users") },
];

const app = document.getElementById("app")!;
let cleanup: Cleanup | null = null;

function allowedRoutes(): Route[] {
  return ROUTES.filter((route) => hasRole(...route.roles));
}

function navigation(active: string): HTMLElement {
  const me = user()!;
  return h(
    "header",
    { class: "topbar" },
    h("span", { class: "brand" }, "Smart MOM"),
    h(
      "nav",
      {},
      allowedRoutes().map((route) =>
        h("a", { href: `#/${route.path}`, class: route.path === active ? "active" : null, "data-nav": route.path }, route.title),
      ),
    ),
    h(
      "span",
      { class: "who", "data-testid": "who" },
      `${me.full_name ?? me.username} · ${me.roles.join(", ") || "no role"}`,
      h("button", { class: "link", "data-testid": "sign-out",
        onclick: () => void signOutEverywhere().then(() => { location.hash = "#/login"; }) }, "Sign out"),
    ),
  );
}

async function route(): Promise<void> {
  cleanup?.();
  cleanup = null;
  const [path = "", ...args] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (!user() || path === "login") {
    clear(app);
    renderLogin(app, () => { location.hash = `#/${allowedRoutes()[0]?.path ?? "login"}`; void route(); });
    return;
  }
  const allowed = allowedRoutes();
  const chosen = allowed.find((r) => r.path === path);
  if (!chosen) {
    if (allowed.length) location.hash = `#/${allowed[0].path}`;
    else clear(app, navigation(""), h("main", {}, h("p", {}, "Your account has no role that uses this UI yet; ask an administrator.")));
    return;
  }
  const main = h("main", { class: `page page-${chosen.path}` });
  clear(app, navigation(chosen.path), main);
  document.title = `${chosen.title} · Smart MOM`;
  const page = await chosen.load();
  cleanup = (await page.render(main, args)) || null;
}

window.addEventListener("hashchange", () => void route());
window.addEventListener("mom:signed-out", () => { signOut(); location.hash = "#/login"; });
void restore().then(() => route());
