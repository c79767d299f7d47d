// Open modal dialogs, topmost last. Escape and the focus trap belong to the top one,
// and window-wide shortcuts stay quiet while any is open.
const stack: symbol[] = [];

export function pushModal(name: string): symbol {
  const token = Symbol(name);
  stack.push(token);
  return token;
}

export function removeModal(token: symbol): void {
  const i = stack.indexOf(token);
  if (i >= 0) stack.splice(i, 1);
}

export const isTopModal = (token: symbol): boolean => stack[stack.length - 1] === token;
export const isModalOpen = (): boolean => stack.length > 0;
