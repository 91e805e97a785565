/** Who is signed in, and what each role may see (the API enforces it; the UI only hides). */

import { get, post, setToken, token } from "./api";
import type { Role, User } from "./types";

let current: User | null = null;

export function user(): User | null {
  return current;
}

export function hasRole(...roles: Role[]): boolean {
  if (!current) return false;
  return current.roles.includes("admin") || roles.some((role) => current!.roles.includes(role));
}

export async function signIn(username: string, password: string): Promise<User> {
  const form = new URLSearchParams({ username, password });
  const answer = await post<{ access_token: string }>("/auth/token", form);
  setToken(answer.access_token);
  return loadUser();
}

export async function loadUser(): Promise<User> {
  current = await get<User>("/auth/me");
  return current;
}

export async function restore(): Promise<User | null> {
  if (!token()) return null;
  try {
    return await loadUser();
  } catch {
    signOut();
    return null;
  }
}

/** Change one's own password: the API revokes every token of the user, so sign in again with it. */
export async function changePassword(username: string, currentPassword: string, newPassword: string): Promise<User> {
  await post<User>("/auth/password", { current_password: currentPassword, new_password: newPassword });
  return signIn(username, newPassword);
}

/** Forget the token here (after a 401, or once the API was told). */
export function signOut(): void {
  current = null;
  setToken(null);
}

/** Sign out at the API (every token of the user stops working, on every device), then here. */
export async function signOutEverywhere(): Promise<void> {
  try {
    if (token()) await post<void>("/auth/sign-out");
  } catch {
    // already signed out (401) or the API is down: the token is forgotten here all the same
  }
  signOut();
}
