// The client's routes: the inbox at `/`, the full customer card at `/customers/<id>`, in the
// browser's history (Back works; the gateways serve the app for every path).
import { useEffect, useState } from "react";

export function customerIdOf(path: string): string | null {
  const match = /^\/customers\/([^/]+)\/?$/.exec(path);
  return match ? decodeURIComponent(match[1]) : null;
}

export function useRoute(): { path: string; navigate: (path: string) => void } {
  const [path, setPath] = useState(() => window.location.pathname);
  useEffect(() => {
    const onPop = () => setPath(window.location.pathname);
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  const navigate = (next: string) => {
    if (next !== window.location.pathname) window.history.pushState(null, "", next);
    setPath(next);
  };
  return { path, navigate };
}
