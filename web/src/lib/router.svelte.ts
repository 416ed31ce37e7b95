// Hash routes (#/sales/<id>?province=10): one page, so the service worker serves it offline as it is.
export const route = $state<{ path: string[]; query: URLSearchParams }>(parse());

function parse() {
  const [path, search] = location.hash.replace(/^#\/?/, "").split("?");
  return { path: path ? path.split("/").map(decodeURIComponent) : [], query: new URLSearchParams(search ?? "") };
}

addEventListener("hashchange", () => Object.assign(route, parse()));

export function go(hash: string): void {
  location.hash = hash;
}
