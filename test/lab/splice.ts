import type net from 'node:net';

/** Joins two sockets both ways (half-close passes through); when either ends badly, both go. */
export function splice(a: net.Socket, b: net.Socket): void {
  const drop = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', drop).on('close', () => b.destroy());
  b.on('error', drop).on('close', () => a.destroy());
  a.pipe(b);
  b.pipe(a);
}
