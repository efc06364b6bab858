/**
 * Closing a connection whose client is still sending, without losing the answer. Closing a
 * TCP socket with unread input makes the kernel reset the connection, and a reset can throw away
 * the answer before the client read it (seen here with four concurrent 50 MB uploads answered
 * 401). So the lab closes such connections the way web servers do ("lingering close"): answer,
 * send FIN, keep reading and dropping input for a short while, then close.
 */
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";

/** How long the lab keeps dropping a client's input after answering it, at most. */
export const LINGER_MS = 2_000;

const lingering = new WeakSet<Duplex>();

/** Whether the socket is closing already (a later parser error on it needs no answer). */
export function isLingering(socket: Duplex): boolean {
  return lingering.has(socket);
}

/** Ends the socket (after `answer`, if any), drops what still arrives, and destroys it within LINGER_MS. */
export function closeLingering(socket: Duplex, answer?: Buffer): void {
  if (lingering.has(socket)) return;
  lingering.add(socket);
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
  // The client closed its side: it has all it will read.
  socket.once("end", () => socket.destroy());
  socket.on("error", () => socket.destroy());
  socket.resume();
  if (answer) socket.end(answer);
  else socket.end();
}

/**
 * Makes the HTTP server's own close after an answer with `Connection: close` (every error
 * answer) a lingering one: Node ends such a socket with `destroySoon` (FIN, then destroy as
 * soon as it is flushed, unread input or not); the lab replaces that on each of its sockets.
 */
export function lingerAfterAnswer(socket: Socket): void {
  socket.destroySoon = (): void => closeLingering(socket);
}
