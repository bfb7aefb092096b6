// What the browser stories share: a failed check stops the story with its message, each
// step is printed as it begins, and a token's claims can be looked at.

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

export function step(text) {
  console.log(`- ${text}`);
}

// A JWT's claims, unverified: only to see what an app was given.
export function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}
